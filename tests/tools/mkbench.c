/*
 * mkbench.c - writes a large, deterministic classic pcap of realistic plain-HTTP/1.1 browsing
 * for tests/bench.sh (throughput and memory of walletwatch, beside tshark).
 *
 *   build/tools/mkbench OUT.pcap [MEGABYTES]        (default 1100 MB: the bench needs >= 1 GB)
 *
 * The file ends up somewhat larger than MEGABYTES (1100 gives 1147.5 MB, 1150628 packets):
 * once the size is reached, the open connections finish the message they are sending and close.
 *
 * What is in it: 2000 browsers (10.2.0.0/16) keep MAX_ACTIVE TCP connections open at once to
 * 40 web servers (10.3.0.x:80) and 4 JSON-RPC nodes (10.4.0.x:8545); each connection does a
 * three-way handshake, 1..24 keep-alive request/response exchanges and a FIN teardown, and the
 * scheduler interleaves the connections packet burst by packet burst. Responses: HTML, CSS,
 * JavaScript (up to ~1 MB), images (JPEG/PNG/WebP-like random bytes) and JSON API bodies,
 * some gzip-compressed (Content-Encoding: gzip), cut into 1448-byte segments (MSS 1460 minus
 * the TCP timestamp option); the receiver ACKs every second segment and the last one.
 * A small fraction is wallet traffic: ~2% of API responses are invoices that serve the
 * client's payee addresses, and ~1% of exchanges on RPC connections are wallet calls
 * (eth_sendTransaction value transfers, ERC-20 transfers and two real signed
 * eth_sendRawTransaction payloads from pcaps/http1-clean.pcap) paying what was served; one
 * wallet call in 25 goes to the September 2025 attacker address, so detection has work too.
 * The rest of the RPC traffic is eth_blockNumber / eth_getBalance / eth_call polling.
 *
 * Deterministic: a fixed-seed xorshift PRNG and a synthetic clock (2025-09-08 12:00 UTC plus
 * a few microseconds per packet); the same size argument gives the same bytes. IPv4 and TCP
 * checksums are correct. The pcap writer is a small static one in this file (classic pcap,
 * microsecond timestamps, LINKTYPE_ETHERNET) so the tool does not depend on capture/.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define MAX_ACTIVE 384
#define N_CLIENTS 2000
#define N_WEB 40
#define N_RPC 4
#define SEG 1448
#define POOL_SIZE (1u << 20)
#define HDR_MAX 2048
#define SMALL_MAX 8192
#define N_GZ 6

static const char UA[] = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like "
                         "Gecko) Chrome/128.0.0.0 Safari/537.36";
static const char ATTACKER[] = "0xfc4a4858bafef54d1b1d7697bfb5c52f4c166976";
/* Served by every invoice, and the recipients of the two signed transactions below. */
static const char MERCHANT[] = "0xe41efe829faf9c0e99edcf0dbb5495e59c7a1cf6";
static const char DONATE[] = "0x0466a53d7fa6e4b94509b0d16235059d382cc754";
static const char USDC[] = "0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48";
static const char *const RAW_TX[2] = {
    "0x02f874827a690a8459682f008506fc23ac0082520894e41efe829faf9c0e99edcf0dbb5495e59c7a1cf687b1"
    "a2bc2ec5000080c001a03cf52b96f067bac189455cf938d69cd83ab15b81918817f94ce00bb89222f11ca058a5"
    "1251361b4f14ce9cdc04c2cdc4702063c42d0df8341da9154030cd7a37e2",
    "0xf86d0b8504a817c800825208940466a53d7fa6e4b94509b0d16235059d382cc754872386f26fc10000808"
    "2f4f6a055c6d0c1e25c7a0381e2698aac0b79da215fbb2680aaecd678c514d3e72d8e49a06fdcbe0d6ceb4d99"
    "f57aec8e5301d646f8ba5453df864f2fa13d0cb24d311696",
};

/* ------------------------------------------------------------------ PRNG */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    rng_state = x;
    return x;
}

