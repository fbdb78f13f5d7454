/*
 * ww.c - shared helpers: errors, allocator, arena, hex, growable capped buffer, u256.
 */
#include "ww.h"

#include <malloc.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <unistd.h>

void ww_assert_fail(const char *expr, const char *file, int line)
{
    fprintf(stderr, "walletwatch: internal error: %s:%d: assertion '%s' failed\n", file, line,
            expr);
    abort();
}

const char *ww_strerror(int err)
{
    switch (err) {
    case WW_OK:
        return "success";
    case WW_E_PARTIAL:
        return "incomplete data";
    case WW_E_TRUNC:
        return "truncated";
    case WW_E_INVALID:
        return "malformed";
    case WW_E_TOOBIG:
        return "over size limit";
    case WW_E_UNSUPPORTED:
        return "unsupported";
    case WW_E_NOTFOUND:
        return "not found";
    case WW_E_IO:
        return "I/O error";
    case WW_E_DEPTH:
        return "nested too deep";
    case WW_E_OVERFLOW:
        return "length overflow";
    case WW_E_CRYPTO:
        return "cryptographic check failed";
    case WW_E_NOKEY:
        return "no key material";
    case WW_E_USAGE:
        return "usage error";
    case WW_E_NOMEM:
        return "out of memory";
    case WW_E_INTERNAL:
        return "internal error";
    default:
        return "unknown error";
    }
}

static void *def_malloc(size_t size, void *ud)
{
    (void)ud;
    return malloc(size);
}
static void def_free(void *ptr, void *ud)
{
    (void)ud;
    free(ptr);
}
static void *def_calloc(size_t nmemb, size_t size, void *ud)
{
    (void)ud;
    return calloc(nmemb, size);
}
static void *def_realloc(void *ptr, size_t size, void *ud)
{
    (void)ud;
    return realloc(ptr, size);
}

static const ww_mem default_mem = {NULL, def_malloc, def_free, def_calloc, def_realloc};

const ww_mem *ww_mem_default(void)
{
    return &default_mem;
}

void *ww_malloc(const ww_mem *mem, size_t size)
{
    if (mem == NULL)
        mem = &default_mem;
    return mem->malloc(size, mem->user_data);
}
void *ww_calloc(const ww_mem *mem, size_t nmemb, size_t size)
{
    if (mem == NULL)
        mem = &default_mem;
    return mem->calloc(nmemb, size, mem->user_data);
}
void *ww_realloc(const ww_mem *mem, void *ptr, size_t size)
{
    if (mem == NULL)
        mem = &default_mem;
    return mem->realloc(ptr, size, mem->user_data);
}
void ww_free(const ww_mem *mem, void *ptr)
{
    if (ptr == NULL)
        return;
    if (mem == NULL)
        mem = &default_mem;
    mem->free(ptr, mem->user_data);
}

/* ---- the heap's pages ---- */

/*
 * Transparent huge pages for the C library's heap. Decoding takes and gives back blocks of
 * hundreds of KiB to MiB (brotli ring buffers, zstd windows, ISA-L state, bodies) and looks
 * served addresses up at random; with 4 KiB pages that is ~76k minor page faults and as many
 * TLB-missing pages on the 1.1 GB browsing bench. glibc's malloc asks for huge pages
 * (MADV_HUGEPAGE on what it takes from the kernel) only under its tunable
 * glibc.malloc.hugetlb=1, which it reads from GLIBC_TUNABLES when the process starts: so the
 * process sets it and executes itself again, once. Opt-in (WW_HUGEPAGES=1): it costs ~22 MB of
 * peak RSS on that bench (partly touched 2 MiB pages) for ~8% less CPU, and the default keeps the
 * smaller peak. Not when GLIBC_TUNABLES is already set (the user's tunables win; it is also how
 * the second start knows), or the kernel's THP mode is not "madvise" ("always" gives them
 * anyway, "never" none).
 */
void ww_heap_hugepages(char **argv)
{
    const char *v = getenv("WW_HUGEPAGES");
    char mode[128];
    if (v == NULL || strcmp(v, "1") != 0 || getenv("GLIBC_TUNABLES") != NULL)
        return;
    FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
    if (f == NULL)
        return;
    bool madv = fgets(mode, sizeof mode, f) != NULL && strstr(mode, "[madvise]") != NULL;
    fclose(f);
    if (!madv || setenv("GLIBC_TUNABLES", "glibc.malloc.hugetlb=1", 1) != 0)
        return;
    execv("/proc/self/exe", argv);
    unsetenv("GLIBC_TUNABLES"); /* could not: run on as is */
}

