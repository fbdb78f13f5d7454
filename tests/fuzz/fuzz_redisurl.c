/*
 * fuzz_redisurl.c - the --redis URL parser (detect/redis.c, ww_redis_parse_url) on arbitrary
 * bytes. Checks: a rejected URL says why; an accepted one has a host, a port in 1..65535, a
 * known mode, a key, a buffer of at least 1 KiB and one event, NUL-terminated strings; and it
 * renders back (every byte of user, password and key %-escaped) to a URL that parses to the
 * same configuration.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/redis.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t esc(char *out, size_t n, const char *s)
{
    size_t k = 0;
    for (; *s && k + 4 < n; s++)
        k += (size_t)snprintf(out + k, n - k, "%%%02X", (unsigned char)*s);
    out[k] = '\0';
    return k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const MODES[] = {"lpush", "rpush", "publish", "xadd"};
    char url[4096], err[200];
    if (size >= sizeof url)
        return 0;
    memcpy(url, data, size);
    url[size] = '\0';
    ww_redis_cfg c, d;
    if (ww_redis_parse_url(url, &c, err, sizeof err) != WW_OK) {
        if (err[0] == '\0')
            __builtin_trap();
        return 0;
    }
    if (c.host[0] == '\0' || c.port < 1 || c.port > 65535 || c.mode < WW_REDIS_LPUSH ||
        c.mode > WW_REDIS_XADD || c.key[0] == '\0' || c.field[0] == '\0' ||
        c.buffer_bytes < 1024 || c.buffer_events == 0 || c.db < 0 || c.timeout_ms == 0)
        __builtin_trap();
    if (memchr(c.host, 0, sizeof c.host) == NULL || memchr(c.user, 0, sizeof c.user) == NULL ||
        memchr(c.password, 0, sizeof c.password) == NULL || memchr(c.key, 0, sizeof c.key) == NULL ||
        memchr(c.field, 0, sizeof c.field) == NULL)
        __builtin_trap();
    /* render and parse again */
    static char r[8192];
    char u[3 * WW_REDIS_STR_MAX + 1], p[3 * WW_REDIS_STR_MAX + 1], k[3 * WW_REDIS_STR_MAX + 1],
        f[3 * 64 + 1];
    esc(u, sizeof u, c.user);
    esc(p, sizeof p, c.password);
    esc(k, sizeof k, c.key);
    esc(f, sizeof f, c.field);
    bool v6 = strchr(c.host, ':') != NULL;
    snprintf(r, sizeof r,
             "redis://%s%s%s%s%s%s%s:%d/%d?mode=%s&key=%s&field=%s&maxlen=%llu&buffer=%zu&events=%zu"
             "&flush=%u&timeout=%u",
             c.password[0] || c.user[0] ? u : "", c.password[0] || c.user[0] ? ":" : "",
             c.password[0] || c.user[0] ? p : "", c.password[0] || c.user[0] ? "@" : "",
             v6 ? "[" : "", c.host, v6 ? "]" : "", c.port, c.db, MODES[c.mode], k, f,
             (unsigned long long)c.maxlen, c.buffer_bytes, c.buffer_events, c.flush_ms,
             c.timeout_ms);
    if (ww_redis_parse_url(r, &d, err, sizeof err) != WW_OK)
        __builtin_trap();
    if (strcmp(c.host, d.host) != 0 || c.port != d.port || strcmp(c.user, d.user) != 0 ||
        strcmp(c.password, d.password) != 0 || c.db != d.db || c.mode != d.mode ||
        strcmp(c.key, d.key) != 0 || strcmp(c.field, d.field) != 0 || c.maxlen != d.maxlen ||
        c.buffer_bytes != d.buffer_bytes || c.buffer_events != d.buffer_events ||
        c.flush_ms != d.flush_ms || c.timeout_ms != d.timeout_ms)
        __builtin_trap();
    return 0;
}
