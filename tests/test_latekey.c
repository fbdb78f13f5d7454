/*
 * test_latekey.c - late keys through the whole engine: a recorded TLS 1.3 session (curl vs a
 * local HTTPS JSON-RPC server, pcaps/tls13-hijack.pcap: two connections, each a hijacked wallet
 * call; with its keys up front: 2 wallet calls, 4 alerts) whose connections close before its key
 * log says anything. The key log is followed (a file that grows), its lines appended in two
 * halves after the close; the sessions must then be decrypted and their wallet calls alerted on
 * (replay: also at the end of the input), or, live, given up once the grace period passed.
 */
#include "t.h"

#include "addrdb/addrdb.h"
#include "capture/capture.h"
#include "decode/decode.h"
#include "detect/detect.h"
#include "engine/engine.h"

#include <stdlib.h>
#include <unistd.h>

typedef struct lk {
    FILE *jsonl;
    ww_addrdb *db;
    ww_engine *e;
    char kl_path[64];
    uint64_t last_ts;
} lk;

static bool lk_init(lk *t, bool live, uint64_t grace_us, unsigned workers)
{
    char err[WW_ERRBUF_SIZE];
    memset(t, 0, sizeof *t);
    snprintf(t->kl_path, sizeof t->kl_path, "/tmp/ww-latekey-XXXXXX");
    int fd = mkstemp(t->kl_path);
    T_CHECK(fd >= 0);
    if (fd < 0)
        return false;
    close(fd);
    t->jsonl = tmpfile();
    t->db = ww_addrdb_new(NULL);
    T_CHECK(ww_addrdb_load_bundled(t->db) > 0);
    ww_engine_cfg ec = {0};
    ec.out.jsonl = t->jsonl;
    ec.out.format = WW_FMT_JSONL;
    ec.detect.db = t->db;
    ec.live = live;
    ec.key_grace_us = grace_us;
    ec.workers = workers; /* > 1: every worker's key log copy follows the file too */
    T_EQ_INT(ww_engine_new(&t->e, &ec, err), WW_OK);
    T_EQ_INT(ww_engine_follow_keylog(t->e, t->kl_path), WW_OK);
    return t->e != NULL;
}

/* Every packet of the capture through the engine, then the clock past the closed flows' linger. */
static void lk_feed_only(lk *t, const char *pcap);
static void lk_feed(lk *t, const char *pcap)
{
    lk_feed_only(t, pcap);
    t->last_ts += 11000000; /* FIN-closed flows linger 10 s */
    ww_engine_tick(t->e, t->last_ts);
}

/* Every packet of the capture through the engine; the connections stay open (lingering). */
static void lk_feed_only(lk *t, const char *pcap)
{
    char err[WW_ERRBUF_SIZE];
    ww_source *src = NULL;
    ww_pkt pkt;
    T_EQ_INT(ww_source_open_file(&src, t_src(pcap), err), WW_OK);
    if (src == NULL)
        return;
    while (ww_source_next(src, &pkt, err) == 1) {
        T_EQ_INT(ww_engine_packet(t->e, &pkt), 1);
        t->last_ts = pkt.ts_us;
    }
    ww_source_free(src);
}

/* Appends lines [from, to) of the key log file rel to the followed key log. */
static void lk_append_keys(lk *t, const char *rel, int from, int to)
{
    char line[1024];
    FILE *in = fopen(t_src(rel), "r"), *out = fopen(t->kl_path, "a");
    T_CHECK(in != NULL && out != NULL);
    for (int i = 0; in != NULL && out != NULL && fgets(line, sizeof line, in) != NULL; i++)
        if (i >= from && i < to)
            fputs(line, out);
    if (in != NULL)
        fclose(in);
    if (out != NULL)
        fclose(out);
}

static int count_lines(const char *path)
{
    char line[1024];
    int n = 0;
    FILE *f = fopen(t_src(path), "r");
    while (f != NULL && fgets(line, sizeof line, f) != NULL)
        n++;
    if (f != NULL)
        fclose(f);
    return n;
}