/*
 * Large blocks get their own mappings. glibc serves a block of 128 KiB or more with mmap, but
 * once such a block is freed it raises that threshold (up to 32 MiB) and serves the next ones
 * from the heap: the decoders' blocks of every size (brotli ring buffers and zstd windows as
 * large as the sender chose, ISA-L state, bodies of 64 KiB to MiBs) then fragment it, and the
 * pages of freed blocks stay resident, so the peak RSS grew with the length of a capture (the
 * browsing bench: 204 MB at 1.1 GB, 302 MB at 10 GB, of which ~55 MB free pages that
 * malloc_trim gave back). A fixed threshold (which also turns the raising off) returns each
 * large block's pages when it is freed: 172 MB and 200 MB (1.16x), for some 5% more CPU (the
 * page faults of fresh blocks; 256 KiB: 167 and 194 MB, more faults; 1 MiB: 182 and 218 MB).
 * MALLOC_MMAP_THRESHOLD_ in the environment wins.
 */
#define WW_MMAP_THRESHOLD (512 * 1024)

void ww_heap_bounded(void)
{
    if (getenv("MALLOC_MMAP_THRESHOLD_") == NULL)
        (void)mallopt(M_MMAP_THRESHOLD, WW_MMAP_THRESHOLD);
}

/* ---- arena ---- */

struct ww_arena_chunk {
    ww_arena_chunk *next;
    size_t size; /* usable bytes in data */
    size_t off;
    _Alignas(16) uint8_t data[];
};

#define ARENA_CHUNK_MIN (64 * 1024)

void ww_arena_init(ww_arena *a, const ww_mem *mem, size_t cap)
{
    WW_ASSERT(a != NULL && cap > 0);
    a->mem = mem;
    a->head = NULL;
    a->used = 0;
    a->cap = cap;
}

void *ww_arena_alloc(ww_arena *a, size_t size)
{
    size_t need;
    ww_arena_chunk *c;

    if (size > a->cap || a->used > a->cap - size)
        return NULL;
    need = (size + 15) & ~(size_t)15;
    c = a->head;
    if (c == NULL || c->size - c->off < need) {
        size_t csz = WW_MAX(need, (size_t)ARENA_CHUNK_MIN);
        /* reuse a later chunk kept from before a reset? chunks are kept in order: the
         * head is the one in use; older ones follow. Simple policy: allocate new. */
        c = ww_malloc(a->mem, sizeof(*c) + csz);
        if (c == NULL)
            return NULL;
        c->size = csz;
        c->off = 0;
        c->next = a->head;
        a->head = c;
    }
    void *p = c->data + c->off;
    c->off += need;
    a->used += size;
    return p;
}

void ww_arena_reset(ww_arena *a)
{
    /* keep the first-allocated (usually only) chunk, free the others */
    ww_arena_chunk *c = a->head, *keep = NULL;
    while (c != NULL) {
        ww_arena_chunk *next = c->next;
        if (next == NULL && c->size == ARENA_CHUNK_MIN) {
            keep = c;
        } else {
            ww_free(a->mem, c);
        }
        c = next;
    }
    if (keep != NULL)
        keep->off = 0;
    a->head = keep;
    a->used = 0;
}

void ww_arena_free(ww_arena *a)
{
    ww_arena_chunk *c = a->head;
    while (c != NULL) {
        ww_arena_chunk *next = c->next;
        ww_free(a->mem, c);
        c = next;
    }
    a->head = NULL;
    a->used = 0;
}

/* ---- hex ---- */

