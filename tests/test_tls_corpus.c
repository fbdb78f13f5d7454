/*
 * test_tls_corpus.c - decrypts the Wireshark TLS captures (../shared/corpus/wireshark, see its
 * README.md) with their key logs and compares, per TCP stream and direction, the length and
 * SHA-256 of the decrypted application data with tshark's (`tls_appdata` records of the
 * *.expected.jsonl), and SNI / version / cipher name with the `tls_session` records.
 *
 * The TCP payload streams come from the capture layer (ww_source -> ww_pktdec -> ww_tcp);
 * tcp_stream N is the flow with id N + 1. pcapng Decryption Secrets Blocks are added to the
 * key log too. The cases skip when the corpus is absent.
 */
#include <openssl/evp.h>
#include <unistd.h>

#include "decode/decode.h"
#include "decode/tls_int.h"
#include "tests/t.h"

typedef struct acc {
    EVP_MD_CTX *md[2];
    size_t n[2];
    ww_tls_info info;
    bool hs;
} acc;

static void on_pt(void *ud, int dir, const uint8_t *p, size_t n, uint64_t ts)
{
    acc *a = ud;
    (void)ts;
    EVP_DigestUpdate(a->md[dir], p, n);
    a->n[dir] += n;
}
static void on_hs(void *ud, const ww_tls_info *i)
{
    acc *a = ud;
    a->info = *i;
    a->hs = true;
}
static void on_an(void *ud, const char *type, const char *detail)
{
    (void)ud;
    fprintf(stderr, "  anomaly %s: %s\n", type, detail);
}

/* Finds `"key": ` in line and copies the value (string without quotes, or bare token). */
static bool json_field(const char *line, const char *key, char *out, size_t cap)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\": ", key);
    const char *p = strstr(line, pat);
    if (p == NULL)
        return false;
    p += strlen(pat);
    size_t k = 0;
    if (*p == '"') {
        p++;
        while (*p && *p != '"' && k + 1 < cap)
            out[k++] = *p++;
    } else {
        while (*p && *p != ',' && *p != '}' && k + 1 < cap)
            out[k++] = *p++;
    }
    out[k] = '\0';
    return true;
}

/* The expected line of `kind` for tcp_stream N, or false. */
static bool expected_line(const char *path, const char *kind, int stream, char *line, size_t cap)
{
    FILE *f = fopen(path, "r");
    char want_kind[64], want_stream[48];
    bool found = false;
    if (f == NULL)
        return false;
    snprintf(want_kind, sizeof want_kind, "\"kind\": \"%s\"", kind);
    snprintf(want_stream, sizeof want_stream, "\"tcp_stream\": %d,", stream);
    while (fgets(line, (int)cap, f) != NULL)
        if (strstr(line, want_kind) && strstr(line, want_stream)) {
            found = true;
            break;
        }
    fclose(f);
    return found;
}

/* The capture pipeline: the TCP stream with flow id stream+1 goes through ww_tls. */
typedef struct pipe_ud {
    int want_flow;
    ww_tls *t;
    bool any;
} pipe_ud;

static void p_open(void *ud, ww_flow *f, uint64_t ts)
{
    (void)ud, (void)f, (void)ts;
}
static void p_data(void *ud, ww_flow *f, int dir, const uint8_t *p, size_t n, uint64_t ts)
{
    pipe_ud *u = ud;
    if ((int)f->id == u->want_flow) {
        u->any = true;
        ww_tls_data(u->t, dir, p, n, ts);
    }
}
static void p_gap(void *ud, ww_flow *f, int dir, uint64_t len, uint64_t ts)
{
    pipe_ud *u = ud;
    if ((int)f->id == u->want_flow)
        ww_tls_gap(u->t, dir, len, ts);
}
static void p_close(void *ud, ww_flow *f, int reason, uint64_t ts)
{
    (void)ud, (void)f, (void)reason, (void)ts;
}
static void p_secrets(void *ud, uint32_t type, const uint8_t *data, size_t len)
{
    if (type == 0x544c534b)
        ww_keylog_add_text(ud, data, len);
}

/* Runs one stream through ww_tls; returns false when no data reached it. */
static bool run_stream(const char *cap, const char *keys, int stream, acc *a, ww_tls **out_t,
                       ww_keylog **out_kl)
{
    char err[WW_ERRBUF_SIZE];
    ww_keylog *kl = ww_keylog_new(NULL);
    T_EQ_INT(ww_keylog_load_file(kl, keys, err), WW_OK);
    ww_tls_cbs cbs = {a, on_pt, on_hs, on_an};
    ww_tls *t = ww_tls_new(NULL, kl, &cbs);
    *out_t = t;
    *out_kl = kl;
    ww_source *src = NULL;
    if (ww_source_open_file(&src, cap, err) != WW_OK) {
        fprintf(stderr, "FAIL %s: %s\n", cap, err);
        return false;
    }
    ww_source_set_secrets_fn(src, p_secrets, kl);
    pipe_ud u = {stream + 1, t, false};
    ww_stream_cbs scb = {&u, p_open, p_data, p_gap, p_close, NULL};
    ww_pktdec *dec = ww_pktdec_new(NULL, NULL, NULL, NULL);
    ww_tcp *tcp = ww_tcp_new(NULL, NULL, &scb);
    ww_pkt pkt;
    ww_seg seg;
    uint64_t last = 0;
    while (ww_source_next(src, &pkt, err) == 1) {
        last = pkt.ts_us;
        if (ww_pktdec_decode(dec, &pkt, &seg) == 1)
            ww_tcp_segment(tcp, &seg);
    }
    ww_tcp_finish(tcp, last);
    ww_tcp_free(tcp);
    ww_pktdec_free(dec);
    ww_source_free(src);
    return u.any;
}

