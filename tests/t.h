/*
 * t.h - the in-tree test runner (after sds testhelp, picotest, secp256k1's unit_test.h).
 *
 *   T_CASE(name) { T_CHECK(x == 1); T_EQ_MEM(a, b, n); T_EQ_STR(s, "x"); }
 *
 * Cases register themselves; the runner (t.c) runs all of them, or those named on the
 * command line, and ends with the line "N passed, N failed" (checks, not cases), with a
 * nonzero exit status on any failure. Checks print file:line: expr and keep going.
 *
 * T_SHARED(path) gives "../shared/..." resolved from the repo root (WW_SHARED env var
 * overrides); T_SKIP(msg) skips the rest of a case with a clear message.
 */
#ifndef WW_T_H
#define WW_T_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef void (*t_fn)(void);
void t_register(const char *name, t_fn fn);
void t_check(bool ok, const char *expr, const char *file, int line);
void t_fail_msg(const char *file, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void t_skip(const char *name, const char *why);
/* Path under the shared folder (../shared by default). Returns a static buffer. */
const char *t_shared(const char *rel);
/* Path under the repo's source tree (WW_SRCDIR env var, default "."). Static buffer. */
const char *t_src(const char *rel);
/* Reads a whole file; caller frees. NULL if absent. */
uint8_t *t_read_file(const char *path, size_t *len);
/* Copies n bytes just before a PROT_NONE page (picohttpparser), so over-reads crash. */
const uint8_t *t_guard(const void *p, size_t n);
extern const char *t_current;

#define T_CASE(name)                                                                               \
    static void t_case_##name(void);                                                               \
    __attribute__((constructor)) static void t_reg_##name(void)                                    \
    {                                                                                              \
        t_register(#name, t_case_##name);                                                          \
    }                                                                                              \
    static void t_case_##name(void)

#define T_CHECK(cond) t_check(!!(cond), #cond, __FILE__, __LINE__)
#define T_EQ_INT(a, b)                                                                             \
    do {                                                                                           \
        long long t_a_ = (long long)(a), t_b_ = (long long)(b);                                    \
        t_check(t_a_ == t_b_, #a " == " #b, __FILE__, __LINE__);                                   \
        if (t_a_ != t_b_)                                                                          \
            t_fail_msg(__FILE__, __LINE__, "  got %lld, want %lld", t_a_, t_b_);                 \
    } while (0)
#define T_EQ_MEM(a, b, n) t_check(memcmp((a), (b), (n)) == 0, "memcmp(" #a ", " #b ") == 0", __FILE__, __LINE__)
#define T_EQ_STR(a, b)                                                                             \
    do {                                                                                           \
        const char *t_sa_ = (a), *t_sb_ = (b);                                                     \
        bool t_ok_ = t_sa_ != NULL && t_sb_ != NULL && strcmp(t_sa_, t_sb_) == 0;                 \
        t_check(t_ok_, #a " eq " #b, __FILE__, __LINE__);                                          \
        if (!t_ok_)                                                                                \
            t_fail_msg(__FILE__, __LINE__, "  got \"%s\", want \"%s\"", t_sa_ ? t_sa_ : "(null)", \
                       t_sb_ ? t_sb_ : "(null)");                                                  \
    } while (0)
#define T_SKIP(why)                                                                                \
    do {                                                                                           \
        t_skip(t_current, why);                                                                    \
        return;                                                                                    \
    } while (0)

#endif
