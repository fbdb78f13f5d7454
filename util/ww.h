/*
 * ww.h - what every layer of walletwatch shares: error codes, the bounds-checked
 * reader over untrusted bytes, slices, the allocator, the bump arena, hex helpers.
 *
 * Rules (../shared/STYLE.md):
 *  - untrusted bytes are read only through ww_rd_* ; each fails when fewer than the
 *    wanted bytes remain, and never forms p+len before that check;
 *  - decoders return bytes consumed, WW_E_PARTIAL (more may come), WW_E_TRUNC (it never
 *    will: snaplen or capture gap) or another negative WW_E_*;
 *  - codes below WW_E_FATAL (OOM, internal) stop the flow, the rest one message.
 */
#ifndef WW_H
#define WW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#define WW_VERSION "0.1.0"
#define WW_ERRBUF_SIZE 256

#if defined(__GNUC__)
#define WW_WUR __attribute__((warn_unused_result))
#define WW_LIKELY(x) __builtin_expect(!!(x), 1)
#define WW_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define WW_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define WW_WUR
#define WW_LIKELY(x) (x)
#define WW_UNLIKELY(x) (x)
#define WW_PRINTF(a, b)
#endif

#define WW_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define WW_MIN(a, b) ((a) < (b) ? (a) : (b))
#define WW_MAX(a, b) ((a) > (b) ? (a) : (b))

