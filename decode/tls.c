/*
 * tls.c - passive TLS 1.0-1.3 for one connection: record layer, handshake parsing, key
 * schedule and decryption with keys from a key log (RFC 5246, RFC 8446).
 *
 *   record (RFC 8446 5.1):  +------+---------+---------+------------------------+
 *                           | type | version | length  | fragment (length bytes)|
 *                           |  1   |    2    |    2    |  <= 2^14 + 2048        |
 *                           +------+---------+---------+------------------------+
 *   handshake message:      | msg_type 1 | length 3 | body ... |  (may span records)
 *
 * Per direction: records are rebuilt from the byte stream (zero copy when a record lies inside
 * one chunk; otherwise gathered in a fixed 18 KiB buffer), handshake messages from records.
 * Application records are decrypted into one plaintext buffer and handed on in order.
 *
 * Keys: TLS 1.2 and older take the CLIENT_RANDOM master secret and expand the key block
 * (TLS1-PRF). TLS 1.3 takes the handshake/traffic secrets and derives key and IV with
 * HKDF-Expand-Label; the server's Finished / the client's Finished switch to the application
 * secrets; KeyUpdate rolls them ("traffic upd"). Client 0-RTT records are opened with
 * CLIENT_EARLY_TRAFFIC_SECRET when logged; otherwise the client's handshake key is tried on
 * each record and the ones it does not open are skipped as early data (as Wireshark does).
 *
 * A record that needs a key we do not have yet (no ServerHello yet, secret not logged yet)
 * waits, with every record after it in that direction, in a backlog of at most 256 KiB;
 * a new key log generation or a ServerHello retries it. Over the bound the direction is given
 * up (anomaly "no-key"). A tag/MAC failure is an anomaly ("decrypt-failed") and the record is
 * dropped; an unknown suite ("unsupported-cipher") or a gap ("gap") stop decryption.
 */
#include "decode/tls_int.h"

#define REC_MAX (16384 + 2048)
#define HS_MAX (64 * 1024)
#define BACKLOG_MAX (256 * 1024)
#define FAILS_MAX 16 /* consecutive tag failures before a direction is given up */

enum { CT_CCS = 20, CT_ALERT = 21, CT_HANDSHAKE = 22, CT_APPDATA = 23, CT_HEARTBEAT = 24 };
enum { HS_CH = 1, HS_SH = 2, HS_EOED = 5, HS_EE = 8, HS_FIN = 20, HS_KU = 24 };
/* TLS 1.3 key phases of one direction */
enum { PH_NONE = 0, PH_EARLY, PH_HS, PH_AP };

/* ---- cipher suites ---- */
enum { PRF_SHA256 = 0, PRF_SHA384 };
typedef struct suite {
    uint16_t id;
    uint8_t kind;    /* enum ww_tlsc_kind; NONE = named but not decrypted */
    uint8_t key_len; /* bytes */
    uint8_t mac;     /* CBC: 1 SHA1, 2 SHA256, 3 SHA384 */
    uint8_t prf;     /* PRF_SHA256 / PRF_SHA384 (TLS 1.2), hash of TLS 1.3 suites */
    const char *name;
} suite;