static void check_capture(const char *name, const char *cap_rel, const char *keys_rel,
                          const char *exp_rel, int n_streams)
{
    const char *cap_s = t_shared(cap_rel);
    char cap[512], keys[512], exp[512];
    snprintf(cap, sizeof cap, "%s", cap_s);
    snprintf(keys, sizeof keys, "%s", t_shared(keys_rel));
    snprintf(exp, sizeof exp, "%s", t_shared(exp_rel));
    for (int s = 0; s < n_streams; s++) {
        acc a;
        memset(&a, 0, sizeof a);
        for (int d = 0; d < 2; d++) {
            a.md[d] = EVP_MD_CTX_new();
            EVP_DigestInit_ex(a.md[d], EVP_sha256(), NULL);
        }
        ww_tls *t = NULL;
        ww_keylog *kl = NULL;
        bool ok = run_stream(cap, keys, s, &a, &t, &kl);
        if (!ok)
            fprintf(stderr, "FAIL %s stream %d: no data from tshark\n", name, s);
        T_CHECK(ok);
        static char line[1 << 16];
        char v[128];
        T_CHECK(expected_line(exp, "tls_appdata", s, line, sizeof line));
        for (int d = 0; d < 2; d++) {
            uint8_t dg[32];
            unsigned dl = 0;
            char hex[65];
            EVP_DigestFinal_ex(a.md[d], dg, &dl);
            EVP_MD_CTX_free(a.md[d]);
            ww_hex_encode(hex, dg, 32);
            T_CHECK(json_field(line, d == 0 ? "c2s_len" : "s2c_len", v, sizeof v));
            if ((size_t)strtoull(v, NULL, 10) != a.n[d])
                fprintf(stderr, "FAIL %s stream %d dir %d: len %zu, want %s\n", name, s, d, a.n[d], v);
            T_EQ_INT(a.n[d], strtoull(v, NULL, 10));
            T_CHECK(json_field(line, d == 0 ? "c2s_sha256" : "s2c_sha256", v, sizeof v));
            if (strcmp(v, "null") != 0)
                T_EQ_STR(hex, v);
        }
        if (expected_line(exp, "tls_session", s, line, sizeof line)) {
            T_CHECK(a.hs);
            T_CHECK(json_field(line, "sni", v, sizeof v));
            T_EQ_STR(a.info.sni, strcmp(v, "null") == 0 ? "" : v);
            T_CHECK(json_field(line, "cipher_suite", v, sizeof v));
            T_EQ_STR(ww_tls_cipher_name(a.info.cipher), v);
            T_CHECK(json_field(line, "version", v, sizeof v));
            char *paren = strstr(v, " (0x");
            if (paren != NULL)
                *paren = '\0';
            T_EQ_STR(ww_tls_version_name(a.info.version), v);
        }
        T_CHECK(ww_tls_decrypted(t));
        ww_tls_free(t);
        ww_keylog_free(kl);
    }
}

static bool have_corpus(void)
{
    return access(t_shared("corpus/wireshark/README.md"), R_OK) == 0;
}

#define W "corpus/wireshark/"
#define CASE(nm, cap, keys, exp, n)                                                                \
    T_CASE(nm)                                                                                     \
    {                                                                                              \
        if (!have_corpus())                                                             \
            T_SKIP("../shared/corpus/wireshark is absent");                              \
        check_capture(#nm, W cap, W keys, W exp, n);                                               \
    }

CASE(corpus_tls13_rfc8446, "tls13-rfc8446.pcap", "tls13-rfc8446.keys", "tls13-rfc8446.expected.jsonl", 2)
CASE(corpus_tls13_rfc8446_noearly, "tls13-rfc8446.pcap", "tls13-rfc8446-noearly.keys",
     "tls13-rfc8446.noearly.expected.jsonl", 2)
CASE(corpus_tls12_chacha20poly1305, "tls12-chacha20poly1305.pcap", "tls12-chacha20poly1305.keys",
     "tls12-chacha20poly1305.expected.jsonl", 7)
CASE(corpus_http2_data_reassembly, "http2-data-reassembly.pcap", "http2-data-reassembly.keys",
     "http2-data-reassembly.expected.jsonl", 1)
CASE(corpus_http2_brotli, "http2-brotli.pcapng", "http2-brotli.dsb.keys", "http2-brotli.expected.jsonl", 1)
CASE(corpus_tls12_dsb, "tls12-dsb.pcapng", "tls12-dsb.dsb.keys", "tls12-dsb.expected.jsonl", 2)
CASE(corpus_http2_follow_multistream, "http2_follow_multistream.pcapng",
     "http2_follow_multistream.dsb.keys", "http2_follow_multistream.expected.jsonl", 1)
CASE(corpus_challenge01_ooo, "challenge01_ooo_stream.pcapng.gz", "challenge01_ooo_stream.dsb.keys",
     "challenge01_ooo_stream.expected.jsonl", 1)
CASE(corpus_dhe1_tls10_cbc, "dhe1.pcapng.gz", "dhe1_keylog.dat", "dhe1.expected.jsonl", 1)
CASE(corpus_tls13_draft20, "tls13-20-chacha20poly1305.pcap", "tls13-20-chacha20poly1305.keys",
     "tls13-20-chacha20poly1305.expected.jsonl", 2)