/* How many JSON lines so far contain s. */
static int events_with(lk *t, const char *s)
{
    char line[16384];
    int n = 0;
    fflush(t->jsonl);
    rewind(t->jsonl);
    while (fgets(line, sizeof line, t->jsonl) != NULL)
        n += strstr(line, s) != NULL;
    fseek(t->jsonl, 0, SEEK_END);
    return n;
}

static void lk_end(lk *t)
{
    ww_engine_end(t->e, 0);
    ww_engine_write_stats(t->e);
    T_EQ_INT(ww_engine_finish_output(t->e), WW_OK);
}

static void lk_free(lk *t)
{
    ww_engine_free(t->e);
    ww_addrdb_free(t->db);
    fclose(t->jsonl);
    unlink(t->kl_path);
}

#define KEYS "pcaps/tls13-hijack.keys"
#define PCAP "pcaps/tls13-hijack.pcap"
#define ATTACKER "0xfc4a4858bafef54d1b1d7697bfb5c52f4c166976"

/* Keys in two halves after the connection closed (live, within the grace period): the first
 * half decrypts nothing yet, the second the whole session: its wallet call and its alerts come
 * before the end of the input, and the stats say one session decrypted. */
static void latekey_keys_after_close_decrypt_and_alert_n(unsigned workers)
{
    lk t;
    if (!lk_init(&t, true, 30000000, workers))
        return;
    int n = count_lines(KEYS);
    T_CHECK(n >= 4);
    lk_feed(&t, PCAP);
    T_EQ_INT(events_with(&t, "\"wallet_call\""), 0);
    lk_append_keys(&t, KEYS, 0, n / 2);
    ww_engine_tick(t.e, t.last_ts + 1000000);
    lk_append_keys(&t, KEYS, n / 2, n);
    ww_engine_tick(t.e, t.last_ts + 2000000);
    T_EQ_INT(events_with(&t, "\"event_type\":\"wallet_call\""), 2);
    T_EQ_INT(events_with(&t, "\"event_type\":\"alert\""), 4);
    T_EQ_INT(events_with(&t, "\"known-attacker\""), 2);
    lk_end(&t);
    const ww_run_stats *st = ww_engine_stats(t.e);
    T_EQ_INT(st->tls_decrypted, 2);
    T_EQ_INT(st->tls_undecryptable, 0);
    T_CHECK(st->keywait_bytes_peak > 0);
    T_EQ_INT(events_with(&t, "\"keywait_bytes_peak\""), 1);
    lk_free(&t);
}

/* Replay: the keys come after every packet was read; the last retry at the end of the input
 * decrypts the session. */
static void latekey_replay_end_of_input_retry_n(unsigned workers)
{
    lk t;
    if (!lk_init(&t, false, 0, workers))
        return;
    lk_feed(&t, PCAP);
    lk_append_keys(&t, KEYS, 0, 1000);
    lk_end(&t); /* reads the followed key log one last time, retries, then frees */
    T_EQ_INT(events_with(&t, "\"event_type\":\"alert\""), 4);
    T_EQ_INT(ww_engine_stats(t.e)->tls_decrypted, 2);
    lk_free(&t);
}

/* Live, grace 1 s: the key comes 2 s after the close. The session was given up (a no-key
 * anomaly, counted undecryptable, nothing left waiting); the key decrypts nothing anymore. */
static void latekey_grace_expired_counted_and_freed_n(unsigned workers)
{
    lk t;
    if (!lk_init(&t, true, 1000000, workers))
        return;
    lk_feed(&t, PCAP);
    ww_engine_tick(t.e, t.last_ts + 2000000);
    T_EQ_INT(events_with(&t, "\"no-key\""), 2);
    lk_append_keys(&t, KEYS, 0, 1000);
    ww_engine_tick(t.e, t.last_ts + 2500000);
    lk_end(&t);
    const ww_run_stats *st = ww_engine_stats(t.e);
    T_EQ_INT(events_with(&t, "\"wallet_call\""), 0);
    T_EQ_INT(events_with(&t, ATTACKER), 0);
    T_EQ_INT(st->tls_decrypted, 0);
    T_EQ_INT(st->tls_undecryptable, 2);
    T_CHECK(st->keywait_bytes_peak > 0);
    lk_free(&t);
}

/* A key-wait budget smaller than the session: given up under the budget (counted evicted) on
 * the spot, before any key; nothing stays parked. */
