/*
 * redis.h - every EVE line to a Redis stream, list or pub/sub channel (--redis URL), as
 * Suricata's redis output does: XADD key MAXLEN ~ N * event <json>, LPUSH/RPUSH key <json>,
 * PUBLISH channel <json>.
 *
 * The capture never waits for Redis: lines go into a bounded in-memory buffer (bytes and
 * events) that one sender thread drains over hiredis, pipelined, in order. When Redis is down
 * the thread reconnects with exponential backoff (100 ms doubling to 10 s) and sends what was
 * buffered, in order, once it is back; a line is taken off the buffer only when Redis has
 * acknowledged it (a reconnect may repeat the few lines whose replies were lost). A line that
 * does not fit the buffer is dropped and counted (ww_redis_dropped: the stats event's
 * walletwatch.redis_dropped) with a warning: never lost silently. At the end, the rest is
 * flushed for at most `flush` milliseconds; what is still unsent is counted as dropped.
 */
#ifndef WW_REDIS_H
#define WW_REDIS_H

#include "util/ww.h"

#include <stdio.h>

enum ww_redis_mode {
    WW_REDIS_LPUSH = 0, /* "list" (Suricata's default) or "lpush" */
    WW_REDIS_RPUSH,     /* "rpush": FIFO for readers that pop the head (Logstash BLPOP) */
    WW_REDIS_PUBLISH,   /* "channel" or "publish" */
    WW_REDIS_XADD,      /* "stream" or "xadd" */
};

#define WW_REDIS_STR_MAX 256

typedef struct ww_redis_cfg {
    char host[WW_REDIS_STR_MAX]; /* name, IPv4, or IPv6 (given in brackets in the URL) */
    int port;                    /* default 6379 */
    char user[WW_REDIS_STR_MAX]; /* ACL user; "" = default */
    char password[WW_REDIS_STR_MAX]; /* "" = no AUTH */
    int db;                      /* SELECT (not for PUBLISH, which ignores it); default 0 */
    int mode;                    /* enum ww_redis_mode; default LPUSH ("list", as Suricata) */
    char key[WW_REDIS_STR_MAX];  /* key or channel; default "walletwatch" */
    char field[64];              /* stream field name; default "event" */
    uint64_t maxlen;             /* stream: MAXLEN ~ N (default 100000); 0 = no trimming */
    size_t buffer_bytes;         /* buffer bound in bytes (default 16 MiB) */
    size_t buffer_events;        /* ... and in lines (default 100000) */
    unsigned flush_ms;           /* at the end: wait at most this for the rest (default 5000) */
    unsigned timeout_ms;         /* connect and command timeout (default 1000) */
} ww_redis_cfg;

/*
 * Parses redis://[[USER]:PASSWORD@]HOST[:PORT][/DB][?PARAM=VALUE&...] with PARAMs
 *   mode=list|lpush|rpush|channel|publish|stream|xadd  key=NAME  field=NAME  maxlen=N
 *   buffer=SIZE (bytes; K, M, G)  events=N  flush=MS  timeout=MS
 * %XX escapes are decoded in USER, PASSWORD and values. Fills cfg (defaults first).
 * Returns WW_OK or WW_E_INVALID with a reason in err.
 */
int ww_redis_parse_url(const char *url, ww_redis_cfg *cfg, char *err, size_t errn) WW_WUR;

typedef struct ww_redis ww_redis;
/* Starts the sender thread (it connects in the background: Redis may come later). log gets
 * warnings ("walletwatch: redis: ..."), never the password. WW_OK or WW_E_NOMEM. */
int ww_redis_new(ww_redis **out, const ww_redis_cfg *cfg, FILE *log) WW_WUR;
/* One EVE line (a trailing newline is not sent): buffered, or dropped and counted. Never
 * blocks on Redis. The ww_out_cfg.on_line signature. */
void ww_redis_line(void *r, const char *line, size_t n);
/* Lines dropped so far (buffer full, rejected by Redis, unsent at the end). */
uint64_t ww_redis_dropped(void *r);
typedef struct ww_redis_stats {
    uint64_t sent;      /* acknowledged by Redis */
    uint64_t dropped;   /* over the buffer, rejected, or unsent when the flush wait ended */
    uint64_t rejected;  /* of which: Redis answered with an error (WRONGTYPE, NOAUTH...) */
    uint64_t reconnects;
} ww_redis_stats;
/* Flushes for at most cfg.flush_ms, stops the thread, frees. st may be NULL. NULL r: nothing.
 * Returns WW_OK when everything was sent, WW_E_IO otherwise (a line to log says how many
 * were not). */
int ww_redis_close(ww_redis *r, ww_redis_stats *st);

#endif /* WW_REDIS_H */