#define GCM WW_TLSC_AES_GCM
#define CHA WW_TLSC_CHACHA
#define CBC WW_TLSC_AES_CBC
static const suite suites[] = {
    {0x1301, GCM, 16, 0, PRF_SHA256, "TLS_AES_128_GCM_SHA256"},
    {0x1302, GCM, 32, 0, PRF_SHA384, "TLS_AES_256_GCM_SHA384"},
    {0x1303, CHA, 32, 0, PRF_SHA256, "TLS_CHACHA20_POLY1305_SHA256"},
    {0x1304, 0, 0, 0, 0, "TLS_AES_128_CCM_SHA256"},
    {0x1305, 0, 0, 0, 0, "TLS_AES_128_CCM_8_SHA256"},
    {0x0004, 0, 0, 0, 0, "TLS_RSA_WITH_RC4_128_MD5"},
    {0x0005, 0, 0, 0, 0, "TLS_RSA_WITH_RC4_128_SHA"},
    {0x000a, 0, 0, 0, 0, "TLS_RSA_WITH_3DES_EDE_CBC_SHA"},
    {0x0016, 0, 0, 0, 0, "TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA"},
    {0x002f, CBC, 16, 1, PRF_SHA256, "TLS_RSA_WITH_AES_128_CBC_SHA"},
    {0x0032, CBC, 16, 1, PRF_SHA256, "TLS_DHE_DSS_WITH_AES_128_CBC_SHA"},
    {0x0033, CBC, 16, 1, PRF_SHA256, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA"},
    {0x0035, CBC, 32, 1, PRF_SHA256, "TLS_RSA_WITH_AES_256_CBC_SHA"},
    {0x0038, CBC, 32, 1, PRF_SHA256, "TLS_DHE_DSS_WITH_AES_256_CBC_SHA"},
    {0x0039, CBC, 32, 1, PRF_SHA256, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA"},
    {0x003c, CBC, 16, 2, PRF_SHA256, "TLS_RSA_WITH_AES_128_CBC_SHA256"},
    {0x003d, CBC, 32, 2, PRF_SHA256, "TLS_RSA_WITH_AES_256_CBC_SHA256"},
    {0x0067, CBC, 16, 2, PRF_SHA256, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256"},
    {0x006b, CBC, 32, 2, PRF_SHA256, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256"},
    {0x008c, CBC, 16, 1, PRF_SHA256, "TLS_PSK_WITH_AES_128_CBC_SHA"},
    {0x008d, CBC, 32, 1, PRF_SHA256, "TLS_PSK_WITH_AES_256_CBC_SHA"},
    {0x009c, GCM, 16, 0, PRF_SHA256, "TLS_RSA_WITH_AES_128_GCM_SHA256"},
    {0x009d, GCM, 32, 0, PRF_SHA384, "TLS_RSA_WITH_AES_256_GCM_SHA384"},
    {0x009e, GCM, 16, 0, PRF_SHA256, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256"},
    {0x009f, GCM, 32, 0, PRF_SHA384, "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384"},
    {0x00a8, GCM, 16, 0, PRF_SHA256, "TLS_PSK_WITH_AES_128_GCM_SHA256"},
    {0x00a9, GCM, 32, 0, PRF_SHA384, "TLS_PSK_WITH_AES_256_GCM_SHA384"},
    {0x00aa, GCM, 16, 0, PRF_SHA256, "TLS_DHE_PSK_WITH_AES_128_GCM_SHA256"},
    {0x00ab, GCM, 32, 0, PRF_SHA384, "TLS_DHE_PSK_WITH_AES_256_GCM_SHA384"},
    {0x00ac, GCM, 16, 0, PRF_SHA256, "TLS_RSA_PSK_WITH_AES_128_GCM_SHA256"},
    {0x00ad, GCM, 32, 0, PRF_SHA384, "TLS_RSA_PSK_WITH_AES_256_GCM_SHA384"},
    {0xc009, CBC, 16, 1, PRF_SHA256, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA"},
    {0xc00a, CBC, 32, 1, PRF_SHA256, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA"},
    {0xc013, CBC, 16, 1, PRF_SHA256, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"},
    {0xc014, CBC, 32, 1, PRF_SHA256, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA"},
    {0xc023, CBC, 16, 2, PRF_SHA256, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256"},
    {0xc024, CBC, 32, 3, PRF_SHA384, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384"},
    {0xc027, CBC, 16, 2, PRF_SHA256, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256"},
    {0xc028, CBC, 32, 3, PRF_SHA384, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384"},
    {0xc02b, GCM, 16, 0, PRF_SHA256, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"},
    {0xc02c, GCM, 32, 0, PRF_SHA384, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"},
    {0xc02d, GCM, 16, 0, PRF_SHA256, "TLS_ECDH_ECDSA_WITH_AES_128_GCM_SHA256"},
    {0xc02e, GCM, 32, 0, PRF_SHA384, "TLS_ECDH_ECDSA_WITH_AES_256_GCM_SHA384"},
    {0xc02f, GCM, 16, 0, PRF_SHA256, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"},
    {0xc030, GCM, 32, 0, PRF_SHA384, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"},
    {0xc031, GCM, 16, 0, PRF_SHA256, "TLS_ECDH_RSA_WITH_AES_128_GCM_SHA256"},
    {0xc032, GCM, 32, 0, PRF_SHA384, "TLS_ECDH_RSA_WITH_AES_256_GCM_SHA384"},
    {0xc035, CBC, 16, 1, PRF_SHA256, "TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA"},
    {0xc036, CBC, 32, 1, PRF_SHA256, "TLS_ECDHE_PSK_WITH_AES_256_CBC_SHA"},
    {0xc09c, 0, 0, 0, 0, "TLS_RSA_WITH_AES_128_CCM"},
    {0xc0ac, 0, 0, 0, 0, "TLS_ECDHE_ECDSA_WITH_AES_128_CCM"},
    {0xcca8, CHA, 32, 0, PRF_SHA256, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"},
    {0xcca9, CHA, 32, 0, PRF_SHA256, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"},
    {0xccaa, CHA, 32, 0, PRF_SHA256, "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256"},
    {0xccab, CHA, 32, 0, PRF_SHA256, "TLS_PSK_WITH_CHACHA20_POLY1305_SHA256"},
    {0xccac, CHA, 32, 0, PRF_SHA256, "TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256"},
    {0xccad, CHA, 32, 0, PRF_SHA256, "TLS_DHE_PSK_WITH_CHACHA20_POLY1305_SHA256"},
    {0xccae, CHA, 32, 0, PRF_SHA256, "TLS_RSA_PSK_WITH_CHACHA20_POLY1305_SHA256"},
};
#undef GCM
#undef CHA
#undef CBC

static const suite *suite_find(uint16_t id)
{
    for (size_t i = 0; i < WW_ARRAY_LEN(suites); i++)
        if (suites[i].id == id)
            return &suites[i];
    return NULL;
}

const char *ww_tls_cipher_name(uint16_t id)
{
    const suite *s = suite_find(id);
    return s != NULL ? s->name : NULL;
}

const char *ww_tls_version_name(uint16_t v)
{
    switch (v) {
    case 0x0300: return "SSL 3.0";
    case 0x0301: return "TLS 1.0";
    case 0x0302: return "TLS 1.1";
    case 0x0303: return "TLS 1.2";
    case 0x0304: return "TLS 1.3";
    case 0x7f12: return "TLS 1.3 (draft 18)";
    case 0x7f13: return "TLS 1.3 (draft 19)";
    case 0x7f14: return "TLS 1.3 (draft 20)";
    case 0x7f15: return "TLS 1.3 (draft 21)";
    case 0x7f16: return "TLS 1.3 (draft 22)";
    case 0x7f17: return "TLS 1.3 (draft 23)";
    case 0x7f1c: return "TLS 1.3 (draft 28)";
    default: return "unknown";
    }
}

/* The HelloRetryRequest random: SHA-256("HelloRetryRequest") (RFC 8446 4.1.3). */
static const uint8_t hrr_random[32] = {
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c};

/* ---- state ---- */
typedef struct tls_dir {
    /* record reassembly */
    uint8_t hdr[5];
    uint8_t hdr_have;
    size_t rec_len, rec_have;
    uint8_t *rec; /* REC_MAX, allocated on the first record split over chunks */
    /* a split TLS 1.3 application record opened piece by piece (open_piecewise): rec holds
     * its plaintext so far, not yet authenticated; tag its last 16 bytes as they come */
    bool piecewise, piecewise_ok;
    uint8_t tag[16];
    /* handshake message reassembly */
    uint8_t hs_hdr[4];
    uint8_t hs_hdr_have;
    uint32_t hs_len, hs_have;
    bool hs_keep; /* gather this message's body (a type we parse, under HS_MAX) */
    ww_buf hs;
    /* protection */
    ww_tlsc c;
    bool ccs;         /* TLS <= 1.2: ChangeCipherSpec seen, records are protected */
    int phase;        /* TLS 1.3 phase wanted */
    int installed;    /* TLS 1.3 phase whose key is in c (PH_NONE: none) */
    uint8_t secret[WW_KEYLOG_SECRET_MAX]; /* TLS 1.3 current traffic secret */
    size_t secret_len;
    unsigned fails;
    bool fail_reported;
    /* records waiting for a key: 5-byte header + fragment, back to back */
    ww_buf backlog;
    bool backlog_app; /* it holds protected records */
    /* in the key log's list of waiting directions (the shared key-wait budget) */
    struct tls_dir *wprev, *wnext;
    bool wlisted;
    size_t wbytes; /* backlog bytes counted in the budget */
    struct ww_tls *owner;
    int dirno;
    bool dead;        /* given up: records are framed and dropped (or not even framed) */
    bool framing_lost;
} tls_dir;

struct ww_tls {
    const ww_mem *mem;
    ww_keylog *kl;
    ww_tls_cbs cbs;
    ww_tls_info info;
    char alpn_offered[128];
    uint8_t client_random[32], server_random[32];
    bool have_cr, have_sh, tls13, draft, early_offered, hrr, etm;
    bool handshake_fired, decrypted, undecryptable, unsupported, keys12;
    bool drain_pending, nokey_reported;
    uint64_t kl_gen;
    const suite *suite;
    tls_dir d[2];
    uint8_t out[REC_MAX];
};

static void anomaly(ww_tls *t, const char *type, const char *detail)
{
    if (t->cbs.anomaly != NULL)
        t->cbs.anomaly(t->cbs.ud, type, detail);
}

static void fire_handshake(ww_tls *t)
{
    if (t->handshake_fired || !t->have_sh)
        return;
    t->handshake_fired = true;
    if (t->cbs.handshake != NULL)
        t->cbs.handshake(t->cbs.ud, &t->info);
}

static void deliver(ww_tls *t, int dir, const uint8_t *p, size_t n, uint64_t ts_us)
{
    fire_handshake(t);
    t->decrypted = true;
    if (n > 0 && t->cbs.plaintext != NULL)
        t->cbs.plaintext(t->cbs.ud, dir, p, n, ts_us);
}

bool ww_tls_probe(const uint8_t *p, size_t n)
{
    if (n < 1 || p[0] != CT_HANDSHAKE)
        return false;
    if (n >= 2 && p[1] != 3)
        return false;
    if (n >= 3 && p[2] > 4)
        return false;
    if (n >= 6 && p[5] != HS_CH && p[5] != HS_SH)
        return false;
    return true;
}

ww_tls *ww_tls_new(const ww_mem *mem, ww_keylog *kl, const ww_tls_cbs *cbs)
{
    ww_tls *t = ww_calloc(mem, 1, sizeof *t);
    if (t == NULL)
        return NULL;
    t->mem = mem;
    t->kl = kl;
    if (cbs != NULL)
        t->cbs = *cbs;
    t->kl_gen = ww_keylog_generation(kl);
    for (int i = 0; i < 2; i++) {
        ww_buf_init(&t->d[i].hs, mem, HS_MAX);
        ww_buf_init(&t->d[i].backlog, mem, BACKLOG_MAX + 5 + REC_MAX);
        t->d[i].owner = t;
        t->d[i].dirno = i;
    }
    return t;
}

/* ---- handshake messages ---- */

/* Copies a length-prefixed name into a NUL-terminated text field, unprintables as '?'. */
static void copy_text(char *dst, size_t cap, const uint8_t *p, size_t n)
{
    if (n > cap - 1)
        n = cap - 1;
    for (size_t i = 0; i < n; i++)
        dst[i] = (p[i] >= 0x20 && p[i] < 0x7f) ? (char)p[i] : '?';
    dst[n] = '\0';
}

/* ALPN extension: ProtocolNameList. offered: all names comma-joined; else the first. */
static void parse_alpn(char *dst, size_t cap, ww_rd r, bool all)
{
    uint16_t list_len;
    size_t k = 0;
    ww_rd l;
    ww_slice s;
    if (!ww_rd_be16(&r, &list_len) || !ww_rd_bytes(&r, &s, list_len))
        return;
    l = ww_rd_init(s.ptr, s.len);
    dst[0] = '\0';
    while (ww_rd_left(&l) > 0) {
        uint8_t nl;
        ww_slice name;
        if (!ww_rd_u8(&l, &nl) || !ww_rd_bytes(&l, &name, nl))
            return;
        if (k + (k > 0) + nl + 1 > cap)
            return;
        if (k > 0)
            dst[k++] = ',';
        copy_text(dst + k, cap - k, name.ptr, name.len);
        k += name.len;
        if (!all)
            return;
    }
}

/* Walks an extensions block; calls back per extension. Returns false when malformed. */
typedef void (*ext_fn)(ww_tls_hello *h, uint16_t type, ww_rd body);
static bool walk_exts(ww_tls_hello *h, ww_rd *r, ext_fn fn)
{
    uint16_t total;
    ww_slice all;
    if (ww_rd_left(r) == 0)
        return true; /* no extensions */
    if (!ww_rd_be16(r, &total) || !ww_rd_bytes(r, &all, total))
        return false;
    ww_rd e = ww_rd_init(all.ptr, all.len);
    while (ww_rd_left(&e) > 0) {
        uint16_t type, len;
        ww_slice b;
        if (!ww_rd_be16(&e, &type) || !ww_rd_be16(&e, &len) || !ww_rd_bytes(&e, &b, len))
            return false;
        fn(h, type, ww_rd_init(b.ptr, b.len));
    }
    return true;
}

static void ch_ext(ww_tls_hello *h, uint16_t type, ww_rd b)
{
    if (type == 0) { /* server_name: list of (type 1, name 2+n) */
        uint16_t list_len, nl;
        uint8_t nt;
        ww_slice name;
        if (ww_rd_be16(&b, &list_len) && ww_rd_u8(&b, &nt) && nt == 0 && ww_rd_be16(&b, &nl) &&
            ww_rd_bytes(&b, &name, nl))
            copy_text(h->sni, sizeof h->sni, name.ptr, name.len);
    } else if (type == 16) {
        parse_alpn(h->alpn, sizeof h->alpn, b, true);
    } else if (type == 42) {
        h->early_offered = true;
    }
}

static void sh_ext(ww_tls_hello *h, uint16_t type, ww_rd b)
{
    uint16_t v;
    if (type == 43 && ww_rd_be16(&b, &v)) { /* supported_versions: the selected one */
        h->version = v;
    } else if (type == 16) {
        parse_alpn(h->alpn, sizeof h->alpn, b, false);
    } else if (type == 22) {
        h->etm = true; /* encrypt_then_mac */
    }
}

static void ee_ext(ww_tls_hello *h, uint16_t type, ww_rd b)
{
    if (type == 16)
        parse_alpn(h->alpn, sizeof h->alpn, b, false);
}

int ww_tls_hello_parse(ww_tls_hello *h, int hs_type, const uint8_t *p, size_t n)
{
    ww_rd r = ww_rd_init(p, n);
    uint16_t cs_len;
    uint8_t sid_len, comp_len;
    memset(h, 0, sizeof *h);
    switch (hs_type) {
    case HS_CH:
        if (!ww_rd_be16(&r, &h->legacy_version) || !ww_rd_copy(&r, h->random, 32) ||
            !ww_rd_u8(&r, &sid_len) || !ww_rd_skip(&r, sid_len) || !ww_rd_be16(&r, &cs_len) ||
            !ww_rd_skip(&r, cs_len) || !ww_rd_u8(&r, &comp_len) || !ww_rd_skip(&r, comp_len))
            return WW_E_INVALID;
        h->version = h->legacy_version;
        h->ext_bad = !walk_exts(h, &r, ch_ext);
        return WW_OK;
    case HS_SH: {
        if (!ww_rd_be16(&r, &h->legacy_version) || !ww_rd_copy(&r, h->random, 32))
            return WW_E_INVALID;
        /* TLS 1.3 drafts (< 22): no session id, no compression */
        bool draft = (h->legacy_version >> 8) == 0x7f;
        if (!draft && (!ww_rd_u8(&r, &sid_len) || !ww_rd_skip(&r, sid_len)))
            return WW_E_INVALID;
        if (!ww_rd_be16(&r, &h->cipher))
            return WW_E_INVALID;
        if (!draft && !ww_rd_u8(&r, &comp_len))
            return WW_E_INVALID;
        h->version = h->legacy_version;
        h->ext_bad = !walk_exts(h, &r, sh_ext);
        return WW_OK;
    }
    case HS_EE:
        h->ext_bad = !walk_exts(h, &r, ee_ext);
        return WW_OK;
    default:
        return WW_E_UNSUPPORTED;
    }
}

static void parse_client_hello(ww_tls *t, ww_rd r)
{
    ww_tls_hello h;
    if (ww_tls_hello_parse(&h, HS_CH, r.p, ww_rd_left(&r)) != WW_OK) {
        anomaly(t, "bad-handshake", "malformed ClientHello");
        return;
    }
    memcpy(t->client_random, h.random, 32);
    if (h.sni[0] != '\0')
        memcpy(t->info.sni, h.sni, sizeof t->info.sni);
    if (h.alpn[0] != '\0')
        memcpy(t->alpn_offered, h.alpn, sizeof t->alpn_offered);
    if (h.early_offered)
        t->early_offered = true;
    t->have_cr = true;
    t->drain_pending = true; /* server records may wait for the client random */
    if (h.ext_bad)
        anomaly(t, "bad-handshake", "malformed ClientHello extensions");
}

static void parse_server_hello(ww_tls *t, ww_rd r)
{
    ww_tls_hello h;
    if (ww_tls_hello_parse(&h, HS_SH, r.p, ww_rd_left(&r)) != WW_OK) {
        anomaly(t, "bad-handshake", "malformed ServerHello");
        return;
    }
    uint16_t cs = h.cipher;
    t->draft = (h.legacy_version >> 8) == 0x7f;
    t->info.version = h.version;
    t->info.cipher = cs;
    t->etm = h.etm;
    if (h.alpn[0] != '\0' && strlen(h.alpn) < sizeof t->info.alpn)
        memcpy(t->info.alpn, h.alpn, sizeof t->info.alpn);
    if (h.ext_bad)
        anomaly(t, "bad-handshake", "malformed ServerHello extensions");
    if (memcmp(h.random, hrr_random, 32) == 0) {
        t->hrr = true; /* a HelloRetryRequest: the real ServerHello follows a new ClientHello */
        return;
    }
    memcpy(t->server_random, h.random, 32);
    t->have_sh = true;
    t->tls13 = t->info.version == 0x0304 || (t->info.version >> 8) == 0x7f;
    t->suite = suite_find(cs);
    if (t->suite == NULL || t->suite->kind == WW_TLSC_NONE || t->info.version < 0x0301 ||
        (t->etm && !t->tls13 && t->suite->kind == WW_TLSC_AES_CBC)) {
        char d[64];
        snprintf(d, sizeof d, "cipher suite 0x%04x%s", cs, t->etm ? " with encrypt-then-mac" : "");
        t->unsupported = true;
        anomaly(t, "unsupported-cipher", d);
        fire_handshake(t);
        return;
    }
    if (t->tls13) {
        t->d[WW_DIR_TOCLIENT].phase = PH_HS;
        if (t->d[WW_DIR_TOSERVER].phase == PH_NONE)
            t->d[WW_DIR_TOSERVER].phase = t->early_offered && !t->hrr ? PH_EARLY : PH_HS;
    } else {
        fire_handshake(t); /* TLS 1.2: everything is known (ALPN is in the ServerHello) */
    }
    t->drain_pending = true; /* client records may wait for this ServerHello */
}

static void tls13_next_secret(ww_tls *t, int dir);

static void hs_message(ww_tls *t, int dir, uint8_t type, const uint8_t *p, size_t n)
{
    tls_dir *d = &t->d[dir];
    ww_rd r = ww_rd_init(p, n);
    switch (type) {
    case HS_CH:
        if (dir == WW_DIR_TOSERVER && !t->have_cr) /* a second one (after HRR) has the same random */
            parse_client_hello(t, r);
        break;
    case HS_SH:
        if (dir == WW_DIR_TOCLIENT && !t->have_sh)
            parse_server_hello(t, r);
        break;
    case HS_EE:
        if (dir == WW_DIR_TOCLIENT && t->tls13) {
            ww_tls_hello h;
            if (ww_tls_hello_parse(&h, HS_EE, r.p, ww_rd_left(&r)) != WW_OK || h.ext_bad)
                anomaly(t, "bad-handshake", "malformed EncryptedExtensions");
            if (h.alpn[0] != '\0' && strlen(h.alpn) < sizeof t->info.alpn)
                memcpy(t->info.alpn, h.alpn, sizeof t->info.alpn);
            fire_handshake(t);
        }
        break;
    case HS_EOED:
        if (dir == WW_DIR_TOSERVER && t->tls13 && d->phase == PH_EARLY)
            d->phase = PH_HS;
        break;
    case HS_FIN:
        if (t->tls13 && d->phase == PH_HS)
            d->phase = PH_AP;
        break;
    case HS_KU:
        if (t->tls13 && d->phase == PH_AP && d->installed == PH_AP)
            tls13_next_secret(t, dir);
        break;
    default:
        break;
    }
}

/* Feeds handshake-protocol bytes (plaintext, or decrypted) of one direction. */
static void hs_feed(ww_tls *t, int dir, const uint8_t *p, size_t n)
{
    tls_dir *d = &t->d[dir];
    while (n > 0) {
        if (d->hs_hdr_have < 4) {
            d->hs_hdr[d->hs_hdr_have++] = *p++;
            n--;
            if (d->hs_hdr_have < 4)
                continue;
            d->hs_len = (uint32_t)d->hs_hdr[1] << 16 | (uint32_t)d->hs_hdr[2] << 8 | d->hs_hdr[3];
            d->hs_have = 0;
            uint8_t ty = d->hs_hdr[0];
            d->hs_keep = d->hs_len <= HS_MAX && (ty == HS_CH || ty == HS_SH || ty == HS_EE ||
                                                 ty == HS_FIN || ty == HS_KU || ty == HS_EOED);
            ww_buf_reset(&d->hs);
        }
        size_t take = WW_MIN(n, (size_t)(d->hs_len - d->hs_have));
        if (d->hs_keep && ww_buf_append(&d->hs, p, take) != WW_OK)
            d->hs_keep = false;
        d->hs_have += (uint32_t)take;
        p += take;
        n -= take;
        if (d->hs_have == d->hs_len) {
            static const uint8_t empty[1];
            if (d->hs_keep)
                hs_message(t, dir, d->hs_hdr[0], d->hs.len > 0 ? d->hs.data : empty, d->hs.len);
            d->hs_hdr_have = 0;
            ww_buf_reset(&d->hs);
        }
    }
}

/* ---- keys ---- */

static const char *hash_name(const suite *s)
{
    return s->prf == PRF_SHA384 ? "SHA384" : "SHA256";
}

/* TLS 1.3: derives key/iv from d->secret into d->c. */
static int tls13_install_secret(ww_tls *t, int dir)
{
    tls_dir *d = &t->d[dir];
    uint8_t key[32], iv[12];
    const char *md = hash_name(t->suite);
    int rc = ww_tls_hkdf_expand_label(key, t->suite->key_len, md, d->secret, d->secret_len, "key",
                                      NULL, 0);
    if (rc == WW_OK)
        rc = ww_tls_hkdf_expand_label(iv, 12, md, d->secret, d->secret_len, "iv", NULL, 0);
    if (rc == WW_OK)
        rc = ww_tlsc_set_key(&d->c, t->suite->kind, key, t->suite->key_len, iv, 12, NULL, 0,
                             NULL);
    d->c.tls13 = true;
    d->c.no_aad = t->draft && (t->info.version & 0xff) < 25;
    ww_wipe(key, sizeof key);
    ww_wipe(iv, sizeof iv);
    return rc;
}

/* TLS 1.3: makes the key of phase ph current. Returns WW_OK or WW_E_NOKEY. */
static int tls13_install(ww_tls *t, int dir, int ph)
{
    tls_dir *d = &t->d[dir];
    static const int labels[2][4] = {
        {-1, WW_KL_CLIENT_EARLY, WW_KL_CLIENT_HS, WW_KL_CLIENT_AP0},
        {-1, -1, WW_KL_SERVER_HS, WW_KL_SERVER_AP0},
    };
    if (d->installed == ph)
        return WW_OK;
    int label = labels[dir][ph];
    if (label < 0)
        return WW_E_NOKEY;
    size_t hl = t->suite->prf == PRF_SHA384 ? 48 : 32;
    uint8_t s[WW_KEYLOG_SECRET_MAX];
    if (!t->have_cr)
        return WW_E_NOKEY;
    size_t sl = ww_keylog_lookup(t->kl, t->client_random, label, s);
    if (sl == 0)
        return WW_E_NOKEY;
    if (sl != hl) {
        ww_wipe(s, sizeof s);
        return WW_E_CRYPTO;
    }
    memcpy(d->secret, s, sl);
    d->secret_len = sl;
    ww_wipe(s, sizeof s);
    int rc = tls13_install_secret(t, dir);
    if (rc == WW_OK)
        d->installed = ph;
    return rc;
}

/* KeyUpdate: application_traffic_secret_N+1 = HKDF-Expand-Label(secret_N, "traffic upd", "", Hash.length) */
static void tls13_next_secret(ww_tls *t, int dir)
{
    tls_dir *d = &t->d[dir];
    uint8_t next[WW_KEYLOG_SECRET_MAX];
    if (ww_tls_hkdf_expand_label(next, d->secret_len, hash_name(t->suite), d->secret,
                                 d->secret_len, "traffic upd", NULL, 0) != WW_OK ||
        (memcpy(d->secret, next, d->secret_len), tls13_install_secret(t, dir)) != WW_OK) {
        anomaly(t, "decrypt-failed", "KeyUpdate: derivation failed");
        d->dead = true;
    }
    ww_wipe(next, sizeof next);
}

/* TLS <= 1.2: the key block from the CLIENT_RANDOM master secret, both directions. */
static int tls12_keys(ww_tls *t)
{
    if (t->keys12)
        return WW_OK;
    const suite *s = t->suite;
    uint8_t ms[WW_KEYLOG_SECRET_MAX], seed[64], kb[2 * 48 + 2 * 32 + 2 * 16];
    if (!t->have_cr || ww_keylog_lookup(t->kl, t->client_random, WW_KL_CLIENT_RANDOM, ms) != 48)
        return WW_E_NOKEY;
    size_t mac = s->kind != WW_TLSC_AES_CBC ? 0 : s->mac == 1 ? 20 : s->mac == 2 ? 32 : 48;
    size_t key = s->key_len;
    size_t iv = s->kind == WW_TLSC_AES_GCM ? 4 : s->kind == WW_TLSC_CHACHA ? 12 : 16;
    const char *md = t->info.version < 0x0303 ? "MD5-SHA1" : hash_name(s);
    const char *mac_md = s->mac == 1 ? "SHA1" : s->mac == 2 ? "SHA256" : "SHA384";
    memcpy(seed, t->server_random, 32);
    memcpy(seed + 32, t->client_random, 32);
    size_t need = 2 * (mac + key + iv);
    int rc = ww_tls_prf(kb, need, md, ms, 48, "key expansion", seed, 64);
    ww_wipe(ms, sizeof ms);
    for (int dir = 0; rc == WW_OK && dir < 2; dir++) {
        /* client_MAC, server_MAC, client_key, server_key, client_IV, server_IV */
        const uint8_t *mk = kb + (size_t)dir * mac;
        const uint8_t *k = kb + 2 * mac + (size_t)dir * key;
        const uint8_t *v = kb + 2 * mac + 2 * key + (size_t)dir * iv;
        /* the direction's seq started at its CCS; keep it when keys come late */
        uint64_t seq = t->d[dir].c.seq;
        bool cbc = s->kind == WW_TLSC_AES_CBC;
        bool explicit_iv = cbc && t->info.version >= 0x0302;
        rc = ww_tlsc_set_key(&t->d[dir].c, s->kind, k, key, v, cbc && explicit_iv ? 0 : iv, mk,
                             mac, mac_md);
        t->d[dir].c.explicit_iv = explicit_iv;
        t->d[dir].c.seq = seq;
    }
    ww_wipe(kb, sizeof kb);
    if (rc == WW_OK)
        t->keys12 = true;
    return rc;
}

/* ---- records ---- */

static void decrypt_failed(ww_tls *t, int dir, const char *what)
{
    tls_dir *d = &t->d[dir];
    t->undecryptable = true;
    d->c.seq++; /* skip the record */
    fire_handshake(t);
    if (!d->fail_reported) {
        char det[96];
        d->fail_reported = true;
        snprintf(det, sizeof det, "%s record of the %s failed authentication", what,
                 dir == WW_DIR_TOSERVER ? "client" : "server");
        anomaly(t, "decrypt-failed", det);
    }
    if (++d->fails >= FAILS_MAX)
        d->dead = true;
}

/* TLS 1.3: the inner plaintext pt[0..n) (RFC 8446 5.4): content || type || zeros. */
static void tls13_inner_of(ww_tls *t, int dir, const uint8_t *pt, size_t n, uint64_t ts_us)
{
    while (n > 0 && pt[n - 1] == 0)
        n--;
    if (n == 0) {
        anomaly(t, "bad-record", "TLS 1.3 record without content type");
        return;
    }
    uint8_t type = pt[n - 1];
    n--;
    if (type == CT_APPDATA)
        deliver(t, dir, pt, n, ts_us);
    else if (type == CT_HANDSHAKE)
        hs_feed(t, dir, pt, n);
}

static void tls13_inner(ww_tls *t, int dir, size_t n, uint64_t ts_us)
{
    tls13_inner_of(t, dir, t->out, n, ts_us);
}

static int tls13_record(ww_tls *t, int dir, const uint8_t hdr[5], const uint8_t *body, size_t n,
                        uint64_t ts_us)
{
    tls_dir *d = &t->d[dir];
    size_t out_len = 0;
    int rc;
    if (d->phase == PH_EARLY) {
        /* 0-RTT: the early key when logged, else (or once it fails) the handshake key; what
         * neither opens is early data we cannot read. */
        if (d->installed == PH_EARLY || tls13_install(t, dir, PH_EARLY) == WW_OK) {
            rc = ww_tlsc_open(&d->c, t->out, sizeof t->out, &out_len, hdr, body, n);
            if (rc == WW_OK) {
                tls13_inner(t, dir, out_len, ts_us);
                return WW_OK;
            }
        }
        int irc = tls13_install(t, dir, PH_HS);
        if (irc == WW_E_NOKEY)
            return irc;
        if (irc != WW_OK) {
            decrypt_failed(t, dir, "a");
            d->dead = true;
            return WW_OK;
        }
        rc = ww_tlsc_open(&d->c, t->out, sizeof t->out, &out_len, hdr, body, n);
        if (rc != WW_OK) {
            t->undecryptable = true; /* early data without its key: skipped */
            return WW_OK;
        }
        d->phase = PH_HS;
        tls13_inner(t, dir, out_len, ts_us);
        return WW_OK;
    }
    rc = tls13_install(t, dir, d->phase);
    if (rc == WW_E_NOKEY)
        return rc;
    if (rc != WW_OK) {
        decrypt_failed(t, dir, "a"); /* a secret of the wrong size for the suite */
        d->dead = true;
        return WW_OK;
    }
    rc = ww_tlsc_open(&d->c, t->out, sizeof t->out, &out_len, hdr, body, n);
    if (rc != WW_OK) {
        decrypt_failed(t, dir, d->phase == PH_AP ? "an application" : "a handshake");
        return WW_OK;
    }
    d->fails = 0;
    tls13_inner(t, dir, out_len, ts_us);
    return WW_OK;
}

static int tls12_record(ww_tls *t, int dir, const uint8_t hdr[5], const uint8_t *body, size_t n,
                        uint64_t ts_us)
{
    tls_dir *d = &t->d[dir];
    size_t out_len = 0;
    int rc = tls12_keys(t);
    if (rc == WW_E_NOKEY)
        return rc;
    if (rc != WW_OK) {
        decrypt_failed(t, dir, "a");
        d->dead = true;
        return WW_OK;
    }
    rc = ww_tlsc_open(&d->c, t->out, sizeof t->out, &out_len, hdr, body, n);
    if (rc != WW_OK) {
        decrypt_failed(t, dir, hdr[0] == CT_APPDATA ? "an application" : "a protected");
        return WW_OK;
    }
    d->fails = 0;
    if (hdr[0] == CT_APPDATA)
        deliver(t, dir, t->out, out_len, ts_us);
    else if (hdr[0] == CT_HANDSHAKE)
        hs_feed(t, dir, t->out, out_len); /* Finished: counted by parsing, nothing checked */
    return WW_OK;
}

/* One whole record. Returns WW_OK (done with it) or WW_E_NOKEY (keep it for later). */
static int record(ww_tls *t, int dir, const uint8_t hdr[5], const uint8_t *body, size_t n,
                  uint64_t ts_us)
{
    tls_dir *d = &t->d[dir];
    uint8_t type = hdr[0];
    if (d->dead)
        return WW_OK;
    if (type == CT_CCS) {
        if (!t->tls13) { /* in 1.3 (or before we know) it is the compatibility record */
            d->ccs = true;
            d->c.seq = 0;
        }
        return WW_OK;
    }
    if (!t->have_sh && d->ccs)
        return WW_E_NOKEY; /* protected or not, we learn it from the ServerHello */
    bool protected_rec = t->have_sh && (t->tls13 ? type == CT_APPDATA : d->ccs);
    if (!protected_rec) {
        if (type == CT_HANDSHAKE)
            hs_feed(t, dir, body, n);
        else if (type == CT_APPDATA)
            return WW_E_NOKEY; /* 1.3 early data before the ServerHello, or a 1.2 oddity */
        return WW_OK;
    }
    if (t->unsupported) {
        if (type == CT_APPDATA)
            t->undecryptable = true;
        return WW_OK;
    }
    if (t->tls13)
        return tls13_record(t, dir, hdr, body, n, ts_us);
    return tls12_record(t, dir, hdr, body, n, ts_us);
}

/* ---- the key-wait budget (shared by the sessions of one key log) ---- */

/* Brings the direction's share of the budget to its backlog's length; unlists it when empty. */
static void wait_account(ww_tls *t, tls_dir *d)
{
    ww_keywait *w = ww_keylog_keywait(t->kl);
    if (w == NULL)
        return;
    size_t now = d->backlog.len;
    w->st.bytes_waiting = w->st.bytes_waiting - d->wbytes + now;
    d->wbytes = now;
    if (now > 0 && !d->wlisted) {
        d->wprev = w->newest;
        d->wnext = NULL;
        if (w->newest != NULL)
            w->newest->wnext = d;
        else
            w->oldest = d;
        w->newest = d;
        d->wlisted = true;
    } else if (now == 0 && d->wlisted) {
        if (d->wprev != NULL)
            d->wprev->wnext = d->wnext;
        else
            w->oldest = d->wnext;
        if (d->wnext != NULL)
            d->wnext->wprev = d->wprev;
        else
            w->newest = d->wprev;
        d->wprev = d->wnext = NULL;
        d->wlisted = false;
    }
}

static void give_up(ww_tls *t, int dir, const char *why);

/* Over the budget: the directions that have waited longest are given up first. */
static void wait_enforce(ww_tls *t)
{
    ww_keywait *w = ww_keylog_keywait(t->kl);
    while (w != NULL && w->st.bytes_waiting > w->cap && w->oldest != NULL) {
        tls_dir *o = w->oldest;
        w->st.evicted++;
        w->st.bytes_evicted += o->wbytes;
        give_up(o->owner, o->dirno,
                "records waiting for a key dropped: the key-wait budget for all sessions is "
                "full (the oldest waiting go first)");
    }
    if (w != NULL && w->st.bytes_waiting > w->st.bytes_peak)
        w->st.bytes_peak = w->st.bytes_waiting;
}

/* The ServerHello is known and no key can arrive any more for what lacks one. */
static bool keys_hopeless(ww_tls *t)
{
    ww_keywait *w = ww_keylog_keywait(t->kl);
    return t->have_sh && (w == NULL || !w->keys_may_come);
}

static const char *hopeless_why(ww_tls *t)
{
    return t->kl == NULL ? "no key log"
                         : "no key for this session, and none can arrive later: records not kept";
}

static void give_up(ww_tls *t, int dir, const char *why)
{
    tls_dir *d = &t->d[dir];
    ww_buf_free(&d->backlog);
    wait_account(t, d);
    d->backlog_app = false;
    d->dead = true;
    t->undecryptable = true;
    fire_handshake(t);
    if (t->kl != NULL && !t->nokey_reported) { /* no key log at all: nothing to report */
        t->nokey_reported = true;
        anomaly(t, "no-key", why);
    }
}

/* Appends a record to the direction's backlog. */
static void backlog_add(ww_tls *t, int dir, const uint8_t hdr[5], const uint8_t *body, size_t n)
{
    tls_dir *d = &t->d[dir];
    if (d->backlog.len + 5 + n > BACKLOG_MAX || ww_buf_append(&d->backlog, hdr, 5) != WW_OK ||
        ww_buf_append(&d->backlog, body, n) != WW_OK) {
        give_up(t, dir, dir == WW_DIR_TOSERVER
                            ? "client records waited for a key over the backlog bound"
                            : "server records waited for a key over the backlog bound");
        return;
    }
    if (hdr[0] == CT_APPDATA)
        d->backlog_app = true;
    wait_account(t, d);
    wait_enforce(t);
}

/* Retries the backlog of one direction, in order, until a record still lacks its key. */
static void drain(ww_tls *t, int dir, uint64_t ts_us)
{
    tls_dir *d = &t->d[dir];
    size_t off = 0;
    while (d->backlog.len - off >= 5 && !d->dead) {
        const uint8_t *h = d->backlog.data + off;
        size_t n = (size_t)h[3] << 8 | h[4];
        if (record(t, dir, h, h + 5, n, ts_us) == WW_E_NOKEY)
            break;
        off += 5 + n;
    }
    if (d->dead) {
        ww_buf_reset(&d->backlog);
    } else {
        ww_buf_consume(&d->backlog, off);
    }
    if (d->backlog.len == 0)
        d->backlog_app = false;
    wait_account(t, d);
    if (d->backlog.len > 0 && !d->dead && keys_hopeless(t))
        give_up(t, dir, hopeless_why(t));
}

static void drain_all(ww_tls *t, uint64_t ts_us)
{
    /* a drain may parse a ServerHello-dependent state change that wakes the other side */
    for (int round = 0; round < 3; round++) {
        t->drain_pending = false;
        for (int dir = 0; dir < 2; dir++)
            if (t->d[dir].backlog.len > 0)
                drain(t, dir, ts_us);
        if (!t->drain_pending)
            break;
    }
}

static void handle_record(ww_tls *t, int dir, const uint8_t hdr[5], const uint8_t *body, size_t n,
                          uint64_t ts_us)
{
    tls_dir *d = &t->d[dir];
    if (d->backlog.len > 0) {
        if (keys_hopeless(t))
            give_up(t, dir, hopeless_why(t));
        else
            backlog_add(t, dir, hdr, body, n);
        return;
    }
    if (record(t, dir, hdr, body, n, ts_us) == WW_E_NOKEY) {
        if (dir == WW_DIR_TOCLIENT)
            fire_handshake(t); /* EncryptedExtensions will not come before this key */
        if (keys_hopeless(t))
            give_up(t, dir, hopeless_why(t));
        else
            backlog_add(t, dir, hdr, body, n);
    }
}

/*
 * A TLS 1.3 application record split over chunks, in the steady state (application key in
 * place, nothing waiting for a key, AEAD): record() would open it with that key once
 * gathered, so it is opened as its pieces come (ww_tlsc_open_begin), into d->rec, instead of
 * copied there first. The same outcome as tls13_record: the plaintext handed on once
 * authenticated, or decrypt_failed.
 */
static bool open_piecewise(ww_tls *t, tls_dir *d)
{
    return t->tls13 && t->have_sh && !t->unsupported && !d->dead && d->hdr[0] == CT_APPDATA &&
           d->backlog.len == 0 && d->phase == PH_AP && d->installed == PH_AP &&
           d->rec_len > 16 && ww_tlsc_open_begin(&d->c, d->hdr) == WW_OK;
}

/* The next piece of a record opened piece by piece: ciphertext into rec, the tag aside. */
static bool piece(tls_dir *d, const uint8_t *p, size_t n)
{
    size_t ct_len = d->rec_len - 16, ct = 0;
    if (d->rec_have < ct_len) {
        ct = WW_MIN(n, ct_len - d->rec_have);
        if (ww_tlsc_open_update(&d->c, d->rec + d->rec_have, p, ct) != WW_OK)
            return false;
    }
    if (n > ct)
        memcpy(d->tag + (d->rec_have + ct - ct_len), p + ct, n - ct);
    return true;
}

/* The record opened piece by piece is whole: as tls13_record with the plaintext in rec. */
static void piecewise_end(ww_tls *t, int dir, bool ok, uint64_t ts_us)
{
    tls_dir *d = &t->d[dir];
    size_t ct_len = d->rec_len - 16;
    d->piecewise = false;
    if (!ok || ww_tlsc_open_final(&d->c, d->tag) != WW_OK) {
        ww_wipe(d->rec, ct_len); /* never leave unauthenticated plaintext behind */
        decrypt_failed(t, dir, "an application");
        return;
    }
    d->fails = 0;
    tls13_inner_of(t, dir, d->rec, ct_len, ts_us);
}

void ww_tls_data(ww_tls *t, int dir, const uint8_t *p, size_t n, uint64_t ts_us)
{
    WW_ASSERT(t != NULL && (dir == 0 || dir == 1));
    tls_dir *d = &t->d[dir];
    uint64_t gen = ww_keylog_generation(t->kl);
    if (gen != t->kl_gen) { /* new keys: retry what waits */
        t->kl_gen = gen;
        t->drain_pending = true;
    }
    if (t->drain_pending)
        drain_all(t, ts_us);
    if (n == 0)
        return;
    ww_rd r = ww_rd_init(p, n);
    while (ww_rd_left(&r) > 0 && !d->framing_lost) {
        if (d->hdr_have < 5) {
            size_t take = WW_MIN(ww_rd_left(&r), (size_t)(5 - d->hdr_have));
            (void)ww_rd_copy(&r, d->hdr + d->hdr_have, take);
            d->hdr_have = (uint8_t)(d->hdr_have + take);
            if (d->hdr_have < 5)
                break;
            d->rec_len = (size_t)d->hdr[3] << 8 | d->hdr[4];
            d->rec_have = 0;
            if (d->hdr[0] < CT_CCS || d->hdr[0] > CT_HEARTBEAT || d->hdr[1] != 3 ||
                d->rec_len > REC_MAX) {
                char det[80];
                snprintf(det, sizeof det, "bad record header: type %u version %u.%u length %zu",
                         d->hdr[0], d->hdr[1], d->hdr[2], d->rec_len);
                anomaly(t, "bad-record", det);
                d->framing_lost = true;
                if (d->hdr[0] == CT_APPDATA || d->ccs)
                    t->undecryptable = true;
                break;
            }
        }
        ww_slice body;
        if (d->rec_have == 0 && ww_rd_bytes(&r, &body, d->rec_len)) {
            handle_record(t, dir, d->hdr, body.ptr, body.len, ts_us); /* zero copy */
            d->hdr_have = 0;
        } else {
            if (d->rec == NULL && (d->rec = ww_malloc(t->mem, REC_MAX)) == NULL) {
                anomaly(t, "bad-record", "out of memory for record reassembly");
                d->framing_lost = true;
                break;
            }
            if (d->rec_have == 0) {
                d->piecewise = open_piecewise(t, d);
                d->piecewise_ok = true;
            }
            size_t take = WW_MIN(ww_rd_left(&r), d->rec_len - d->rec_have);
            if (d->piecewise) {
                ww_slice pc = {NULL, 0};
                (void)ww_rd_bytes(&r, &pc, take);
                if (d->piecewise_ok)
                    d->piecewise_ok = piece(d, pc.ptr, take);
            } else {
                (void)ww_rd_copy(&r, d->rec + d->rec_have, take);
            }
            d->rec_have += take;
            if (d->rec_have == d->rec_len) {
                if (d->piecewise)
                    piecewise_end(t, dir, d->piecewise_ok, ts_us);
                else
                    handle_record(t, dir, d->hdr, d->rec, d->rec_len, ts_us);
                d->hdr_have = 0;
                d->rec_have = 0;
            }
        }
        if (t->drain_pending)
            drain_all(t, ts_us);
    }
}

void ww_tls_gap(ww_tls *t, int dir, uint64_t len, uint64_t ts_us)
{
    WW_ASSERT(t != NULL && (dir == 0 || dir == 1));
    tls_dir *d = &t->d[dir];
    (void)ts_us;
    if (d->framing_lost)
        return;
    char det[96];
    snprintf(det, sizeof det, "%llu bytes lost from the %s: its decryption stops",
             (unsigned long long)len, dir == WW_DIR_TOSERVER ? "client" : "server");
    anomaly(t, "gap", det);
    fire_handshake(t);
    if (d->piecewise) { /* a record opened piece by piece stops: its plaintext goes */
        ww_wipe(d->rec, REC_MAX);
        d->piecewise = false;
    }
    d->framing_lost = true;
    d->dead = true;
    if (t->have_sh)
        t->undecryptable = true;
}

const ww_tls_info *ww_tls_info_get(const ww_tls *t)
{
    return &t->info;
}

const char *ww_tls_alpn_offered(const ww_tls *t)
{
    return t->alpn_offered;
}

bool ww_tls_decrypted(const ww_tls *t)
{
    return t->decrypted;
}

bool ww_tls_waiting(const ww_tls *t)
{
    for (int i = 0; i < 2; i++)
        if (!t->d[i].dead && t->d[i].backlog.len > 0)
            return true;
    return false;
}

bool ww_tls_may_still_decrypt(const ww_tls *t)
{
    ww_keywait *w = ww_keylog_keywait(t->kl);
    return ww_tls_waiting(t) && w != NULL && w->keys_may_come;
}

void ww_tls_retry(ww_tls *t, uint64_t ts_us)
{
    ww_tls_data(t, WW_DIR_TOSERVER, NULL, 0, ts_us); /* a new key log generation drains */
}

bool ww_tls_undecryptable(const ww_tls *t)
{
    return t->undecryptable || t->d[0].backlog_app || t->d[1].backlog_app;
}

void ww_tls_free(ww_tls *t)
{
    if (t == NULL)
        return;
    for (int i = 0; i < 2; i++) {
        tls_dir *d = &t->d[i];
        ww_tlsc_free(&d->c);
        ww_wipe(d->secret, sizeof d->secret);
        if (d->rec != NULL) {
            ww_wipe(d->rec, REC_MAX);
            ww_free(t->mem, d->rec);
        }
        if (d->hs.data != NULL)
            ww_wipe(d->hs.data, d->hs.alloc);
        ww_buf_free(&d->hs);
        ww_buf_free(&d->backlog);
        wait_account(t, d);
    }
    ww_wipe(t->out, sizeof t->out);
    ww_free(t->mem, t);
}