T_CASE(latekey_budget_evicts)
{
    char err[WW_ERRBUF_SIZE];
    lk t;
    memset(&t, 0, sizeof t);
    snprintf(t.kl_path, sizeof t.kl_path, "/tmp/ww-latekey-XXXXXX");
    int fd = mkstemp(t.kl_path);
    T_CHECK(fd >= 0);
    close(fd);
    t.jsonl = tmpfile();
    t.db = ww_addrdb_new(NULL);
    T_CHECK(ww_addrdb_load_bundled(t.db) > 0);
    ww_engine_cfg ec = {0};
    ec.out.jsonl = t.jsonl;
    ec.out.format = WW_FMT_JSONL;
    ec.detect.db = t.db;
    ec.key_wait_budget = 64;
    T_EQ_INT(ww_engine_new(&t.e, &ec, err), WW_OK);
    if (t.e == NULL)
        return;
    T_EQ_INT(ww_engine_follow_keylog(t.e, t.kl_path), WW_OK);
    lk_feed(&t, PCAP);
    lk_append_keys(&t, KEYS, 0, 1000);
    lk_end(&t);
    const ww_run_stats *st = ww_engine_stats(t.e);
    T_EQ_INT(st->tls_decrypted, 0);
    T_EQ_INT(st->tls_undecryptable, 2);
    T_CHECK(st->keywait_evicted >= 1);
    T_EQ_INT(events_with(&t, "\"keywait_evicted\":0"), 0);
    lk_free(&t);
}

/* An engine freed while closed sessions still wait (no ww_engine_end): released, no event
 * written after the end (ASan: nothing leaks). */
T_CASE(latekey_free_while_waiting)
{
    lk t;
    if (!lk_init(&t, true, 30000000, 0))
        return;
    lk_feed(&t, PCAP);
    int before = events_with(&t, "\"event_type\"");
    ww_engine_free(t.e);
    t.e = NULL;
    T_EQ_INT(events_with(&t, "\"event_type\""), before);
    lk_free(&t);
}

/* The keys come while the connections are not closed yet (FIN linger): retried on the key log's
 * growth, not at their close 10 s later. */
static void latekey_open_connections_retried_when_keys_come_n(unsigned workers)
{
    lk t;
    if (!lk_init(&t, true, 30000000, workers))
        return;
    lk_feed_only(&t, PCAP);
    T_EQ_INT(events_with(&t, "\"event_type\":\"alert\""), 0);
    lk_append_keys(&t, KEYS, 0, 1000);
    ww_engine_tick(t.e, t.last_ts + 500000);
    T_EQ_INT(events_with(&t, "\"event_type\":\"alert\""), 4);
    lk_end(&t);
    T_EQ_INT(ww_engine_stats(t.e)->tls_decrypted, 2);
    T_EQ_INT(events_with(&t, "\"event_type\":\"alert\""), 4);
    lk_free(&t);
}

/* Each with one thread and with --workers 2 (the followed key log's lines reach every worker's
 * copy; ww_engine_tick waits for the workers, so the events are out when it returns). */
T_CASE(latekey_keys_after_close_decrypt_and_alert)
{
    latekey_keys_after_close_decrypt_and_alert_n(0);
}
T_CASE(latekey_keys_after_close_decrypt_and_alert_workers)
{
    latekey_keys_after_close_decrypt_and_alert_n(2);
}
T_CASE(latekey_replay_end_of_input_retry)
{
    latekey_replay_end_of_input_retry_n(0);
}
T_CASE(latekey_replay_end_of_input_retry_workers)
{
    latekey_replay_end_of_input_retry_n(2);
}
T_CASE(latekey_grace_expired_counted_and_freed)
{
    latekey_grace_expired_counted_and_freed_n(0);
}
T_CASE(latekey_grace_expired_counted_and_freed_workers)
{
    latekey_grace_expired_counted_and_freed_n(2);
}
T_CASE(latekey_open_connections_retried_when_keys_come)
{
    latekey_open_connections_retried_when_keys_come_n(0);
}
T_CASE(latekey_open_connections_retried_when_keys_come_workers)
{
    latekey_open_connections_retried_when_keys_come_n(2);
}