/* Programmer errors (NULL context, zero capacity) abort; they are never return codes. */
#define WW_ASSERT(cond)                                                                            \
    do {                                                                                           \
        if (WW_UNLIKELY(!(cond)))                                                                  \
            ww_assert_fail(#cond, __FILE__, __LINE__);                                             \
    } while (0)
void ww_assert_fail(const char *expr, const char *file, int line) __attribute__((noreturn));

/*
 * Error codes. Generic ones first, then a range per layer. Everything >= WW_E_FATAL
 * concerns one message or one packet; below it the flow (or the run) cannot go on.
 */
enum ww_err {
    WW_OK = 0,
    WW_E_PARTIAL = -1,     /* more data may come */
    WW_E_TRUNC = -2,       /* data cut short and the rest never comes (snaplen, gap, EOF) */
    WW_E_INVALID = -3,     /* malformed */
    WW_E_TOOBIG = -4,      /* over a configured cap */
    WW_E_UNSUPPORTED = -5, /* well-formed but not handled (unknown cipher, link type...) */
    WW_E_NOTFOUND = -6,
    WW_E_IO = -7,          /* read/write error on a file */
    WW_E_DEPTH = -8,       /* nesting too deep (JSON, RLP) */
    WW_E_OVERFLOW = -9,    /* a length or number overflows */
    WW_E_CRYPTO = -10,     /* tag or MAC failure, bad key, signature that does not recover */
    WW_E_NOKEY = -11,      /* no key material (yet) */
    WW_E_USAGE = -12,      /* bad argument from the user (not a programmer error) */

    WW_E_FATAL = -100,
    WW_E_NOMEM = -101,
    WW_E_INTERNAL = -102,
};

/* A static string for any ww_err (never NULL). */
const char *ww_strerror(int err);

/* A borrowed byte range; who owns it and how long it lives is said where it is returned. */
typedef struct ww_slice {
    const uint8_t *ptr;
    size_t len;
} ww_slice;

/*
 * The reader over untrusted bytes. p moves forward, end never does.
 * Each function returns true and advances, or returns false and leaves p unchanged.
 */
typedef struct ww_rd {
    const uint8_t *p;
    const uint8_t *end;
} ww_rd;

static inline ww_rd ww_rd_init(const uint8_t *p, size_t n)
{
    /* an empty buffer may come as (NULL, 0): NULL + 0 is undefined behaviour in C */
    ww_rd r = {p, n > 0 ? p + n : p};
    return r;
}
static inline size_t ww_rd_left(const ww_rd *r)
{
    return (size_t)(r->end - r->p);
}
static inline bool ww_rd_skip(ww_rd *r, size_t n)
{
    if (ww_rd_left(r) < n)
        return false;
    r->p += n;
    return true;
}
static inline bool ww_rd_u8(ww_rd *r, uint8_t *v)
{
    if (ww_rd_left(r) < 1)
        return false;
    *v = r->p[0];
    r->p += 1;
    return true;
}
static inline bool ww_rd_be16(ww_rd *r, uint16_t *v)
{
    if (ww_rd_left(r) < 2)
        return false;
    *v = (uint16_t)((r->p[0] << 8) | r->p[1]);
    r->p += 2;
    return true;
}
static inline bool ww_rd_be24(ww_rd *r, uint32_t *v)
{
    if (ww_rd_left(r) < 3)
        return false;
    *v = ((uint32_t)r->p[0] << 16) | ((uint32_t)r->p[1] << 8) | r->p[2];
    r->p += 3;
    return true;
}
static inline bool ww_rd_be32(ww_rd *r, uint32_t *v)
{
    if (ww_rd_left(r) < 4)
        return false;
    *v = ((uint32_t)r->p[0] << 24) | ((uint32_t)r->p[1] << 16) | ((uint32_t)r->p[2] << 8) |
         r->p[3];
    r->p += 4;
    return true;
}
static inline bool ww_rd_be64(ww_rd *r, uint64_t *v)
{
    uint32_t hi, lo;
    if (ww_rd_left(r) < 8)
        return false;
    (void)ww_rd_be32(r, &hi);
    (void)ww_rd_be32(r, &lo);
    *v = ((uint64_t)hi << 32) | lo;
    return true;
}
static inline bool ww_rd_le16(ww_rd *r, uint16_t *v)
{
    if (ww_rd_left(r) < 2)
        return false;
    *v = (uint16_t)(r->p[0] | (r->p[1] << 8));
    r->p += 2;
    return true;
}
static inline bool ww_rd_le32(ww_rd *r, uint32_t *v)
{
    if (ww_rd_left(r) < 4)
        return false;
    *v = (uint32_t)r->p[0] | ((uint32_t)r->p[1] << 8) | ((uint32_t)r->p[2] << 16) |
         ((uint32_t)r->p[3] << 24);
    r->p += 4;
    return true;
}
static inline bool ww_rd_le64(ww_rd *r, uint64_t *v)
{
    uint32_t lo, hi;
    if (ww_rd_left(r) < 8)
        return false;
    (void)ww_rd_le32(r, &lo);
    (void)ww_rd_le32(r, &hi);
    *v = ((uint64_t)hi << 32) | lo;
    return true;
}
/* Points *out at the next n bytes (no copy; lives as long as the reader's buffer). */
static inline bool ww_rd_bytes(ww_rd *r, ww_slice *out, size_t n)
{
    if (ww_rd_left(r) < n)
        return false;
    out->ptr = r->p;
    out->len = n;
    r->p += n;
    return true;
}
static inline bool ww_rd_copy(ww_rd *r, void *dst, size_t n)
{
    if (ww_rd_left(r) < n)
        return false;
    memcpy(dst, r->p, n);
    r->p += n;
    return true;
}

/* Allocator: nghttp2_mem style. A NULL ww_mem * anywhere means the default (libc). */
typedef struct ww_mem {
    void *user_data;
    void *(*malloc)(size_t size, void *user_data);
    void (*free)(void *ptr, void *user_data);
    void *(*calloc)(size_t nmemb, size_t size, void *user_data);
    void *(*realloc)(void *ptr, size_t size, void *user_data);
} ww_mem;

const ww_mem *ww_mem_default(void);
void *ww_malloc(const ww_mem *mem, size_t size);
void *ww_calloc(const ww_mem *mem, size_t nmemb, size_t size);
void *ww_realloc(const ww_mem *mem, void *ptr, size_t size);
void ww_free(const ww_mem *mem, void *ptr);

/* Asks for transparent huge pages for the heap (glibc.malloc.hugetlb=1) by executing the
 * program again with that tunable, once; returns when it does not (see util/ww.c). Call first
 * thing in main, before any thread or file. Only with WW_HUGEPAGES=1. */
void ww_heap_hugepages(char **argv);
/* Large blocks (512 KiB and more) in mappings of their own, returned when freed: the peak RSS
 * does not grow with the length of a capture through heap fragmentation (util/ww.c). Call
 * first thing in main. */
void ww_heap_bounded(void);

/*
 * Bump arena for per-packet / per-message scratch. Allocations live until the next
 * ww_arena_reset(). Memory is bounded by `cap`; an allocation over it returns NULL.
 */
typedef struct ww_arena_chunk ww_arena_chunk;
typedef struct ww_arena {
    const ww_mem *mem;
    ww_arena_chunk *head;
    size_t used; /* bytes handed out since the last reset */
    size_t cap;  /* hard cap on bytes handed out */
} ww_arena;

void ww_arena_init(ww_arena *a, const ww_mem *mem, size_t cap);
void *ww_arena_alloc(ww_arena *a, size_t size); /* 16-byte aligned; NULL over cap or OOM */
void ww_arena_reset(ww_arena *a);
void ww_arena_free(ww_arena *a);

/* Hex. ww_hex_encode writes 2*n lowercase chars plus NUL into out (out_size >= 2n+1). */
void ww_hex_encode(char *out, const uint8_t *in, size_t n);
/* Decodes exactly n_hex chars (even; no "0x"; either case). Returns bytes or -1. */
ssize_t ww_hex_decode(uint8_t *out, size_t out_size, const char *hex, size_t n_hex) WW_WUR;
/* Decodes "0x..." (or "0X...", an even number of hex digits) into a fresh buffer of *len
 * bytes (ww_malloc(NULL); the caller ww_free(NULL)s it). NULL on bad hex or OOM. */
uint8_t *ww_hex_dup0x(const char *s, size_t *len);
/* Base58 (Bitcoin alphabet): the value of one character, -1 when it is not one. */
int ww_b58_val(int c);
/* Base58, any length (quadratic: callers bound n). out is also the scratch: it may be
 * clobbered on failure. Returns the decoded length (one zero byte per leading '1'), or -1
 * (bad character, does not fit in cap). */
ssize_t ww_b58_decode(uint8_t *out, size_t cap, const char *s, size_t n);
/* Encodes n <= 64 bytes; out holds at least 90 bytes. Returns the text length. */
size_t ww_b58_encode(char *out, size_t cap, const uint8_t *p, size_t n);
static inline int ww_hex_val(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* s[0..n) equals lower_lit ignoring ASCII case (lower_lit must be lower-case). */
static inline bool ww_ascii_ieq(const char *s, size_t n, const char *lower_lit)
{
    size_t k = strlen(lower_lit);
    if (n != k)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != lower_lit[i])
            return false;
    }
    return true;
}