static uint32_t rnd_below(uint32_t n)
{
    return (uint32_t)((rnd() >> 11) % n);
}

static uint64_t mix64(uint64_t z)
{
    z += 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* The payee address served to client c (deterministic, lowercase). out: 43 bytes. */
static void client_payee(unsigned c, char out[43])
{
    static const char hx[] = "0123456789abcdef";
    out[0] = '0';
    out[1] = 'x';
    for (int i = 0; i < 40; i++) {
        uint64_t v = mix64(((uint64_t)c << 8) | (unsigned)(i / 16));
        out[2 + i] = hx[(v >> ((i % 16) * 4)) & 15];
    }
    out[42] = 0;
}

/* ------------------------------------------------------------------ pcap writer */
static FILE *pcap_out;
static uint64_t pcap_bytes, pcap_packets;
static uint64_t now_us = 1757332800ull * 1000000ull; /* 2025-09-08 12:00:00 UTC */

static void put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static void put_be16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static int pcap_open(const char *path)
{
    uint8_t h[24] = {0};
    pcap_out = fopen(path, "wb");
    if (!pcap_out)
        return -1;
    setvbuf(pcap_out, NULL, _IOFBF, 1u << 22);
    put_le32(h, 0xa1b2c3d4u);
    h[4] = 2;
    h[6] = 4;
    put_le32(h + 16, 262144);
    put_le32(h + 20, 1);
    if (fwrite(h, 1, sizeof h, pcap_out) != sizeof h)
        return -1;
    pcap_bytes = sizeof h;
    return 0;
}

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t s)
{
    size_t i;
    for (i = 0; i + 1 < n; i += 2)
        s += (uint32_t)p[i] << 8 | p[i + 1];
    if (n & 1)
        s += (uint32_t)p[n - 1] << 8;
    return s;
}

static uint16_t fold(uint32_t s)
{
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)~s;
}

/* ------------------------------------------------------------------ content pools */
static uint8_t *pool_text, *pool_js, *pool_img;
static struct {
    uint8_t *p;
    size_t n;
    const char *ctype;
} gz[N_GZ];

static void fill_text(uint8_t *p, size_t n, int js)
{
    static const char *const words[] = {
        "order",   "receipt", "checkout", "network", "merchant", "shipping", "support",
        "account", "total",   "confirm",  "secure",  "delivery", "customer", "review",
        "product", "catalog", "summary",  "gallery", "profile",  "settings"};
    static const char *const js_words[] = {
        "function", "return",  "const",     "let",   "=>",         "this.state", "props",
        "await",    "async",   "Promise",   "null",  "undefined",  "typeof",     "if(",
        "){",       "};",      "document.", "fetch", "JSON.parse", "Object.assign"};
    size_t i = 0;
    while (i < n) {
        const char *w = js ? js_words[rnd_below(20)] : words[rnd_below(20)];
        size_t l = strlen(w);
        for (size_t k = 0; k < l && i < n; k++)
            p[i++] = (uint8_t)w[k];
        if (i < n)
            p[i++] = (rnd_below(12) == 0) ? '\n' : ' ';
    }
}