void ww_hex_encode(char *out, const uint8_t *in, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

ssize_t ww_hex_decode(uint8_t *out, size_t out_size, const char *hex, size_t n_hex)
{
    if (n_hex % 2 != 0 || n_hex / 2 > out_size)
        return -1;
    for (size_t i = 0; i < n_hex / 2; i++) {
        int hi = ww_hex_val((unsigned char)hex[2 * i]);
        int lo = ww_hex_val((unsigned char)hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return (ssize_t)(n_hex / 2);
}

uint8_t *ww_hex_dup0x(const char *s, size_t *len)
{
    size_t n;
    uint8_t *b;
    if (s == NULL || s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
        return NULL;
    n = strlen(s + 2);
    if (n % 2 != 0 || (b = ww_malloc(NULL, n / 2 + 1)) == NULL)
        return NULL;
    if (ww_hex_decode(b, n / 2 + 1, s + 2, n) != (ssize_t)(n / 2)) {
        ww_free(NULL, b);
        return NULL;
    }
    *len = n / 2;
    return b;
}

void ww_wipe(void *p, size_t n)
{
    if (p != NULL && n > 0)
        OPENSSL_cleanse(p, n);
}

/* ---- capped buffer ---- */

void ww_buf_init(ww_buf *b, const ww_mem *mem, size_t cap)
{
    b->mem = mem;
    b->data = NULL;
    b->len = 0;
    b->alloc = 0;
    b->cap = cap;
}

int ww_buf_append(ww_buf *b, const void *p, size_t n)
{
    if (n == 0)
        return WW_OK;
    if (n > b->cap || b->len > b->cap - n)
        return WW_E_TOOBIG;
    if (b->len + n > b->alloc) {
        size_t na = b->alloc ? b->alloc : 256;
        while (na < b->len + n)
            na = (na > SIZE_MAX / 2) ? b->len + n : na * 2;
        if (na > b->cap)
            na = b->cap;
        uint8_t *nd = ww_realloc(b->mem, b->data, na);
        if (nd == NULL)
            return WW_E_NOMEM;
        b->data = nd;
        b->alloc = na;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return WW_OK;
}

void ww_buf_consume(ww_buf *b, size_t n)
{
    if (n >= b->len) {
        b->len = 0;
        return;
    }
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
}

void ww_buf_reset(ww_buf *b)
{
    b->len = 0;
}

void ww_buf_free(ww_buf *b)
{
    ww_free(b->mem, b->data);
    b->data = NULL;
    b->len = b->alloc = 0;
}

int ww_buf_read_file(ww_buf *b, FILE *f, const char *path, char errbuf[WW_ERRBUF_SIZE])
{
    char chunk[65536];
    size_t got;
    int rc = WW_OK;
    while (rc == WW_OK && (got = fread(chunk, 1, sizeof chunk, f)) > 0)
        rc = ww_buf_append(b, chunk, got);
    if (rc == WW_OK && ferror(f))
        rc = WW_E_IO;
    if (rc != WW_OK)
        snprintf(errbuf, WW_ERRBUF_SIZE, "%s: %s", path,
                 rc == WW_E_IO ? "read error" : ww_strerror(rc));
    return rc;
}

/* ---- u256 ---- */

void ww_u256_to_dec(char out[79], const ww_u256 *v)
{
    uint8_t tmp[32];
    char rev[79];
    size_t nd = 0;
    memcpy(tmp, v->be, 32);
    for (;;) {
        bool zero = true;
        unsigned rem = 0;
        for (size_t i = 0; i < 32; i++) {
            unsigned cur = (rem << 8) | tmp[i];
            tmp[i] = (uint8_t)(cur / 10);
            rem = cur % 10;
            if (tmp[i] != 0)
                zero = false;
        }
        rev[nd++] = (char)('0' + rem);
        if (zero)
            break;
    }
    for (size_t i = 0; i < nd; i++)
        out[i] = rev[nd - 1 - i];
    out[nd] = '\0';
}

bool ww_u256_is_max(const ww_u256 *v)
{
    for (size_t i = 0; i < 32; i++)
        if (v->be[i] != 0xff)
            return false;
    return true;
}

bool ww_u256_is_zero(const ww_u256 *v)
{
    for (size_t i = 0; i < 32; i++)
        if (v->be[i] != 0)
            return false;
    return true;
}

bool ww_u256_from_hex(ww_u256 *v, const char *s, size_t n)
{
    memset(v->be, 0, 32);
    if (n == 0)
        return false;
    while (n > 1 && s[0] == '0') {
        s++;
        n--;
    }
    if (n > 64)
        return false;
    for (size_t i = 0; i < n; i++) {
        int h = ww_hex_val((unsigned char)s[n - 1 - i]);
        if (h < 0)
            return false;
        v->be[31 - i / 2] |= (uint8_t)(i & 1 ? h << 4 : h);
    }
    return true;
}

bool ww_u256_from_quantity(ww_u256 *v, const char *s)
{
    if (s == NULL || s[0] != '0' || (s[1] != 'x' && s[1] != 'X')) {
        memset(v->be, 0, 32);
        return false;
    }
    return ww_u256_from_hex(v, s + 2, strlen(s + 2));
}

bool ww_u256_from_be(ww_u256 *v, const uint8_t *p, size_t n)
{
    if (n > 32)
        return false;
    memset(v->be, 0, 32);
    if (n > 0)
        memcpy(v->be + 32 - n, p, n);
    return true;
}

/* ---- base58 (Bitcoin alphabet) ---- */

static const char B58[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/* value of a base58 character, -1 when not one (a constant table: no strchr per character) */
static const int8_t B58V[256] = {
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, 0, 1, 2, 3, 4, 5, 6, 7, 8, -1, -1, -1, -1, -1, -1,
    -1, 9, 10, 11, 12, 13, 14, 15, 16, -1, 17, 18, 19, 20, 21, -1,
    22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, -1, -1, -1, -1, -1,
    -1, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, -1, 44, 45, 46,
    47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
};

int ww_b58_val(int c)
{
    return c >= 0 && c < 256 ? B58V[c] : -1;
}

/* Byte-at-a-time decoding, for outputs larger than the fast path's limbs hold. */
static ssize_t b58_decode_bytes(uint8_t *out, size_t cap, const char *s, size_t n, size_t zeros)
{
    /* big-endian number built right-aligned in out[0..cap); O(n^2), n <= a few KB */
    size_t used = 0;
    for (size_t i = zeros; i < n; i++) {
        int v = B58V[(unsigned char)s[i]];
        if (v < 0)
            return -1;
        unsigned carry = (unsigned)v;
        size_t k;
        for (k = 0; k < cap && (carry != 0 || k < used); k++) {
            carry += 58u * (k < used ? out[cap - 1 - k] : 0u);
            out[cap - 1 - k] = (uint8_t)carry;
            carry >>= 8;
        }
        if (carry != 0)
            return -1;
        used = k;
    }
    if (zeros > cap || used > cap - zeros)
        return -1;
    memmove(out + zeros, out + cap - used, used);
    memset(out, 0, zeros);
    return (ssize_t)(zeros + used);
}

#define B58_FAST_CAP 128 /* outputs up to this many bytes: 64-bit limbs, 10 digits per step */

ssize_t ww_b58_decode(uint8_t *out, size_t cap, const char *s, size_t n)
{
    size_t zeros = 0;
    while (zeros < n && s[zeros] == '1')
        zeros++;
    if (cap > B58_FAST_CAP)
        return b58_decode_bytes(out, cap, s, n, zeros);
    /* the number as little-endian 64-bit limbs; it only grows, so once it needs more than cap
     * bytes it never fits (the same -1 as the byte-wise loop) */
    uint64_t limb[B58_FAST_CAP / 8 + 2];
    size_t nl = 0, used = 0, i = zeros;
    while (i < n) {
        uint64_t acc = 0, mul = 1;
        size_t end = n - i > 10 ? i + 10 : n; /* 58^10 < 2^64 */
        for (; i < end; i++) {
            int v = B58V[(unsigned char)s[i]];
            if (v < 0)
                return -1;
            acc = acc * 58u + (uint64_t)v;
            mul *= 58u;
        }
        uint64_t carry = acc;
        for (size_t j = 0; j < nl; j++) {
            unsigned __int128 t = (unsigned __int128)limb[j] * mul + carry;
            limb[j] = (uint64_t)t;
            carry = (uint64_t)(t >> 64);
        }
        if (carry != 0)
            limb[nl++] = carry;
        used = nl == 0 ? 0 : (nl - 1) * 8 + (size_t)(71 - __builtin_clzll(limb[nl - 1])) / 8;
        if (used > cap)
            return -1;
    }
    if (zeros > cap || used > cap - zeros)
        return -1;
    memset(out, 0, zeros);
    uint8_t *e = out + zeros + used; /* big-endian: limb 0 ends at e */
    size_t b = 0;
    for (; b + 8 <= used; b += 8) {
        uint64_t be = __builtin_bswap64(limb[b / 8]);
        memcpy(e - b - 8, &be, 8);
    }
    for (; b < used; b++)
        e[-1 - (ptrdiff_t)b] = (uint8_t)(limb[b / 8] >> (8 * (b % 8)));
    return (ssize_t)(zeros + used);
}

size_t ww_b58_encode(char *out, size_t cap, const uint8_t *p, size_t n)
{
    uint8_t digits[100];
    size_t zeros = 0, used = 0, o = 0;
    WW_ASSERT(n <= 64 && cap >= 90);
    while (zeros < n && p[zeros] == 0)
        zeros++;
    for (size_t i = zeros; i < n; i++) {
        unsigned carry = p[i];
        size_t k;
        for (k = 0; k < used || carry != 0; k++) {
            if (k < used)
                carry += (unsigned)digits[k] << 8;
            digits[k] = (uint8_t)(carry % 58);
            carry /= 58;
        }
        used = k;
    }
    for (size_t i = 0; i < zeros; i++)
        out[o++] = '1';
    for (size_t i = 0; i < used; i++)
        out[o++] = B58[digits[used - 1 - i]];
    out[o] = '\0';
    return o;
}
