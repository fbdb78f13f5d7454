/* t.c - the test runner behind t.h. */
#define _GNU_SOURCE
#include "t.h"

#include <stdarg.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#define T_MAX_CASES 1024

static struct {
    const char *name;
    t_fn fn;
} cases[T_MAX_CASES];
static size_t n_cases;
static unsigned long n_pass, n_fail, n_skip;
const char *t_current = "";

void t_register(const char *name, t_fn fn)
{
    if (n_cases == T_MAX_CASES) {
        fprintf(stderr, "t: too many cases\n");
        abort();
    }
    cases[n_cases].name = name;
    cases[n_cases].fn = fn;
    n_cases++;
}

void t_check(bool ok, const char *expr, const char *file, int line)
{
    if (ok) {
        n_pass++;
        return;
    }
    n_fail++;
    fprintf(stderr, "FAIL %s: %s:%d: %s\n", t_current, file, line, expr);
}

void t_fail_msg(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    (void)file;
    (void)line;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void t_skip(const char *name, const char *why)
{
    n_skip++;
    printf("SKIP %s: %s\n", name, why);
}

const char *t_shared(const char *rel)
{
    static char buf[4096];
    const char *base = getenv("WW_SHARED");
    if (base == NULL || *base == '\0')
        base = "../shared";
    snprintf(buf, sizeof buf, "%s/%s", base, rel);
    return buf;
}

const char *t_src(const char *rel)
{
    static char buf[4096];
    const char *base = getenv("WW_SRCDIR");
    if (base == NULL || *base == '\0')
        base = ".";
    snprintf(buf, sizeof buf, "%s/%s", base, rel);
    return buf;
}

uint8_t *t_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    size_t cap = 0, n = 0;
    if (f == NULL)
        return NULL;
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 65536;
            uint8_t *nb = realloc(buf, cap + 1);
            if (nb == NULL) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        if (r == 0)
            break;
        n += r;
    }
    fclose(f);
    buf[n] = 0;
    *len = n;
    return buf;
}

/* One guard region, reused: the data ends right at a PROT_NONE page. */
const uint8_t *t_guard(const void *p, size_t n)
{
    static uint8_t *region;
    static size_t region_size;
    long pg = sysconf(_SC_PAGESIZE);
    size_t need = ((n + (size_t)pg - 1) / (size_t)pg) * (size_t)pg + (size_t)pg;
    if (region == NULL || region_size < need) {
        if (region != NULL)
            munmap(region, region_size);
        region_size = need < (size_t)(1 << 20) ? (size_t)(1 << 20) : need;
        region = mmap(NULL, region_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (region == MAP_FAILED) {
            perror("mmap");
            abort();
        }
        mprotect(region + region_size - (size_t)pg, (size_t)pg, PROT_NONE);
    }
    uint8_t *dst = region + region_size - (size_t)pg - n;
    if (n > 0)
        memcpy(dst, p, n);
    return dst;
}

int main(int argc, char **argv)
{
    for (size_t i = 0; i < n_cases; i++) {
        bool run = argc < 2;
        for (int a = 1; a < argc; a++)
            if (strcmp(argv[a], cases[i].name) == 0)
                run = true;
        if (!run)
            continue;
        t_current = cases[i].name;
        unsigned long before = n_fail;
        cases[i].fn();
        if (getenv("T_VERBOSE") != NULL)
            printf("%s %s\n", n_fail == before ? "ok" : "FAILED", cases[i].name);
    }
    printf("%lu passed, %lu failed", n_pass, n_fail);
    if (n_skip > 0)
        printf(", %lu skipped", n_skip);
    printf("\n");
    return n_fail == 0 ? 0 : 1;
}