static int make_pools(void)
{
    pool_text = malloc(POOL_SIZE);
    pool_js = malloc(POOL_SIZE);
    pool_img = malloc(POOL_SIZE);
    if (!pool_text || !pool_js || !pool_img)
        return -1;
    fill_text(pool_text, POOL_SIZE, 0);
    memcpy(pool_text, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">", 60);
    fill_text(pool_js, POOL_SIZE, 1);
    for (size_t i = 0; i < POOL_SIZE; i += 8) {
        uint64_t v = rnd();
        memcpy(pool_img + i, &v, 8);
    }
    static const size_t gz_sizes[N_GZ] = {4000, 18000, 60000, 150000, 400000, 900000};
    for (int i = 0; i < N_GZ; i++) {
        uLongf cap = compressBound(gz_sizes[i]) + 64;
        z_stream zs;
        memset(&zs, 0, sizeof zs);
        gz[i].p = malloc(cap);
        if (!gz[i].p || deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
            return -1;
        zs.next_in = (i & 1) ? pool_js : pool_text;
        zs.avail_in = (uInt)gz_sizes[i];
        zs.next_out = gz[i].p;
        zs.avail_out = (uInt)cap;
        if (deflate(&zs, Z_FINISH) != Z_STREAM_END)
            return -1;
        gz[i].n = zs.total_out;
        gz[i].ctype = (i & 1) ? "application/javascript" : "text/html; charset=utf-8";
        deflateEnd(&zs);
    }
    return 0;
}

/* ------------------------------------------------------------------ connections */
enum { ST_SYN, ST_REQ, ST_RESP, ST_FIN };

typedef struct conn {
    uint8_t cli[4], srv[4];
    uint16_t cport, sport;
    uint32_t seq[2];
    uint16_t ipid[2];
    uint32_t tsv[2];
    unsigned client;
    int rpc;
    int state;
    int left;     /* exchanges still to do */
    int unacked;  /* segments not yet ACKed by the receiver */
    /* the message being sent: hdr (own bytes) then body (pool or own bytes) */
    uint8_t hdr[HDR_MAX];
    size_t hdr_n;
    uint8_t small[SMALL_MAX];
    const uint8_t *body;
    size_t body_n;
    size_t off;
} conn;

static conn *active[MAX_ACTIVE];
static uint16_t next_port[N_CLIENTS];
static uint8_t served[N_CLIENTS]; /* an invoice was served to this client */
static unsigned recent[64];        /* clients served an invoice lately: they open RPC conns */
static unsigned n_recent;
static uint64_t n_wallet, n_attack, n_invoice, n_conns;
static int stopping;

static void mac_of(const uint8_t ip[4], uint8_t mac[6])
{
    mac[0] = 0x02;
    mac[1] = 0x42;
    memcpy(mac + 2, ip, 4);
}

/* Emits one TCP segment of c in direction dir (0 = to the server) with payload p[0..n). */
static int emit(conn *c, int dir, uint8_t flags, const uint8_t *p, size_t n)
{
    uint8_t f[14 + 20 + 40 + SEG];
    const uint8_t *src = dir ? c->srv : c->cli, *dst = dir ? c->cli : c->srv;
    size_t optlen = (flags & 0x02) ? 20 : 12;
    size_t tcplen = 20 + optlen, iplen = 20 + tcplen + n, flen = 14 + iplen;
    uint8_t *ip = f + 14, *t = ip + 20, pseudo[12], rec[16];
    uint32_t tsv = c->tsv[dir] + (uint32_t)(now_us / 1000);

    mac_of(dst, f);
    mac_of(src, f + 6);
    put_be16(f + 12, 0x0800);
    ip[0] = 0x45;
    ip[1] = 0;
    put_be16(ip + 2, (unsigned)iplen);
    put_be16(ip + 4, c->ipid[dir]++);
    put_be16(ip + 6, 0x4000);
    ip[8] = 64;
    ip[9] = 6;
    ip[10] = ip[11] = 0;
    memcpy(ip + 12, src, 4);
    memcpy(ip + 16, dst, 4);
    put_be16(ip + 10, fold(sum16(ip, 20, 0)));
    put_be16(t, dir ? c->sport : c->cport);
    put_be16(t + 2, dir ? c->cport : c->sport);
    put_be32(t + 4, c->seq[dir]);
    put_be32(t + 8, (flags & 0x10) ? c->seq[!dir] : 0);
    t[12] = (uint8_t)((tcplen / 4) << 4);
    t[13] = flags;
    put_be16(t + 14, (flags & 0x02) ? 64240 : (dir ? 509 : 501));
    t[16] = t[17] = t[18] = t[19] = 0;
    if (flags & 0x02) {
        static const uint8_t syn[20] = {2, 4, 5, 0xb4, 4, 2, 8, 10, 0, 0,
                                        0, 0, 0, 0, 0,    0, 1, 3, 3, 7};
        memcpy(t + 20, syn, 20);
        put_be32(t + 28, tsv);
        put_be32(t + 32, dir ? c->tsv[0] + (uint32_t)(now_us / 1000) : 0);
    } else {
        t[20] = 1;
        t[21] = 1;
        t[22] = 8;
        t[23] = 10;
        put_be32(t + 24, tsv);
        put_be32(t + 28, c->tsv[!dir] + (uint32_t)(now_us / 1000) - 1);
    }
    if (n)
        memcpy(t + tcplen, p, n);
    memcpy(pseudo, src, 4);
    memcpy(pseudo + 4, dst, 4);
    pseudo[8] = 0;
    pseudo[9] = 6;
    put_be16(pseudo + 10, (unsigned)(tcplen + n));
    uint16_t ck = fold(sum16(t, tcplen + n, sum16(pseudo, 12, 0)));
    put_be16(t + 16, ck); /* TCP sends a computed 0 as 0 (no UDP-style 0xffff) */

    c->seq[dir] += (uint32_t)n + ((flags & 0x03) ? 1u : 0u);
    now_us += 3 + (n >> 8) + rnd_below(4);
    put_le32(rec, (uint32_t)(now_us / 1000000));
    put_le32(rec + 4, (uint32_t)(now_us % 1000000));
    put_le32(rec + 8, (uint32_t)flen);
    put_le32(rec + 12, (uint32_t)flen);
    if (fwrite(rec, 1, 16, pcap_out) != 16 || fwrite(f, 1, flen, pcap_out) != flen)
        return -1;
    pcap_bytes += 16 + flen;
    pcap_packets++;
    return 0;
}

static conn *conn_new(void)
{
    conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->rpc = rnd_below(16) == 0;
    c->client = c->rpc && n_recent ? recent[rnd_below(n_recent < 64 ? n_recent : 64)]
                                   : rnd_below(N_CLIENTS);
    c->cli[0] = 10;
    c->cli[1] = 2;
    c->cli[2] = (uint8_t)(c->client / 250);
    c->cli[3] = (uint8_t)(c->client % 250 + 1);
    c->srv[0] = 10;
    c->srv[1] = c->rpc ? 4 : 3;
    c->srv[2] = 0;
    c->srv[3] = (uint8_t)(1 + rnd_below(c->rpc ? N_RPC : N_WEB));
    if (next_port[c->client] < 32768)
        next_port[c->client] = (uint16_t)(32768 + rnd_below(20000));
    c->cport = next_port[c->client]++;
    c->sport = c->rpc ? 8545 : 80;
    c->seq[0] = (uint32_t)rnd();
    c->seq[1] = (uint32_t)rnd();
    c->ipid[0] = (uint16_t)rnd();
    c->ipid[1] = (uint16_t)rnd();
    c->tsv[0] = (uint32_t)rnd();
    c->tsv[1] = (uint32_t)rnd();
    c->left = 1 + (int)rnd_below(24);
    c->state = ST_SYN;
    n_conns++;
    return c;
}

/* Sends the whole current message from dir (<= burst segments per call for responses).
 * Returns 1 when the message is complete, 0 when more remains, -1 on write error. */
static int send_msg(conn *c, int dir, int burst)
{
    size_t total = c->hdr_n + c->body_n;
    uint8_t seg[SEG];
    while (c->off < total && burst-- > 0) {
        size_t n = total - c->off < SEG ? total - c->off : SEG, k = 0;
        while (k < n) {
            size_t o = c->off + k;
            size_t take;
            if (o < c->hdr_n) {
                take = c->hdr_n - o < n - k ? c->hdr_n - o : n - k;
                memcpy(seg + k, c->hdr + o, take);
            } else {
                take = n - k;
                memcpy(seg + k, c->body + (o - c->hdr_n), take);
            }
            k += take;
        }
        c->off += n;
        int last = c->off == total;
        if (emit(c, dir, (uint8_t)(0x10 | (last ? 0x08 : 0)), seg, n) < 0)
            return -1;
        if (++c->unacked >= 2 || last) {
            if (emit(c, !dir, 0x10, NULL, 0) < 0)
                return -1;
            c->unacked = 0;
        }
    }
    return c->off == total;
}

static void web_request(conn *c)
{
    static const char *const paths[] = {"/", "/static/app.js", "/static/vendor.js",
                                        "/static/app.css", "/img/hero.jpg", "/img/thumb.webp",
                                        "/api/products", "/api/invoice", "/favicon.ico"};
    int k = (int)rnd_below(9);
    c->hdr_n = (size_t)snprintf((char *)c->hdr, HDR_MAX,
                                "GET %s%s HTTP/1.1\r\nHost: shop%u.example\r\nConnection: "
                                "keep-alive\r\nUser-Agent: %s\r\nAccept: */*\r\nReferer: "
                                "http://shop%u.example/\r\nAccept-Encoding: gzip, deflate\r\n"
                                "Accept-Language: en-US,en;q=0.9\r\n\r\n",
                                paths[k], k == 7 ? "/INV-1042" : "", c->srv[3], UA, c->srv[3]);
    c->body_n = 0;
    c->off = 0;
    c->small[0] = (uint8_t)k;
}

static void web_response(conn *c)
{
    int k = c->small[0];
    const char *ctype = "text/html; charset=utf-8", *enc = "";
    size_t n = 0;
    const uint8_t *body = NULL;
    uint32_t r = rnd_below(100);

    switch (k) {
    case 0: /* HTML */
        n = 5000 + rnd_below(75000);
        body = pool_text;
        break;
    case 1:
    case 2: /* JS: mostly mid-size, sometimes a ~1 MB bundle */
        n = r < 8 ? 600000 + rnd_below(POOL_SIZE - 600000) : 20000 + rnd_below(200000);
        body = pool_js;
        ctype = "application/javascript";
        break;
    case 3:
        n = 5000 + rnd_below(55000);
        body = pool_text;
        ctype = "text/css";
        break;
    case 4:
    case 5:
        n = r < 10 ? 200000 + rnd_below(300000) : 2000 + rnd_below(120000);
        body = pool_img;
        ctype = k == 4 ? "image/jpeg" : "image/webp";
        break;
    case 8:
        n = 1150;
        body = pool_img;
        ctype = "image/x-icon";
        break;
    default: { /* JSON API */
        char payee[43];
        int len;
        ctype = "application/json; charset=utf-8";
        if (k == 7 || r < 2) { /* an invoice: serves this client's payees */
            client_payee(c->client, payee);
            len = snprintf((char *)c->small, SMALL_MAX,
                           "{\"invoice\":\"INV-%u\",\"currency\":\"USDC\",\"amount\":\"%u\","
                           "\"payee\":\"%s\",\"merchant\":\"%s\",\"donate\":\"%s\","
                           "\"token\":\"%s\",\"chainId\":31337}",
                           (unsigned)rnd_below(100000), (unsigned)rnd_below(1000000000), payee,
                           MERCHANT, DONATE, USDC);
            served[c->client] = 1;
            recent[n_recent++ % 64] = c->client;
            n_invoice++;
        } else {
            len = snprintf((char *)c->small, SMALL_MAX, "{\"products\":[");
            unsigned items = 1 + rnd_below(60);
            for (unsigned i = 0; i < items && len < SMALL_MAX - 200; i++)
                len += snprintf((char *)c->small + len, (size_t)(SMALL_MAX - len),
                                "%s{\"id\":%u,\"name\":\"item %u\",\"price\":\"%u.%02u\","
                                "\"stock\":%u}",
                                i ? "," : "", i, (unsigned)rnd_below(99999),
                                (unsigned)rnd_below(500), (unsigned)rnd_below(100),
                                (unsigned)rnd_below(40));
            len += snprintf((char *)c->small + len, (size_t)(SMALL_MAX - len), "]}");
        }
        body = c->small;
        n = (size_t)len;
        break;
    }
    }
    if ((k == 0 || k == 1 || k == 2) && r >= 50 && r < 75) { /* a quarter gzip-compressed */
        int g = (int)rnd_below(N_GZ);
        body = gz[g].p;
        n = gz[g].n;
        ctype = gz[g].ctype;
        enc = "Content-Encoding: gzip\r\nVary: Accept-Encoding\r\n";
    }
    c->hdr_n = (size_t)snprintf((char *)c->hdr, HDR_MAX,
                                "HTTP/1.1 200 OK\r\nServer: nginx/1.24.0\r\nDate: Mon, 08 Sep "
                                "2025 12:00:00 GMT\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                                "%sConnection: keep-alive\r\nCache-Control: max-age=600\r\n\r\n",
                                ctype, n, enc);
    c->body = body;
    c->body_n = n;
    c->off = 0;
}

static void rpc_request(conn *c)
{
    static unsigned id = 1;
    char body[1024], payee[43];
    int len;
    uint32_t r = rnd_below(100);

    if (r < 5 && served[c->client]) { /* a wallet call paying what was served */
        uint32_t w = rnd_below(4);
        const char *to = (rnd_below(25) == 0) ? ATTACKER : NULL;
        client_payee(c->client, payee);
        n_wallet++;
        if (to)
            n_attack++;
        if (w < 2 && !to)
            len = snprintf(body, sizeof body,
                           "{\"jsonrpc\":\"2.0\",\"id\":%u,\"method\":\"eth_sendRawTransaction\","
                           "\"params\":[\"%s\"]}",
                           id++, RAW_TX[w]);
        else if (w == 2)
            len = snprintf(body, sizeof body,
                           "{\"jsonrpc\":\"2.0\",\"id\":%u,\"method\":\"eth_sendTransaction\","
                           "\"params\":[{\"from\":\"0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266\","
                           "\"to\":\"%s\",\"value\":\"0xb1a2bc2ec50000\",\"gas\":\"0x5208\"}]}",
                           id++, to ? to : payee);
        else
            len = snprintf(body, sizeof body,
                           "{\"jsonrpc\":\"2.0\",\"id\":%u,\"method\":\"eth_sendTransaction\","
                           "\"params\":[{\"from\":\"0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266\","
                           "\"to\":\"%s\",\"data\":\"0xa9059cbb000000000000000000000000%s"
                           "00000000000000000000000000000000000000000000000000000000017d7840\","
                           "\"gas\":\"0xfde8\"}]}",
                           id++, USDC, (to ? to : payee) + 2);
    } else if (r < 60) {
        len = snprintf(body, sizeof body,
                       "{\"jsonrpc\":\"2.0\",\"id\":%u,\"method\":\"eth_blockNumber\","
                       "\"params\":[]}",
                       id++);
    } else if (r < 85) {
        client_payee(c->client, payee);
        len = snprintf(body, sizeof body,
                       "{\"jsonrpc\":\"2.0\",\"id\":%u,\"method\":\"eth_getBalance\","
                       "\"params\":[\"0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266\",\"latest\"]}",
                       id++);
    } else {
        len = snprintf(body, sizeof body,
                       "{\"jsonrpc\":\"2.0\",\"id\":%u,\"method\":\"eth_call\",\"params\":[{"
                       "\"to\":\"%s\",\"data\":\"0x70a08231000000000000000000000000f39fd6e51aad"
                       "88f6f4ce6ab8827279cfffb92266\"},\"latest\"]}",
                       id++, USDC);
    }
    c->hdr_n = (size_t)snprintf((char *)c->hdr, HDR_MAX,
                                "POST / HTTP/1.1\r\nHost: 10.4.0.%u:8545\r\nConnection: "
                                "keep-alive\r\nContent-Length: %d\r\nUser-Agent: %s\r\n"
                                "Content-Type: application/json\r\nAccept: */*\r\nOrigin: "
                                "http://shop.example\r\nAccept-Encoding: gzip, deflate\r\n"
                                "Accept-Language: en-US,en;q=0.9\r\n\r\n%s",
                                c->srv[3], len, UA, body);
    c->body_n = 0;
    c->off = 0;
}

static void rpc_response(conn *c)
{
    int len = snprintf((char *)c->small, SMALL_MAX,
                       "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":\"0x%016llx%016llx%016llx%016llx\"}",
                       (unsigned long long)rnd(), (unsigned long long)rnd(),
                       (unsigned long long)rnd(), (unsigned long long)rnd());
    c->hdr_n = (size_t)snprintf((char *)c->hdr, HDR_MAX,
                                "HTTP/1.1 200 OK\r\nAccess-Control-Allow-Origin: *\r\n"
                                "Content-Type: application/json; charset=utf-8\r\nDate: Mon, 08 "
                                "Sep 2025 12:00:00 GMT\r\nConnection: keep-alive\r\nKeep-Alive: "
                                "timeout=5\r\nContent-Length: %d\r\n\r\n",
                                len);
    c->body = c->small;
    c->body_n = (size_t)len;
    c->off = 0;
}

/* One scheduling step of c. Returns 1 when c is finished, 0 otherwise, -1 on error. */
static int step(conn *c)
{
    int r;
    switch (c->state) {
    case ST_SYN:
        if (emit(c, 0, 0x02, NULL, 0) < 0 || emit(c, 1, 0x12, NULL, 0) < 0 ||
            emit(c, 0, 0x10, NULL, 0) < 0)
            return -1;
        c->state = ST_REQ;
        return 0;
    case ST_REQ:
        if (stopping) {
            c->state = ST_FIN;
            return 0;
        }
        if (c->rpc)
            rpc_request(c);
        else
            web_request(c);
        c->unacked = 0;
        if (send_msg(c, 0, 1 << 20) < 0)
            return -1;
        if (c->rpc)
            rpc_response(c);
        else
            web_response(c);
        c->unacked = 0;
        c->state = ST_RESP;
        return 0;
    case ST_RESP:
        r = send_msg(c, 1, 2 + (int)rnd_below(9));
        if (r < 0)
            return -1;
        if (r == 1)
            c->state = (--c->left <= 0 || stopping) ? ST_FIN : ST_REQ;
        return 0;
    default:
        if (emit(c, 0, 0x11, NULL, 0) < 0 || emit(c, 1, 0x11, NULL, 0) < 0 ||
            emit(c, 0, 0x10, NULL, 0) < 0)
            return -1;
        return 1;
    }
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: mkbench OUT.pcap [MEGABYTES (default 1100)]\n");
        return 2;
    }
    uint64_t target = (argc == 3 ? strtoull(argv[2], NULL, 10) : 1100) * 1000000ull;
    if (target == 0) {
        fprintf(stderr, "mkbench: bad size\n");
        return 2;
    }
    if (make_pools() < 0) {
        fprintf(stderr, "mkbench: out of memory\n");
        return 1;
    }
    if (pcap_open(argv[1]) < 0) {
        perror(argv[1]);
        return 1;
    }
    int live = 0;
    for (int i = 0; i < MAX_ACTIVE; i++) {
        if (!(active[i] = conn_new()))
            return 1;
        live++;
    }
    while (live > 0) {
        int i = (int)rnd_below(MAX_ACTIVE);
        if (!active[i])
            continue;
        int r = step(active[i]);
        if (r < 0) {
            perror(argv[1]);
            return 1;
        }
        if (r == 1) {
            free(active[i]);
            active[i] = NULL;
            live--;
            if (!stopping) {
                if (!(active[i] = conn_new()))
                    return 1;
                live++;
            }
        }
        if (!stopping && pcap_bytes >= target)
            stopping = 1;
    }
    if (fclose(pcap_out) != 0) {
        perror(argv[1]);
        return 1;
    }
    printf("mkbench: %s: %llu bytes, %llu packets, %llu connections, %llu invoices served, "
           "%llu wallet calls (%llu to the attacker)\n",
           argv[1], (unsigned long long)pcap_bytes, (unsigned long long)pcap_packets,
           (unsigned long long)n_conns, (unsigned long long)n_invoice,
           (unsigned long long)n_wallet, (unsigned long long)n_attack);
    return 0;
}