/* Wipe secrets (OPENSSL_cleanse underneath). */
void ww_wipe(void *p, size_t n);

/*
 * Growable byte buffer with a hard cap (never grows past cap: returns WW_E_TOOBIG).
 * Used where data must be gathered (a header block, a JSON body); not in the hot path
 * of data we skip.
 */
typedef struct ww_buf {
    const ww_mem *mem;
    uint8_t *data;
    size_t len;
    size_t alloc;
    size_t cap;
} ww_buf;

void ww_buf_init(ww_buf *b, const ww_mem *mem, size_t cap);
int ww_buf_append(ww_buf *b, const void *p, size_t n) WW_WUR; /* WW_OK, WW_E_TOOBIG, WW_E_NOMEM */
void ww_buf_consume(ww_buf *b, size_t n);                     /* drop n bytes from the front */
void ww_buf_reset(ww_buf *b);                                 /* len = 0, keeps memory */
void ww_buf_free(ww_buf *b);
/* Appends the rest of f to b. WW_OK, or WW_E_IO / WW_E_TOOBIG / WW_E_NOMEM with errbuf set to
 * "PATH: read error" / "PATH: over size limit" / "PATH: out of memory". f stays open. */
int ww_buf_read_file(ww_buf *b, FILE *f, const char *path, char errbuf[WW_ERRBUF_SIZE]) WW_WUR;

/* 256-bit unsigned integers, big-endian bytes, as EVM values. */
typedef struct ww_u256 {
    uint8_t be[32];
} ww_u256;
/* Exact decimal string; out must hold 79 bytes. */
void ww_u256_to_dec(char out[79], const ww_u256 *v);
bool ww_u256_is_max(const ww_u256 *v);
bool ww_u256_is_zero(const ww_u256 *v);
/* From n >= 1 hex digits (no prefix; leading zeros allowed). false when a character is not
 * hex or the value needs more than 256 bits. v is zeroed first. */
bool ww_u256_from_hex(ww_u256 *v, const char *s, size_t n);
/* From a JSON-RPC quantity: "0x"/"0X" and 1..64 significant hex digits, NUL-terminated
 * (s may be NULL: false). */
bool ww_u256_from_quantity(ww_u256 *v, const char *s);
/* From 0..32 big-endian bytes (RLP integers). false if longer than 32. */
bool ww_u256_from_be(ww_u256 *v, const uint8_t *p, size_t n);

#endif /* WW_H */
