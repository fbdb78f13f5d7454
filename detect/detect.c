/*
 * detect.c - what each browser was served, and the rules.
 *
 * Served store: per browser (client IP, or the IPs one MAC address used), the addresses found
 * in what was sent to it, each with the packet time it was last served and where it came from
 * (a bit set of enum ww_prov). An address stays expected for the window (--window).
 *
 * Memory: a browser starts with room for 8 addresses and doubles up to max_served (then the
 * oldest is overwritten, counted, and the browser is marked incomplete). All detection state
 * is accounted against max_bytes; beyond it, or beyond max_clients, the least recently active
 * browser is evicted: counted (stats), reported as an anomaly, and remembered (a direct-mapped
 * table of IP hashes) so that browser, if it comes back, is marked incomplete.
 *
 * Lookups: three hash indexes over a browser's addresses, one per key: the whole address (is
 * it served?), its first 4 and its last 4 informative characters (after ww_addr_fixed_len).
 * The whole-address one, asked for every address a response carries, is a linear-probing
 * table of 8-byte slots (a 32-bit fingerprint of the address and its entry's index) at most
 * half full: a lookup reads one cache line of slots and then only the entry it names; the
 * other two are chained (a lookalike search walks every entry under a key). A lookalike at
 * the default rule (>= 2 characters at each end, >= 7 in
 * all) or at >= 9 characters anywhere shares at least 4 at one end, so the nearest served
 * address is among the entries under one of the two keys: no scan of everything served and
 * no dilution by how many addresses were served.
 *
 * Rules for each address a wallet call names (its parties):
 *   known-attacker         it is in the attacker DB (any role)
 *   lookalike-recipient    not served, but the nearest served address of its chain shares a
 *                          lookalike's prefix + suffix; or served, but one of a poisoned pair
 *                          (two lookalikes served to this browser)
 *   unrequested-recipient  otherwise, a payee not served (provenance weighed: README) while
 *                          something of that chain was served (or --expect was given)
 *   unverified-recipient   a payee not served while nothing of its chain was served
 *   unlimited-approval     a maximum approval to a spender/operator that was not served
 *   bad-checksum           mixed-case EVM address that fails EIP-55
 * for a JSON-RPC request cut by the body cap where a wallet call may lie past the cut:
 * unchecked-wallet-call (the decoder reports the fact through sink->unchecked_call);
 * for an address served in a response: known-attacker (where: response), or
 * lookalike-recipient (where: response) when it resembles a DB entry far beyond chance;
 * for a script served to the browser: drainer-script when it embeds DB addresses.
 */
#include "detect/detect.h"
#include "detect/yara_int.h"

#include <math.h>
#include <strings.h>

#define KEY_CHARS 4          /* characters per prefix / suffix key */
#define CAND_MAX 4096        /* candidates looked at per key and search */
#define CLIENT_MIN_CAP 4     /* addresses a browser starts with room for */
#define EVICTED_SLOTS 131072 /* remembered evicted browsers, at most (2 MiB) */
#define MAX_HOSTS 4096       /* hosts remembered (where an address was served), all browsers */
#define MAX_URLS 4096        /* URLs remembered (where an address was served), all browsers */
#define URL_TEXT_MAX 300     /* ... each cut to this many bytes */
#define MAC_SLOTS_MAX 65536
#define SOL_MINTS_MAX 16     /* Solana mints remembered per browser from its wallet calls */
#define ATA_OWNERS_MAX 32    /* served Solana addresses tried as a token account's owner... */
#define ATA_MINTS_MAX 48     /* ... and as its mint (with the remembered ones), per party */
#define WC_RAISED_MAX 64     /* alerts deduplicated per wallet call (then raised as they come) */
#define PF_AHEAD 16          /* ww_detect_prefetch_run: slots this far ahead, entries half as far */

enum { IX_PRE = 0, IX_SUF, IX_N }; /* the chained indexes (the exact one: client.slot) */

/* What a lookup that finds the address reads and updates comes first, then the text it
 * compares (an EVM address's ends 59 bytes in): one or two cache lines, not three. */
typedef struct served {
    uint64_t ts_us;  /* last served */
    uint16_t prov;   /* bit set of 1 << WW_PROV_* */
    uint16_t host;   /* index into d->hosts + 1; 0 none */
    uint16_t url;    /* index into d->urls + 1 (the response that last served it); 0 none */
    ww_addr addr;
} served;

/* The chained index links of served entry i, apart from the addresses so that walking a
 * bucket touches 16 bytes per entry, not the whole address. */
typedef struct smeta {
    uint32_t key[IX_N];
    uint32_t next[IX_N]; /* index + 1 of the next entry in the same bucket; 0 = end */
} smeta;

typedef struct spair { /* a poisoned pair: two lookalikes served to one browser */
    ww_addr a, b;
    uint16_t prov_a, prov_b;
    uint16_t host_a, host_b;
    unsigned prefix, suffix;
} spair;

typedef struct client {
    ww_ip ip;
    uint64_t last_ts;
    uint32_t lru_prev, lru_next; /* index + 1 into d->cl; 0 none */
    uint32_t hnext;              /* next client in the same IP bucket (index + 1) */
    bool used;
    uint64_t incomplete_until; /* a hole in the served set matters until then (0: none) */
    uint64_t unseen_until;     /* its traffic before the capture began matters until then */
    uint64_t lost_until;       /* bytes lost on their way to it (a gap) matter until then */
    served *v;
    smeta *m;            /* parallel to v */
    size_t n, cap, next; /* next: ring position once n == max_served */
    uint32_t *heads;     /* IX_N * cap bucket heads (cap is a power of two) */
    uint64_t *slot;      /* 2 * cap: fingerprint << 32 | (index + 1); 0 = empty */
    uint64_t chain_ts[WW_CHAIN_COUNT]; /* last served (not only by a script), per chain */
    bool chain_seen[WW_CHAIN_COUNT];
    spair *pairs;
    size_t n_pairs;
    uint32_t n_chain[WW_CHAIN_COUNT]; /* entries per chain */
    uint8_t (*mints)[32]; /* Solana mints this browser's wallet calls named (a ring of
                             SOL_MINTS_MAX, allocated on the first) */
    uint8_t n_mints, next_mint;
} client;

typedef struct mac_ent {
    uint8_t mac[6];
    bool used, router;
    uint8_t n4;
    ww_ip canon; /* the first IP seen with this MAC: the browser's identity */
} mac_ent;

typedef struct alias_ent {
    bool used;
    ww_ip ip, canon;
} alias_ent;

struct ww_detect {
    const ww_mem *mem;
    ww_detect_cfg cfg;
    ww_out *out;
    client *cl;          /* pool; freed slots chained through hnext from free_head */
    size_t ncl, capcl;
    uint32_t free_head;
    uint32_t *cheads;    /* IP buckets (index + 1) */
    size_t ncheads;
    uint32_t lru_head, lru_tail; /* most / least recently active */
    /* get_client's last answer: the IP asked (before canon_ip) and its browser (index + 1);
     * 0 once a browser is released or an alias added (what the IP maps to may change) */
    ww_ip last_ip;
    uint32_t last_cl;
    uint64_t *evicted;   /* hashes of evicted browsers' IPs (0 = empty) */
    uint64_t *evicted_until; /* ... and until when what they lost would have been expected */
    size_t n_evicted;    /* slots of both (a power of two) */
    uint64_t now;        /* the latest packet time seen */
    mac_ent *macs;
    alias_ent *aliases;
    size_t n_mac_slots;
    double bits_tab[3][WW_ADDR_TEXT_MAX + 1]; /* ww_similarity_bits(m, class, 1) */
    ww_registry *own_registry; /* the bundled one, when cfg.registry was NULL */
    char (*hosts)[64];         /* interned host names (where addresses were served) */
    uint16_t *host_slots;
    size_t n_hosts;
    char **urls;               /* interned URLs ("https://host/path"), MAX_URLS at most */
    uint16_t *url_slots;
    size_t n_urls;
    uint64_t pf_hash[PF_AHEAD]; /* ww_detect_prefetch_run: the run's next addresses' hashes */
    uint16_t last_url;         /* the URL url_index() answered last (0 none), its length */
    size_t last_url_len;
    const client *call_client; /* the browser whose wallet call is being checked */
    ww_detect_stats st;
    /* alerts raised for the wallet call being checked, (rule, role, observed): one alert per
     * triple and call, not one per token party (Permit2 batches name one spender per token) */
    bool in_call;
    size_t n_raised;
    struct raised {
        const char *rule;
        int role;
        ww_addr observed;
    } raised[WC_RAISED_MAX];
};

const char *ww_severity_name(int sev)
{
    switch (sev) {
    case WW_SEV_INFO:
        return "info";
    case WW_SEV_LOW:
        return "low";
    case WW_SEV_MEDIUM:
        return "medium";
    case WW_SEV_HIGH:
        return "high";
    case WW_SEV_CRITICAL:
        return "critical";
    default:
        return "none";
    }
}

int ww_severity_from_name(const char *s, bool *ok)
{
    static const char *names[] = {"none", "info", "low", "medium", "high", "critical"};
    for (int i = 0; i < (int)WW_ARRAY_LEN(names); i++) {
        if (strcmp(s, names[i]) == 0) {
            *ok = true;
            return i;
        }
    }
    *ok = false;
    return WW_SEV_NONE;
}

const char *ww_prov_name(int prov)
{
    static const char *names[WW_PROV_COUNT] = {
        "unknown", "body-json", "body-html", "body-text", "header",   "rpc-word",
        "calldata", "websocket", "script",    "registry",  "expect"};
    return prov >= 0 && prov < WW_PROV_COUNT ? names[prov] : "unknown";
}

/* ---- accounting ---- */

static void acct(ww_detect *d, ssize_t delta)
{
    d->st.state_bytes = (size_t)((ssize_t)d->st.state_bytes + delta);
    if (d->st.state_bytes > d->st.state_peak_bytes)
        d->st.state_peak_bytes = d->st.state_bytes;
}

static size_t client_bytes(const ww_detect *d, const client *c)
{
    (void)d;
    return c->cap * (sizeof(served) + sizeof(smeta) + IX_N * sizeof(uint32_t) +
                     2 * sizeof(uint64_t)) +
           (c->pairs ? d->cfg.max_pairs * sizeof(spair) : 0) +
           (c->mints ? SOL_MINTS_MAX * sizeof(*c->mints) : 0);
}

static void raise(ww_detect *d, const ww_ctx *ctx, ww_alert *a);

/* ---- hashing ---- */

static inline uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Eight bytes at a time, each word mixed (the addresses' characters are near-random). */
static uint64_t hash_bytes(const void *p, size_t n, uint64_t h)
{
    const uint8_t *b = p;
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, b, 8);
        h = mix64(h ^ w) + 0x9e3779b97f4a7c15ULL;
        b += 8;
        n -= 8;
    }
    uint64_t w = 0;
    memcpy(&w, b, n);
    return mix64(h ^ w ^ ((uint64_t)n << 56));
}

/* The whole address (its text and chain): 8 bytes at a time with one multiply each, the last
 * 8 read where they end (every address is longer than 8), one full mix at the end. */
static uint64_t addr_hash(const ww_addr *a)
{
    const uint8_t *b = (const uint8_t *)a->text;
    size_t n = a->len;
    uint64_t h = (uint64_t)(a->chain + 1) * 0x9e3779b97f4a7c15ULL ^ n, w;
    if (n < 8) {
        w = 0;
        memcpy(&w, b, n);
        return mix64(h ^ w);
    }
    for (size_t i = 0; i + 8 < n; i += 8) {
        memcpy(&w, b + i, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdULL;
        h ^= h >> 32;
    }
    memcpy(&w, b + n - 8, 8);
    return mix64(h ^ w);
}

static uint32_t addr_key(const ww_addr *a, int ix)
{
    size_t fl = ww_addr_fixed_len(a), info = a->len > fl ? a->len - fl : 0;
    uint64_t seed = ((uint64_t)a->chain << 8 | (uint64_t)(ix + 1)) * 0x9e3779b97f4a7c15ULL;
    /* the fixed part ("bc1q" vs "bc1p") and KEY_CHARS at one end */
    char k[WW_ADDR_TEXT_MAX + KEY_CHARS];
    size_t m = WW_MIN(info, (size_t)KEY_CHARS);
    memcpy(k, a->text, fl);
    if (ix == IX_PRE)
        memcpy(k + fl, a->text + fl, m);
    else
        memcpy(k + fl, a->text + a->len - m, m);
    return (uint32_t)hash_bytes(k, fl + m, seed);
}

static uint64_t ip_hash(const ww_ip *ip)
{
    /* only the address's own bytes: the rest of an IPv4 ww_ip is not defined */
    return hash_bytes(ip->a, ip->family == 4 ? 4 : 16, 0x51ed27a3ULL ^ ip->family) | 1;
}

/* ---- similarity (integer) ---- */

static inline char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
}

/* Matched leading / trailing informative characters of two addresses of one format
 * (EVM compared case-insensitively); 0 + 0 across formats or chains. */
static void match_ps(const ww_addr *a, const ww_addr *b, unsigned *prefix, unsigned *suffix)
{
    bool fold = a->chain == WW_CHAIN_EVM;
    size_t fa = ww_addr_fixed_len(a), fb = ww_addr_fixed_len(b);
    size_t la = a->len, lb = b->len, p = 0, s = 0;
    const char *x = a->text + fa, *y = b->text + fb;
    size_t nx = la > fa ? la - fa : 0, ny = lb > fb ? lb - fb : 0;
    size_t m = WW_MIN(nx, ny);

    /* different formats of one chain (bc1q vs 1..., q vs p): nothing comparable */
    if (a->chain != b->chain || fa != fb || strncasecmp(a->text, b->text, fa) != 0)
        m = 0;
    while (p < m && (fold ? lower(x[p]) == lower(y[p]) : x[p] == y[p]))
        p++;
    while (s < m - p &&
           (fold ? lower(x[nx - 1 - s]) == lower(y[ny - 1 - s]) : x[nx - 1 - s] == y[ny - 1 - s]))
        s++;
    *prefix = (unsigned)p;
    *suffix = (unsigned)s;
}

/*
 * Bits of a p+s match: a random address of the same format matches at least m = p + s
 * leading-and-trailing characters with probability
 *     P(m) = sum_{i<m} P(prefix = i) P(suffix >= m - i) + P(prefix >= m)
 *          = q^-m (1 + m (1 - 1/q))          (q = alphabet size, 2^bits_per_char)
 * (any split of m between the two ends counts: 4+4 is one of nine splits of 8). Compared with
 * n addresses, the chance that any matches that well is at most n P(m). bits = -log2(n P(m)).
 */
double ww_similarity_bits(unsigned m, double bits_per_char, size_t n_compared)
{
    double q = exp2(bits_per_char);
    double bits = (double)m * bits_per_char - log2(1.0 + (double)m * (1.0 - 1.0 / q));
    return bits - (n_compared > 1 ? log2((double)n_compared) : 0.0);
}

void ww_similarity(const ww_addr *a, const ww_addr *b, size_t n_compared, unsigned *prefix,
                   unsigned *suffix, double *bits)
{
    match_ps(a, b, prefix, suffix);
    *bits = ww_similarity_bits(*prefix + *suffix, ww_addr_char_bits(a), n_compared);
}

static int bpc_class(const ww_addr *a)
{
    double b = ww_addr_char_bits(a);
    return b < 4.5 ? 0 : b < 5.5 ? 1 : 2;
}

/* Similarity against one address, from the table built at ww_detect_new (no log2/exp2). */
static double bits1(const ww_detect *d, const ww_addr *a, unsigned m)
{
    return d->bits_tab[bpc_class(a)][WW_MIN(m, (unsigned)WW_ADDR_TEXT_MAX)];
}

/* An EVM address below 2^16 (the zero address, Universal Router's MSG_SENDER/ADDRESS_THIS,
 * precompiles): a sentinel, never anyone's vanity copy of a leading-zero contract. */
static bool is_sentinel(const ww_addr *a)
{
    if (a->chain != WW_CHAIN_EVM || a->len != 42)
        return false;
    for (size_t i = 2; i < 38; i++)
        if (a->text[i] != '0')
            return false;
    return true;
}

/*
 * Leading zeros are mined for gas, not for looks: unrelated contracts share long runs of them
 * (Permit2 0x0000000000..., Seaport 0x00000000000000..., EntryPoint 0x00000000...). A shared
 * run of leading '0's counts as at most 4 matched characters (what a wallet shows).
 */
static unsigned effective_prefix(const ww_addr *a, unsigned p)
{
    if (a->chain != WW_CHAIN_EVM)
        return p;
    unsigned z = 0;
    while (z < p && 2 + z < a->len && a->text[2 + z] == '0')
        z++;
    return z > 4 ? p - (z - 4) : p;
}

static bool is_lookalike(const ww_detect *d, const ww_addr *a, unsigned p, unsigned s)
{
    if (p + s == 0 || is_sentinel(a))
        return false;
    p = effective_prefix(a, p);
    if (p >= d->cfg.lookalike_min_end && s >= d->cfg.lookalike_min_end &&
        p + s >= d->cfg.lookalike_min_total)
        return true;
    return bits1(d, a, p + s) >= d->cfg.lookalike_min_bits;
}

/* ---- lifecycle ---- */

ww_detect *ww_detect_new(const ww_mem *mem, const ww_detect_cfg *cfg, ww_out *out)
{
    ww_detect *d = ww_calloc(mem, 1, sizeof(*d));
    if (d == NULL)
        return NULL;
    d->mem = mem;
    d->cfg = *cfg;
    if (d->cfg.window_us == 0)
        d->cfg.window_us = 30ULL * 60 * 1000000;
    if (d->cfg.lookalike_min_bits <= 0)
        d->cfg.lookalike_min_bits = 30;
    if (d->cfg.lookalike_min_end == 0)
        d->cfg.lookalike_min_end = 2;
    if (d->cfg.lookalike_min_total == 0)
        d->cfg.lookalike_min_total = 7;
    if (d->cfg.pair_min_bits <= 0)
        d->cfg.pair_min_bits = 20;
    if (d->cfg.max_pairs == 0)
        d->cfg.max_pairs = 32;
    if (d->cfg.max_clients == 0)
        d->cfg.max_clients = 1u << 20;
    if (d->cfg.max_clients > UINT32_MAX - 1)
        d->cfg.max_clients = UINT32_MAX - 1;
    if (d->cfg.max_served == 0)
        d->cfg.max_served = 131072;
    if (d->cfg.max_served < CLIENT_MIN_CAP)
        d->cfg.max_served = CLIENT_MIN_CAP;
    if (d->cfg.max_served > (1u << 24))
        d->cfg.max_served = 1u << 24;
    while (d->cfg.max_served & (d->cfg.max_served - 1)) /* a power of two: capacities double */
        d->cfg.max_served &= d->cfg.max_served - 1;
    if (d->cfg.max_bytes == 0)
        d->cfg.max_bytes = (size_t)256 << 20;
    d->out = out;
    static const double bpc[3] = {4.0, 5.0, 5.857981};
    for (int k = 0; k < 3; k++)
        for (unsigned m = 0; m <= WW_ADDR_TEXT_MAX; m++)
            d->bits_tab[k][m] = ww_similarity_bits(m, bpc[k], 1);
    d->n_evicted = 1024; /* twice the browsers tracked, within [1024, EVICTED_SLOTS] */
    while (d->n_evicted < EVICTED_SLOTS && d->n_evicted < 2 * d->cfg.max_clients)
        d->n_evicted *= 2;
    d->evicted = ww_calloc(mem, d->n_evicted, sizeof(uint64_t));
    d->evicted_until = ww_calloc(mem, d->n_evicted, sizeof(uint64_t));
    d->ncheads = 1024;
    d->cheads = ww_calloc(mem, d->ncheads, sizeof(uint32_t));
    if (d->evicted == NULL || d->evicted_until == NULL || d->cheads == NULL) {
        ww_free(mem, d->evicted);
        ww_free(mem, d->evicted_until);
        ww_free(mem, d->cheads);
        ww_free(mem, d);
        return NULL;
    }
    if (d->cfg.registry == NULL && !d->cfg.no_registry) {
        d->own_registry = ww_registry_new(mem);
        if (d->own_registry == NULL || ww_registry_load_bundled(d->own_registry) < 0) {
            ww_detect_free(d);
            return NULL;
        }
        d->cfg.registry = d->own_registry;
    }
    acct(d, (ssize_t)(sizeof(*d) + 2 * d->n_evicted * sizeof(uint64_t) +
                      d->ncheads * sizeof(uint32_t)));
    return d;
}

static void client_release(ww_detect *d, client *c)
{
    d->last_cl = 0;
    acct(d, -(ssize_t)client_bytes(d, c));
    ww_free(d->mem, c->v);
    ww_free(d->mem, c->m);
    ww_free(d->mem, c->heads);
    ww_free(d->mem, c->slot);
    ww_free(d->mem, c->pairs);
    ww_free(d->mem, c->mints);
    c->mints = NULL;
    c->n_mints = c->next_mint = 0;
    c->v = NULL;
    c->m = NULL;
    c->heads = NULL;
    c->slot = NULL;
    c->pairs = NULL;
}

void ww_detect_free(ww_detect *d)
{
    if (d == NULL)
        return;
    for (size_t i = 0; i < d->ncl; i++)
        if (d->cl[i].used)
            client_release(d, &d->cl[i]);
    ww_free(d->mem, d->cl);
    ww_free(d->mem, d->cheads);
    ww_free(d->mem, d->evicted);
    ww_free(d->mem, d->evicted_until);
    ww_free(d->mem, d->macs);
    ww_free(d->mem, d->aliases);
    ww_registry_free(d->own_registry);
    ww_free(d->mem, d->hosts);
    ww_free(d->mem, d->host_slots);
    for (size_t i = 0; i < d->n_urls; i++)
        ww_free(d->mem, d->urls[i]);
    ww_free(d->mem, d->urls);
    ww_free(d->mem, d->url_slots);
    ww_free(d->mem, d);
}

const ww_detect_stats *ww_detect_stats_get(const ww_detect *d)
{
    return &d->st;
}

/* ---- browsers: IP table, LRU, eviction ---- */

static inline client *CL(const ww_detect *d, uint32_t ix1)
{
    return ix1 ? &d->cl[ix1 - 1] : NULL;
}

static void lru_unlink(ww_detect *d, client *c)
{
    uint32_t me = (uint32_t)(c - d->cl) + 1;
    if (c->lru_prev)
        CL(d, c->lru_prev)->lru_next = c->lru_next;
    else if (d->lru_head == me)
        d->lru_head = c->lru_next;
    if (c->lru_next)
        CL(d, c->lru_next)->lru_prev = c->lru_prev;
    else if (d->lru_tail == me)
        d->lru_tail = c->lru_prev;
    c->lru_prev = c->lru_next = 0;
}

static void lru_front(ww_detect *d, client *c)
{
    uint32_t me = (uint32_t)(c - d->cl) + 1;
    if (d->lru_head == me)
        return;
    lru_unlink(d, c);
    c->lru_next = d->lru_head;
    if (d->lru_head)
        CL(d, d->lru_head)->lru_prev = me;
    d->lru_head = me;
    if (!d->lru_tail)
        d->lru_tail = me;
}

/* The IP a browser is known by (another IP of the same host when a MAC joined them). */
static const ww_ip *canon_ip(const ww_detect *d, const ww_ip *ip)
{
    if (d->aliases == NULL)
        return ip;
    size_t mask = d->n_mac_slots - 1, i = (size_t)ip_hash(ip) & mask;
    for (size_t k = 0; k < d->n_mac_slots; k++) {
        const alias_ent *e = &d->aliases[(i + k) & mask];
        if (!e->used)
            return ip;
        if (ww_ip_eq(&e->ip, ip))
            return &e->canon;
    }
    return ip;
}

/* The browser known by ip, ip already canonical (canon_ip() of it returns it). */
static client *find_canon_client(const ww_detect *d, const ww_ip *ip)
{
    uint32_t ix = d->cheads[(size_t)ip_hash(ip) & (d->ncheads - 1)];
    while (ix) {
        client *c = CL(d, ix);
        if (ww_ip_eq(&c->ip, ip))
            return c;
        ix = c->hnext;
    }
    return NULL;
}

static client *find_client(const ww_detect *d, const ww_ip *ip)
{
    return find_canon_client(d, canon_ip(d, ip));
}

/* Until when an evicted browser's lost served set would have mattered (0: not evicted). */
static uint64_t evicted_until(const ww_detect *d, const ww_ip *ip)
{
    uint64_t h = ip_hash(ip);
    size_t i = (h >> 7) & (d->n_evicted - 1);
    return d->evicted[i] == h ? d->evicted_until[i] : 0;
}

static bool is_incomplete(const ww_detect *d, uint64_t until)
{
    return until != 0 && d->now <= until;
}

static void bucket_unlink(ww_detect *d, client *c)
{
    uint32_t me = (uint32_t)(c - d->cl) + 1;
    uint32_t *pp = &d->cheads[(size_t)ip_hash(&c->ip) & (d->ncheads - 1)];
    while (*pp && *pp != me)
        pp = &CL(d, *pp)->hnext;
    if (*pp == me)
        *pp = c->hnext;
    c->hnext = 0;
}

static void evict(ww_detect *d, client *c, const ww_ctx *ctx, const char *why)
{
    char ipbuf[64], detail[192];
    uint64_t h = ip_hash(&c->ip);
    size_t slot = (h >> 7) & (d->n_evicted - 1);
    uint64_t until = WW_MAX(c->last_ts + d->cfg.window_us, c->incomplete_until);
    if (d->evicted[slot] == h)
        until = WW_MAX(until, d->evicted_until[slot]);
    d->evicted[slot] = h;
    d->evicted_until[slot] = until;
    d->st.clients_evicted++;
    d->st.clients--;
    (void)ww_ip_str(&c->ip, ipbuf, sizeof ipbuf);
    snprintf(detail, sizeof detail,
             "browser %s forgotten (%s; %zu addresses it was served; %llu evicted so far): a "
             "payee it pays later is judged on an incomplete served set",
             ipbuf, why, c->n, (unsigned long long)d->st.clients_evicted);
    lru_unlink(d, c);
    bucket_unlink(d, c);
    client_release(d, c);
    memset(c, 0, sizeof(*c));
    c->hnext = d->free_head;
    d->free_head = (uint32_t)(c - d->cl) + 1;
    d->st.anomalies++;
    ww_out_anomaly(d->out, ctx, "detect", "browser-evicted", detail);
}

/* Evicts least recently active browsers (never keep) until the state fits the budget. */
static void enforce_budget(ww_detect *d, const client *keep, const ww_ctx *ctx)
{
    while (d->st.state_bytes > d->cfg.max_bytes && d->lru_tail) {
        client *v = CL(d, d->lru_tail);
        if (v == keep) {
            if (!v->lru_prev)
                return;
            v = CL(d, v->lru_prev);
        }
        evict(d, v, ctx, "detection memory budget");
    }
}

static bool grow_ctable(ww_detect *d)
{
    size_t nb = d->ncheads * 2;
    uint32_t *h = ww_calloc(d->mem, nb, sizeof(uint32_t));
    if (h == NULL)
        return false;
    for (size_t i = 0; i < d->ncl; i++) {
        client *c = &d->cl[i];
        if (!c->used)
            continue;
        size_t b = (size_t)ip_hash(&c->ip) & (nb - 1);
        c->hnext = h[b];
        h[b] = (uint32_t)i + 1;
    }
    acct(d, (ssize_t)((nb - d->ncheads) * sizeof(uint32_t)));
    ww_free(d->mem, d->cheads);
    d->cheads = h;
    d->ncheads = nb;
    return true;
}

/* Finds or creates the browser for ip (creating may evict others; pointers to other
 * browsers do not survive this call). */
static client *get_client(ww_detect *d, const ww_ip *ip_in, const ww_ctx *ctx, uint64_t now)
{
    client *c;
    if (d->last_cl != 0 && ww_ip_eq(&d->last_ip, ip_in)) { /* every address of a response */
        c = CL(d, d->last_cl);
        c->last_ts = now;
        lru_front(d, c);
        return c;
    }
    const ww_ip *ip = canon_ip(d, ip_in);
    /* find_client(d, ip) maps ip once more; an ip canon_ip() returned as is maps to itself */
    c = ip == ip_in ? find_canon_client(d, ip) : find_client(d, ip);
    if (c != NULL) {
        c->last_ts = now;
        lru_front(d, c);
        d->last_ip = *ip_in;
        d->last_cl = (uint32_t)(c - d->cl) + 1;
        return c;
    }
    if (d->st.clients >= d->cfg.max_clients && d->lru_tail)
        evict(d, CL(d, d->lru_tail), ctx, "browser count limit");
    uint32_t ix;
    if (d->free_head) {
        ix = d->free_head;
        d->free_head = CL(d, ix)->hnext;
    } else {
        if (d->ncl == d->capcl) {
            size_t nc = d->capcl ? d->capcl * 2 : 64;
            client *n2 = ww_realloc(d->mem, d->cl, nc * sizeof(client));
            if (n2 == NULL)
                return NULL;
            acct(d, (ssize_t)((nc - d->capcl) * sizeof(client)));
            d->cl = n2;
            d->capcl = nc;
        }
        d->ncl++;
        ix = (uint32_t)d->ncl;
    }
    c = CL(d, ix);
    memset(c, 0, sizeof(*c));
    c->used = true;
    c->ip = *ip;
    c->last_ts = now;
    c->incomplete_until = evicted_until(d, ip);
    size_t b = (size_t)ip_hash(ip) & (d->ncheads - 1);
    c->hnext = d->cheads[b];
    d->cheads[b] = ix;
    lru_front(d, c);
    d->st.clients++;
    if (d->st.clients > d->ncheads)
        (void)grow_ctable(d); /* on failure the chains just get longer */
    d->last_ip = *ip_in;
    d->last_cl = ix;
    return CL(d, ix);
}

/* A hole of one kind (*kind_until, one of c's) in c's served set, that matters until `until`. */
static void mark_hole(client *c, uint64_t *kind_until, uint64_t until)
{
    *kind_until = WW_MAX(*kind_until, until);
    c->incomplete_until = WW_MAX(c->incomplete_until, until);
}

void ww_detect_history_unseen(ww_detect *d, const ww_ip *ip, uint64_t ts_us, bool capture_start)
{
    if (!capture_start && find_client(d, ip) != NULL)
        return; /* a browser watched before: a flow that timed out and came back */
    if (ts_us > d->now)
        d->now = ts_us;
    client *c = get_client(d, ip, NULL, ts_us);
    if (c == NULL)
        return;
    bool said = is_incomplete(d, c->unseen_until);
    mark_hole(c, &c->unseen_until, ts_us + d->cfg.window_us);
    d->st.clients_unseen += said ? 0 : 1;
}

/* Bytes on their way to browser ip over HTTP or TLS were lost (a gap: capture drops, a
 * snaplen, a damaged file): what they served is unknown, its served set incomplete for the
 * window (the gap itself is counted blind, blind.http_gaps). */
static void served_lost(ww_detect *d, const ww_ctx *ctx, const ww_ip *ip, uint64_t ts_us)
{
    if (ts_us > d->now)
        d->now = ts_us;
    client *c = get_client(d, ip, ctx, d->now);
    if (c == NULL)
        return;
    mark_hole(c, &c->lost_until, d->now + d->cfg.window_us);
}

/* Why a browser's served set is incomplete (NULL: it is not). */
static const char *incomplete_why(const ww_detect *d, const client *c, const ww_ip *ip)
{
    if (c != NULL && is_incomplete(d, c->unseen_until))
        return "its connections were open before the capture began";
    if (c != NULL && is_incomplete(d, c->lost_until))
        return "bytes sent to it were lost";
    return ww_detect_client_incomplete(d, ip) ? "state evicted" : NULL;
}

bool ww_detect_client_incomplete(const ww_detect *d, const ww_ip *ip)
{
    const client *c = find_client(d, ip);
    if (c != NULL)
        return is_incomplete(d, c->incomplete_until);
    return is_incomplete(d, evicted_until(d, canon_ip(d, ip)));
}

/* ---- a browser's served addresses ---- */

static inline uint32_t *heads(const client *c, int ix)
{
    return c->heads + (size_t)ix * c->cap;
}

/* The exact index: entry i (whose address hashes to h) in the first free slot from h. */
static void slot_put(client *c, size_t i, uint64_t h)
{
    size_t mask = 2 * c->cap - 1, j = (size_t)h & mask;
    while (c->slot[j] != 0)
        j = (j + 1) & mask;
    c->slot[j] = (h >> 32) << 32 | ((uint64_t)i + 1);
}

/* Removes entry i (hashing to h); the slots after it move back so no probe stops early. */
static void slot_del(client *c, size_t i, uint64_t h)
{
    size_t mask = 2 * c->cap - 1, j = (size_t)h & mask;
    while (c->slot[j] != 0 && (uint32_t)c->slot[j] != i + 1)
        j = (j + 1) & mask;
    if (c->slot[j] == 0)
        return;
    for (size_t k = (j + 1) & mask;; k = (k + 1) & mask) {
        uint64_t v = c->slot[k];
        if (v == 0)
            break;
        /* v may fill the hole at j unless its home lies cyclically in (j, k] */
        size_t home = (size_t)addr_hash(&c->v[(uint32_t)v - 1].addr) & mask;
        if (((k - home) & mask) >= ((k - j) & mask)) {
            c->slot[j] = v;
            j = k;
        }
    }
    c->slot[j] = 0;
}

static void index_entry(client *c, size_t i)
{
    smeta *s = &c->m[i];
    for (int ix = 0; ix < IX_N; ix++) {
        uint32_t *h = &heads(c, ix)[s->key[ix] & (c->cap - 1)];
        s->next[ix] = *h;
        *h = (uint32_t)i + 1;
    }
    slot_put(c, i, addr_hash(&c->v[i].addr));
}

static void unindex_entry(client *c, size_t i)
{
    smeta *s = &c->m[i];
    for (int ix = 0; ix < IX_N; ix++) {
        uint32_t *pp = &heads(c, ix)[s->key[ix] & (c->cap - 1)];
        while (*pp && *pp != i + 1)
            pp = &c->m[*pp - 1].next[ix];
        if (*pp == i + 1)
            *pp = s->next[ix];
    }
    slot_del(c, i, addr_hash(&c->v[i].addr));
}

static bool client_grow(ww_detect *d, client *c)
{
    size_t nc = c->cap ? c->cap * 2 : CLIENT_MIN_CAP;
    if (nc > d->cfg.max_served)
        return false;
    served *v = ww_realloc(d->mem, c->v, nc * sizeof(served));
    if (v == NULL)
        return false;
    c->v = v;
    smeta *m = ww_realloc(d->mem, c->m, nc * sizeof(smeta));
    if (m == NULL)
        return false;
    c->m = m;
    uint32_t *h = ww_calloc(d->mem, IX_N * nc, sizeof(uint32_t));
    uint64_t *sl = ww_calloc(d->mem, 2 * nc, sizeof(uint64_t));
    if (h == NULL || sl == NULL) {
        ww_free(d->mem, h);
        ww_free(d->mem, sl);
        return false; /* v is bigger, cap unchanged: consistent */
    }
    size_t before = client_bytes(d, c);
    ww_free(d->mem, c->heads);
    ww_free(d->mem, c->slot);
    c->heads = h;
    c->slot = sl;
    c->cap = nc;
    acct(d, (ssize_t)(client_bytes(d, c) - before));
    for (size_t i = 0; i < c->n; i++)
        index_entry(c, i);
    return true;
}

static served *served_find(const client *c, const ww_addr *a)
{
    if (c == NULL || c->cap == 0)
        return NULL;
    uint64_t h = addr_hash(a), fp = h >> 32;
    size_t mask = 2 * c->cap - 1;
    for (size_t j = (size_t)h & mask;; j = (j + 1) & mask) {
        uint64_t v = c->slot[j];
        if (v == 0)
            return NULL;
        if (v >> 32 == fp) {
            served *s = &c->v[(uint32_t)v - 1];
            if (ww_addr_eq(&s->addr, a))
                return s;
        }
    }
}

static bool in_window(const ww_detect *d, const served *s, uint64_t now)
{
    return s != NULL && (now <= s->ts_us || now - s->ts_us <= d->cfg.window_us);
}

/* The host an address was served from, interned once for all browsers (a hash table of at
 * most MAX_HOSTS names; beyond it, 0: "?"). */
static uint16_t host_index(ww_detect *d, const ww_ctx *ctx)
{
    const char *h = ctx != NULL && ctx->http != NULL ? ctx->http->hostname : NULL;
    if ((h == NULL || !*h) && ctx != NULL && ctx->tls != NULL && ctx->tls->sni[0])
        h = ctx->tls->sni;
    if (h == NULL || !*h)
        return 0;
    if (d->hosts == NULL) {
        d->hosts = ww_calloc(d->mem, MAX_HOSTS, sizeof(*d->hosts));
        d->host_slots = ww_calloc(d->mem, 2 * MAX_HOSTS, sizeof(uint16_t));
        if (d->hosts == NULL || d->host_slots == NULL) {
            ww_free(d->mem, d->hosts);
            ww_free(d->mem, d->host_slots);
            d->hosts = NULL;
            d->host_slots = NULL;
            return 0;
        }
        acct(d, (ssize_t)(MAX_HOSTS * sizeof(*d->hosts) + 2 * MAX_HOSTS * sizeof(uint16_t)));
    }
    size_t hl = strnlen(h, sizeof d->hosts[0] - 1), mask = 2 * MAX_HOSTS - 1;
    size_t i = (size_t)hash_bytes(h, hl, 0x40057) & mask;
    for (;; i = (i + 1) & mask) {
        uint16_t v = d->host_slots[i];
        if (v == 0)
            break;
        if (strncmp(d->hosts[v - 1], h, hl) == 0 && d->hosts[v - 1][hl] == '\0')
            return v;
    }
    if (d->n_hosts == MAX_HOSTS)
        return 0;
    memcpy(d->hosts[d->n_hosts], h, hl);
    d->hosts[d->n_hosts][hl] = '\0';
    d->host_slots[i] = (uint16_t)++d->n_hosts;
    return d->host_slots[i];
}

/* The URL of the response ctx (scheme, host, request target), interned once for all browsers
 * (a hash table of at most MAX_URLS; beyond it, or without HTTP, 0). A URL is copied only the
 * first time it serves an address; every address of a response asks again, so the pieces are
 * compared with the URL answered last before anything is composed. The text is what
 * snprintf("%s://%s%s") gave, cut at URL_TEXT_MAX - 1 bytes. */
static uint16_t url_index(ww_detect *d, const ww_ctx *ctx)
{
    if (ctx == NULL || ctx->http == NULL || ctx->http->url == NULL)
        return 0;
    const char *h = ctx->http->hostname, *path = ctx->http->url;
    if ((h == NULL || !*h) && ctx->tls != NULL && ctx->tls->sni[0])
        h = ctx->tls->sni;
    if (h == NULL)
        h = "?";
    bool ws = ctx->app_proto != NULL && ctx->app_proto[0] == 'w' &&
              strcmp(ctx->app_proto, "websocket") == 0;
    bool sec = ctx->tls != NULL || ctx->quic != NULL;
    const char *sch = ws ? (sec ? "wss://" : "ws://") : sec ? "https://" : "http://";
    /* the three pieces, each cut where the text reaches URL_TEXT_MAX - 1 bytes */
    size_t room = URL_TEXT_MAX - 1, sl = strlen(sch);
    size_t hl = WW_MIN(strnlen(h, URL_TEXT_MAX), room - sl);
    size_t pl = WW_MIN(strnlen(path, URL_TEXT_MAX), room - sl - hl);
    size_t ul = sl + hl + pl;
    if (d->last_url != 0 && d->last_url_len == ul) {
        const char *t = d->urls[d->last_url - 1];
        if (memcmp(t, sch, sl) == 0 && memcmp(t + sl, h, hl) == 0 &&
            memcmp(t + sl + hl, path, pl) == 0)
            return d->last_url;
    }
    char u[URL_TEXT_MAX];
    memcpy(u, sch, sl);
    memcpy(u + sl, h, hl);
    memcpy(u + sl + hl, path, pl);
    u[ul] = '\0';
    if (d->urls == NULL) {
        d->urls = ww_calloc(d->mem, MAX_URLS, sizeof(*d->urls));
        d->url_slots = ww_calloc(d->mem, 2 * MAX_URLS, sizeof(uint16_t));
        if (d->urls == NULL || d->url_slots == NULL) {
            ww_free(d->mem, d->urls);
            ww_free(d->mem, d->url_slots);
            d->urls = NULL;
            d->url_slots = NULL;
            return 0;
        }
        acct(d, (ssize_t)(MAX_URLS * sizeof(*d->urls) + 2 * MAX_URLS * sizeof(uint16_t)));
    }
    size_t mask = 2 * MAX_URLS - 1, i = (size_t)hash_bytes(u, ul, 0x7172) & mask;
    for (;; i = (i + 1) & mask) {
        uint16_t v = d->url_slots[i];
        if (v == 0)
            break;
        if (strcmp(d->urls[v - 1], u) == 0) {
            d->last_url = v;
            d->last_url_len = ul;
            return v;
        }
    }
    if (d->n_urls == MAX_URLS)
        return 0;
    char *c = ww_malloc(d->mem, ul + 1);
    if (c == NULL)
        return 0;
    memcpy(c, u, ul + 1);
    acct(d, (ssize_t)(ul + 1));
    d->urls[d->n_urls] = c;
    d->url_slots[i] = (uint16_t)++d->n_urls;
    d->last_url = d->url_slots[i];
    d->last_url_len = ul;
    return d->url_slots[i];
}

typedef struct near {
    const served *s; /* the nearest served address (in window, same chain), or NULL */
    unsigned prefix, suffix;
} near;

/* Walks one key's bucket: entries with that key, of a's chain, in the window, not a. */
static void near_walk(ww_detect *d, const client *c, const ww_addr *a, int ix, uint64_t now,
                      near *b)
{
    uint32_t k = addr_key(a, ix);
    size_t seen = 0;
    for (uint32_t i = heads(c, ix)[k & (c->cap - 1)]; i; i = c->m[i - 1].next[ix]) {
        if (c->m[i - 1].key[ix] != k)
            continue;
        const served *s = &c->v[i - 1];
        if (s->addr.chain != a->chain || !in_window(d, s, now))
            continue;
        if (++seen > CAND_MAX) {
            d->st.index_capped++;
            return;
        }
        if (ww_addr_eq(&s->addr, a))
            continue;
        unsigned p, sf;
        match_ps(a, &s->addr, &p, &sf);
        if (b->s == NULL || p + sf > b->prefix + b->suffix ||
            (p + sf == b->prefix + b->suffix && s->ts_us > b->s->ts_us)) {
            b->s = s;
            b->prefix = p;
            b->suffix = sf;
        }
    }
}

/* The served address nearest to a among those sharing KEY_CHARS at one end. */
static void nearest(ww_detect *d, const client *c, const ww_addr *a, uint64_t now, near *b)
{
    memset(b, 0, sizeof(*b));
    if (c == NULL || c->cap == 0)
        return;
    near_walk(d, c, a, IX_PRE, now, b);
    near_walk(d, c, a, IX_SUF, now, b);
}

static const spair *pair_of(const ww_detect *d, const client *c, const ww_addr *a, const ww_addr **other,
                            int *prov_other, const char **host_self, const char **host_other,
                            int *prov_self)
{
    for (size_t i = 0; i < c->n_pairs; i++) {
        const spair *p = &c->pairs[i];
        bool isa = ww_addr_eq(&p->a, a), isb = !isa && ww_addr_eq(&p->b, a);
        if (!isa && !isb)
            continue;
        *other = isa ? &p->b : &p->a;
        *prov_other = isa ? p->prov_b : p->prov_a;
        *prov_self = isa ? p->prov_a : p->prov_b;
        uint16_t hs = isa ? p->host_a : p->host_b, ho = isa ? p->host_b : p->host_a;
        *host_self = hs ? d->hosts[hs - 1] : "?";
        *host_other = ho ? d->hosts[ho - 1] : "?";
        return p;
    }
    return NULL;
}

/* A new address beside an existing lookalike: a poisoned feed (far beyond chance counting
 * every address of that chain this browser was served). */
static void check_pair(ww_detect *d, client *c, size_t idx, uint64_t now)
{
    const served *s = &c->v[idx];
    near b;
    nearest(d, c, &s->addr, now, &b);
    if (b.s == NULL || !is_lookalike(d, &s->addr, b.prefix, b.suffix))
        return;
    size_t n = c->n_chain[s->addr.chain];
    double bits = bits1(d, &s->addr, b.prefix + b.suffix) - (n > 1 ? log2((double)n) : 0.0);
    if (bits < d->cfg.pair_min_bits)
        return;
    if (c->n_pairs >= d->cfg.max_pairs)
        return;
    if (c->pairs == NULL) {
        c->pairs = ww_calloc(d->mem, d->cfg.max_pairs, sizeof(spair));
        if (c->pairs == NULL)
            return;
        acct(d, (ssize_t)(d->cfg.max_pairs * sizeof(spair)));
    }
    spair *p = &c->pairs[c->n_pairs++];
    p->a = b.s->addr;
    p->prov_a = b.s->prov;
    p->host_a = b.s->host;
    p->b = s->addr;
    p->prov_b = s->prov;
    p->host_b = s->host;
    p->prefix = b.prefix;
    p->suffix = b.suffix;
    d->st.served_pairs++;
}

/* Records a for c; returns true when it is new (or had expired) for this browser. */
static bool served_add(ww_detect *d, client *c, const ww_addr *a, int prov, const ww_ctx *ctx,
                       uint64_t now)
{
    uint16_t bit = (uint16_t)(1u << (prov >= 0 && prov < WW_PROV_COUNT ? prov : 0));
    served *s = served_find(c, a);
    if (s != NULL) {
        bool fresh = now - s->ts_us > d->cfg.window_us && now > s->ts_us;
        if (fresh)
            s->prov = 0;
        s->prov |= bit;
        s->ts_us = now;
        if (ctx != NULL) { /* where it was last served (a join's move keeps the old one) */
            uint16_t ui = url_index(d, ctx);
            if (ui != 0)
                s->url = ui;
        }
        if (prov != WW_PROV_SCRIPT && now > c->chain_ts[a->chain])
            c->chain_ts[a->chain] = now;
        if (prov != WW_PROV_SCRIPT)
            c->chain_seen[a->chain] = true;
        return fresh;
    }
    if (c->n == c->cap && !client_grow(d, c) && c->cap == 0)
        return false;
    size_t idx;
    if (c->n < c->cap) {
        idx = c->n++;
    } else {
        /* full: the oldest entry (in ring order) makes room */
        idx = c->next;
        c->next = (c->next + 1) % c->cap;
        unindex_entry(c, idx);
        c->n_chain[c->v[idx].addr.chain]--;
        c->incomplete_until = WW_MAX(c->incomplete_until, c->v[idx].ts_us + d->cfg.window_us);
        d->st.served_dropped++;
    }
    served *e = &c->v[idx];
    e->addr = *a;
    e->addr.flags = 0;
    e->ts_us = now;
    e->prov = bit;
    e->host = host_index(d, ctx);
    e->url = url_index(d, ctx);
    for (int ix = 0; ix < IX_N; ix++)
        c->m[idx].key[ix] = addr_key(a, ix);
    index_entry(c, idx);
    c->n_chain[a->chain]++;
    if (prov != WW_PROV_SCRIPT) {
        if (now > c->chain_ts[a->chain])
            c->chain_ts[a->chain] = now;
        c->chain_seen[a->chain] = true;
    }
    if (prov != WW_PROV_SCRIPT && prov != WW_PROV_REGISTRY)
        check_pair(d, c, idx, now);
    return true;
}

/* Was anything of chain served to c (not only by a script) within the window? */
static bool chain_served(const ww_detect *d, const client *c, int chain, uint64_t now)
{
    if (c == NULL || !c->chain_seen[chain])
        return false;
    uint64_t t = c->chain_ts[chain];
    return now <= t || now - t <= d->cfg.window_us;
}

static bool expected_by_cfg(const ww_detect *d, const ww_addr *a)
{
    for (size_t i = 0; i < d->cfg.n_expect; i++)
        if (ww_addr_eq(&d->cfg.expect[i], a))
            return true;
    return false;
}

typedef struct best {
    const ww_addr *addr;
    unsigned prefix, suffix;
    size_t n;
    uint64_t ts;
} best;

#define CLOSEST_SCAN 4096

/* The served (or --expect) address of a's chain most like a: the `expected` an alert
 * reports. Wallet calls are rare, so this scans, but at most the CLOSEST_SCAN most recently
 * added entries (an entry sharing >= 7 characters is found by the index, wherever it is). */
static void closest(ww_detect *d, const client *c, const ww_addr *a, uint64_t now, best *b)
{
    memset(b, 0, sizeof(*b));
    if (c != NULL && c->n > CLOSEST_SCAN) {
        near nb;
        nearest(d, c, a, now, &nb);
        if (nb.s != NULL && nb.prefix + nb.suffix >= 7 && nb.s->prov != (1u << WW_PROV_SCRIPT)) {
            b->addr = &nb.s->addr;
            b->prefix = nb.prefix;
            b->suffix = nb.suffix;
            b->ts = nb.s->ts_us;
            b->n = c->n;
        }
    }
    if (c != NULL && b->addr == NULL) {
        size_t newest = c->n < c->cap ? c->n : c->next;
        for (size_t k = 0; k < c->n && k < CLOSEST_SCAN; k++) {
            const served *s = &c->v[(newest + c->n - 1 - k) % c->n];
            if (s->addr.chain != a->chain || !in_window(d, s, now) || s->prov == (1u << WW_PROV_SCRIPT))
                continue;
            unsigned p, sf;
            b->n++;
            match_ps(a, &s->addr, &p, &sf);
            if (b->addr == NULL || p + sf > b->prefix + b->suffix ||
                (p + sf == b->prefix + b->suffix && s->ts_us > b->ts)) {
                b->addr = &s->addr;
                b->prefix = p;
                b->suffix = sf;
                b->ts = s->ts_us;
            }
        }
    }
    for (size_t i = 0; i < d->cfg.n_expect; i++) {
        const ww_addr *e = &d->cfg.expect[i];
        if (e->chain != a->chain)
            continue;
        unsigned p, sf;
        b->n++;
        match_ps(a, e, &p, &sf);
        if (b->addr == NULL || p + sf > b->prefix + b->suffix) {
            b->addr = e;
            b->prefix = p;
            b->suffix = sf;
            b->ts = UINT64_MAX;
        }
    }
}

static const char *ctx_host(const ww_ctx *ctx)
{
    if (ctx == NULL)
        return NULL;
    if (ctx->http != NULL && ctx->http->hostname != NULL && ctx->http->hostname[0])
        return ctx->http->hostname;
    if (ctx->tls != NULL && ctx->tls->sni[0])
        return ctx->tls->sni;
    return NULL;
}

/* Within one wallet call: was (rule, role, observed) raised already? Records it if not. */
static bool raised_already(ww_detect *d, const ww_alert *a)
{
    if (!d->in_call || a->observed == NULL)
        return false;
    for (size_t i = 0; i < d->n_raised; i++) {
        const struct raised *r = &d->raised[i];
        if (r->role == a->role && strcmp(r->rule, a->rule) == 0 &&
            ww_addr_eq(&r->observed, a->observed))
            return true;
    }
    if (d->n_raised < WC_RAISED_MAX) {
        struct raised *r = &d->raised[d->n_raised++];
        r->rule = a->rule;
        r->role = a->role;
        r->observed = *a->observed;
    }
    return false;
}

static void raise(ww_detect *d, const ww_ctx *ctx, ww_alert *a)
{
    if (raised_already(d, a))
        return;
    if (d->cfg.baseline != NULL &&
        ww_baseline_match(d->cfg.baseline, a->rule, a->observed, ctx_host(ctx), NULL)) {
        d->st.suppressed++;
        return;
    }
    /* where the expected address was last served to this browser: its response's URL, time */
    if (a->expected != NULL && a->served_url == NULL && d->in_call && d->call_client != NULL) {
        const served *s = served_find(d->call_client, a->expected);
        if (s != NULL && s->url != 0) {
            a->served_url = d->urls[s->url - 1];
            a->served_ts_us = s->ts_us;
        }
    }
    d->st.alerts++;
    if (a->severity > d->st.worst)
        d->st.worst = a->severity;
    ww_out_alert(d->out, ctx, a);
    if (d->cfg.alert_raised != NULL)
        d->cfg.alert_raised(d->cfg.alert_ud, ctx, a);
}

/* ---- MAC <-> IP: one host's IPv4 and IPv6 addresses are one browser ---- */

static bool alias_put(ww_detect *d, const ww_ip *ip, const ww_ip *canon)
{
    size_t mask = d->n_mac_slots - 1, i = (size_t)ip_hash(ip) & mask;
    for (size_t k = 0; k < d->n_mac_slots / 2; k++) {
        alias_ent *e = &d->aliases[(i + k) & mask];
        if (e->used && ww_ip_eq(&e->ip, ip))
            return false;
        if (!e->used) {
            e->used = true;
            e->ip = *ip;
            e->canon = *canon;
            d->last_cl = 0;
            return true;
        }
    }
    return false; /* full: that IP stays its own browser */
}

/* Moves what src was served into dst (both of one host) and forgets src. */
static void merge_into(ww_detect *d, client *dst, client *src, uint64_t now)
{
    for (size_t i = 0; i < src->n; i++) {
        const served *s = &src->v[i];
        for (int p = 0; p < WW_PROV_COUNT; p++)
            if (s->prov & (1u << p))
                (void)served_add(d, dst, &s->addr, p, NULL, s->ts_us > now ? now : s->ts_us);
        served *t = served_find(dst, &s->addr); /* where it was served, kept */
        if (t != NULL && t->url == 0) {
            t->url = s->url;
            t->host = s->host;
        }
    }
    dst->incomplete_until = WW_MAX(dst->incomplete_until, src->incomplete_until);
    lru_unlink(d, src);
    bucket_unlink(d, src);
    client_release(d, src);
    memset(src, 0, sizeof(*src));
    src->hnext = d->free_head;
    d->free_head = (uint32_t)(src - d->cl) + 1;
    d->st.clients--;
}

void ww_detect_learn_mac(ww_detect *d, const uint8_t mac[6], const ww_ip *ip, uint64_t ts_us)
{
    static const uint8_t zero[6];
    if ((mac[0] & 1) || memcmp(mac, zero, 6) == 0)
        return; /* multicast / broadcast / none */
    if (d->macs == NULL) {
        d->n_mac_slots = 4096;
        d->macs = ww_calloc(d->mem, d->n_mac_slots, sizeof(mac_ent));
        d->aliases = ww_calloc(d->mem, d->n_mac_slots, sizeof(alias_ent));
        if (d->macs == NULL || d->aliases == NULL) {
            ww_free(d->mem, d->macs);
            ww_free(d->mem, d->aliases);
            d->macs = NULL;
            d->aliases = NULL;
            return;
        }
        acct(d, (ssize_t)(d->n_mac_slots * (sizeof(mac_ent) + sizeof(alias_ent))));
    }
    size_t mask = d->n_mac_slots - 1, i = (size_t)hash_bytes(mac, 6, 0x3ac) & mask;
    mac_ent *m = NULL;
    for (size_t k = 0; k < d->n_mac_slots / 2 && m == NULL; k++) {
        mac_ent *e = &d->macs[(i + k) & mask];
        if (!e->used || memcmp(e->mac, mac, 6) == 0)
            m = e;
    }
    if (m == NULL)
        return; /* table full: no more joins (bounded) */
    if (!m->used) {
        m->used = true;
        memcpy(m->mac, mac, 6);
        m->canon = *ip;
        m->n4 = ip->family == 4;
        return;
    }
    if (m->router || ww_ip_eq(&m->canon, ip) || ww_ip_eq(canon_ip(d, ip), &m->canon))
        return;
    if (ip->family == 4 && m->n4 >= 1) {
        /* a second IPv4 address behind one MAC: a router forwarding many hosts */
        m->router = true;
        return;
    }
    if (ip->family == 4)
        m->n4++;
    if (!alias_put(d, ip, &m->canon))
        return;
    d->st.mac_aliases++;
    /* what the alias was served before the join now counts for the host */
    client *src = NULL;
    uint32_t ix = d->cheads[(size_t)ip_hash(ip) & (d->ncheads - 1)];
    for (; ix; ix = CL(d, ix)->hnext)
        if (ww_ip_eq(&CL(d, ix)->ip, ip))
            src = CL(d, ix);
    if (src == NULL)
        return;
    uint32_t src_ix = (uint32_t)(src - d->cl) + 1;
    ww_ip canon = m->canon;
    client *dst = get_client(d, &canon, NULL, ts_us); /* may move d->cl, may evict src */
    src = CL(d, src_ix);
    if (dst == NULL || dst == src || !src->used || !ww_ip_eq(&src->ip, ip))
        return;
    merge_into(d, dst, src, ts_us);
    enforce_budget(d, dst, NULL);
}

static int infer_prov(const ww_ctx *ctx)
{
    if (ctx->app_proto != NULL && strcmp(ctx->app_proto, "websocket") == 0)
        return WW_PROV_WEBSOCKET;
    const char *ct = ctx->http != NULL ? ctx->http->content_type : NULL;
    if (ct == NULL)
        return WW_PROV_BODY_TEXT;
    if (strstr(ct, "json") != NULL)
        return WW_PROV_BODY_JSON;
    if (strstr(ct, "html") != NULL || strstr(ct, "xml") != NULL)
        return WW_PROV_BODY_HTML;
    if (strstr(ct, "javascript") != NULL || strstr(ct, "ecmascript") != NULL)
        return WW_PROV_SCRIPT;
    return WW_PROV_BODY_TEXT;
}

/* What a wallet call does with a party, with its address as written, for the alert sentences:
 * "pays 0x...", "calls 0x...", "pays recipient 0x...", "approves spender 0x...". */
static const char *party_phrase(char *out, size_t n, const ww_party *p)
{
    const char *a = ww_addr_written(&p->addr);
    switch (p->role) {
    case WW_ROLE_TO:
        snprintf(out, n, "%s %s", p->payee ? "pays" : "calls", a);
        break;
    case WW_ROLE_RECIPIENT:
        snprintf(out, n, "pays recipient %s", a);
        break;
    case WW_ROLE_SPENDER:
        snprintf(out, n, "%s spender %s", p->revocation ? "revokes" : "approves", a);
        break;
    case WW_ROLE_OPERATOR:
        snprintf(out, n, "%s operator %s", p->revocation ? "revokes" : "approves", a);
        break;
    case WW_ROLE_DELEGATE:
        snprintf(out, n, "delegates the account to %s", a);
        break;
    case WW_ROLE_AUTHORITY:
        snprintf(out, n, "hands authority to %s", a);
        break;
    default:
        snprintf(out, n, "names %s", a);
    }
    return out;
}

/* A DB entry's name in a sentence: its label, else its source. */
static const char *db_name(const ww_addrdb_entry *e)
{
    return e->label[0] ? e->label : e->source[0] ? e->source : "attacker DB";
}

/* ---- a served address that resembles an attacker-DB address (poisoned response) ---- */

typedef struct db_near {
    const ww_addr *served;
    size_t n_compared;
    bool found;
    ww_addr addr; /* the closest DB entry */
    const ww_addrdb_entry *e;
    unsigned prefix, suffix;
    double bits;
} db_near;

static void db_near_visit(void *ud, const ww_addr *x, const ww_addrdb_entry *e)
{
    db_near *b = ud;
    unsigned p, s;
    double bits;
    ww_similarity(b->served, x, b->n_compared, &p, &s, &bits);
    if (!b->found || bits > b->bits) {
        b->found = true;
        b->addr = *x;
        b->e = e;
        b->prefix = p;
        b->suffix = s;
        b->bits = bits;
    }
}

/* A critical alert about an address a response served to the client (where: response). */
static void resp_alert(ww_alert *al, const char *rule, const char *sig, const ww_addr *addr,
                       const ww_addrdb_entry *e)
{
    memset(al, 0, sizeof(*al));
    al->rule = rule;
    al->severity = WW_SEV_CRITICAL;
    al->signature = sig;
    al->chain = addr->chain;
    al->where = "response";
    al->role = -1;
    al->observed = addr;
    al->db = e;
}

/*
 * Compares addr with every DB entry of its chain at once: with N entries, a lookalike needs
 * m = p + s characters where ww_similarity_bits(m, bpc, N) >= the threshold, so p or s is at
 * least ceil(m/2); ww_addrdb_near finds exactly the entries sharing that many leading or
 * trailing characters (two binary searches per table). Raises lookalike-recipient with
 * where "response": expected is the DB address it resembles, db that entry.
 */
static void check_served_lookalike(ww_detect *d, const ww_ctx *ctx, const ww_addr *addr)
{
    size_t n = ww_addrdb_count(d->cfg.db, addr->chain), fl = ww_addr_fixed_len(addr);
    double bpc = ww_addr_char_bits(addr);
    unsigned m = 1;
    db_near b;
    char sig[512];

    if (n == 0 || addr->len <= fl)
        return;
    while (m <= addr->len - fl && ww_similarity_bits(m, bpc, n) < d->cfg.lookalike_min_bits)
        m++;
    if (m > addr->len - fl)
        return; /* even a full match would not be significant */
    memset(&b, 0, sizeof b);
    b.served = addr;
    b.n_compared = n;
    (void)ww_addrdb_near(d->cfg.db, addr, (m + 1) / 2, 4096, db_near_visit, &b);
    if (!b.found || b.bits < d->cfg.lookalike_min_bits)
        return;
    ww_alert a;
    snprintf(sig, sizeof sig,
             "a response served %s, which looks like the known attacker address %s (%s)",
             addr->text, b.addr.text, db_name(b.e));
    resp_alert(&a, "lookalike-recipient", sig, addr, b.e);
    a.expected = &b.addr;
    a.has_similarity = true;
    a.prefix = b.prefix;
    a.suffix = b.suffix;
    a.bits = b.bits;
    a.db = b.e;
    raise(d, ctx, &a);
}

/* ---- drainer-script ---- */

/*
 * A script served to the client that embeds attacker-DB addresses (the September 2025
 * payload carried 280). One alert per script: observed is the first listed address, db its
 * entry, the signature says the script's URL and how many distinct DB addresses it holds.
 */
static void on_script(void *ud, const ww_ctx *ctx, const ww_addr *addrs, size_t n)
{
    ww_detect *d = ud;
    size_t hits = 0, first = 0;
    char sig[384];

    /* what the page's own code names: call targets and spenders it may ask the wallet for */
    for (size_t i = 0; i < n; i++)
        ww_detect_served(d, ctx, &addrs[i], WW_PROV_SCRIPT);
    if (d->cfg.db == NULL)
        return;
    for (size_t i = 0; i < n; i++) {
        if (ww_addrdb_lookup(d->cfg.db, &addrs[i]) == NULL)
            continue;
        bool dup = false;
        for (size_t j = 0; j < i && !dup; j++) /* distinct addresses (a script lists few) */
            dup = ww_addr_eq(&addrs[j], &addrs[i]) && ww_addrdb_lookup(d->cfg.db, &addrs[j]);
        if (dup)
            continue;
        if (hits++ == 0)
            first = i;
    }
    if (hits == 0)
        return;
    const ww_addrdb_entry *e = ww_addrdb_lookup(d->cfg.db, &addrs[first]);
    const char *url = ctx->http != NULL && ctx->http->url != NULL ? ctx->http->url : "?";
    const char *host = ctx->http != NULL && ctx->http->hostname != NULL ? ctx->http->hostname : "";
    snprintf(sig, sizeof sig, "script %s%.200s embeds %zu attacker-DB address%s (%s)", host, url,
             hits, hits == 1 ? "" : "es", e->label[0] ? e->label : e->source);
    ww_alert a = {0};
    a.rule = "drainer-script";
    a.severity = WW_SEV_CRITICAL;
    a.signature = sig;
    a.chain = addrs[first].chain;
    a.where = "script";
    a.role = -1;
    a.observed = &addrs[first];
    a.db = e;
    raise(d, ctx, &a);
}

static void on_rpc_result(void *ud, const ww_ctx *ctx, const char *method,
                          const ww_jsonrpc_resp *r)
{
    ww_detect *d = ud;
    ww_out_rpc_result(d->out, ctx, method, r);
}

static void on_yara(void *ud, const ww_ctx *ctx, const char *rule, const char *severity,
                    const char *description)
{
    ww_detect *d = ud;
    bool ok = false;
    int sev = severity != NULL ? ww_severity_from_name(severity, &ok) : WW_SEV_NONE;
    char sig[512];
    const char *url = ctx->http != NULL && ctx->http->url != NULL ? ctx->http->url : "?";
    const char *host = ctx->http != NULL && ctx->http->hostname != NULL ? ctx->http->hostname : "";
    snprintf(sig, sizeof sig, "script %s%.200s matched YARA rule %.100s%s%.150s", host, url, rule,
             description != NULL ? ": " : "", description != NULL ? description : "");
    ww_alert a = {0};
    a.rule = "yara-match";
    a.severity = ok && sev != WW_SEV_NONE ? sev : WW_SEV_HIGH;
    a.signature = sig;
    a.chain = WW_CHAIN_NONE;
    a.where = "script";
    a.role = -1;
    raise(d, ctx, &a);
}


void ww_detect_served(ww_detect *d, const ww_ctx *ctx, const ww_addr *addr, int prov)
{
    client *c;
    if (ctx->ts_us > d->now)
        d->now = ctx->ts_us;
    if (ctx->flow == NULL)
        return;
    c = get_client(d, &ctx->flow->cli_ip, ctx, ctx->ts_us);
    if (c == NULL)
        return;
    bool fresh = served_add(d, c, addr, prov, ctx, ctx->ts_us);
    enforce_budget(d, c, ctx);
    if (!fresh || prov == WW_PROV_SCRIPT)
        return; /* already expected: no new intent; a script's addresses are no intent */
    d->st.intents++;
    ww_out_intent(d->out, ctx, addr, "response");
    if (d->cfg.db != NULL) {
        const ww_addrdb_entry *e = ww_addrdb_lookup(d->cfg.db, addr);
        if (e != NULL) {
            char sig[256];
            ww_alert a;
            snprintf(sig, sizeof sig, "a response served %s, a known attacker address (%s)",
                     addr->text, db_name(e));
            resp_alert(&a, "known-attacker", sig, addr, e);
            raise(d, ctx, &a);
        } else {
            check_served_lookalike(d, ctx, addr);
        }
    }
}

void ww_detect_prefetch_run(ww_detect *d, const ww_ctx *ctx, const ww_addr *a, size_t n,
                            size_t i)
{
    if (d == NULL || ctx == NULL || ctx->flow == NULL)
        return;
    uint64_t *h = d->pf_hash; /* a[j]'s hash at [j % PF_AHEAD], from stage 0 to stage 1 */
    /* what to do now: stage 0 (hash, prefetch the slot) for j in [s0, e0), then stage 1 (read
     * the slot, prefetch the entry it names) for j in [s1, e1) */
    size_t s0 = i == 0 ? 0 : i + PF_AHEAD - 1, e0 = WW_MIN(n, i + PF_AHEAD);
    size_t s1 = i == 0 ? 0 : i + PF_AHEAD / 2 - 1, e1 = WW_MIN(n, i + PF_AHEAD / 2);
    for (size_t j = s0; j < e0; j++)
        h[j % PF_AHEAD] = addr_hash(&a[j]);
    /* only the browser fed last (every address of a run goes to one) */
    if (d->last_cl == 0 || !ww_ip_eq(&d->last_ip, &ctx->flow->cli_ip))
        return;
    const client *c = CL(d, d->last_cl);
    if (c->cap == 0)
        return;
    size_t mask = 2 * c->cap - 1;
    /* (written in this function: GCC drops the calls of a helper made only of prefetches) */
    for (size_t j = s0; j < e0; j++)
        __builtin_prefetch(&c->slot[h[j % PF_AHEAD] & mask]);
    for (size_t j = s1; j < e1; j++) {
        uint64_t hj = h[j % PF_AHEAD], fp = hj >> 32;
        size_t k = (size_t)hj & mask;
        for (int t = 0; t < 8; t++, k = (k + 1) & mask) {
            uint64_t v = c->slot[k];
            if (v == 0)
                break;
            if (v >> 32 == fp) {
                const served *e = &c->v[(uint32_t)v - 1];
                __builtin_prefetch(e, 1);
                size_t len = WW_MIN((size_t)a[j].len, sizeof e->addr.text);
                __builtin_prefetch(e->addr.text + len - 1);
                break;
            }
        }
    }
}

static void on_served(void *ud, const ww_ctx *ctx, const ww_addr *addr)
{
    ww_detect_served(ud, ctx, addr, infer_prov(ctx));
}

static void on_served_prov(void *ud, const ww_ctx *ctx, const ww_addr *addr, int prov)
{
    ww_detect_served(ud, ctx, addr, prov);
}

static void on_served_run(void *ud, const ww_ctx *ctx, const ww_addr *a, size_t n)
{
    int prov = n > 0 ? infer_prov(ctx) : 0;
    for (size_t i = 0; i < n; i++) {
        ww_detect_prefetch_run(ud, ctx, a, n, i);
        ww_detect_served(ud, ctx, &a[i], prov);
    }
}

/* An alert about address a named by wallet call wc in role (-1: none); the caller sets the
 * rule-specific fields (expected, similarity) before raise(). */
static void wc_alert(ww_alert *al, const char *rule, int severity, const char *sig,
                     const ww_wallet_call *wc, int role, const ww_addr *a,
                     const ww_addrdb_entry *e)
{
    memset(al, 0, sizeof(*al));
    al->rule = rule;
    al->severity = severity;
    al->signature = sig;
    al->chain = a->chain;
    al->method = wc->method;
    al->where = "wallet_call";
    al->role = role;
    al->observed = a;
    al->db = e;
}

/* Which provenance satisfies which role (README "Provenance"): any served provenance for
 * every role, except that a script alone does not make a payee of value or tokens (a
 * clipper ships its pool in a script too), nor a new authority / delegate. */
static bool prov_satisfies(uint16_t prov, const ww_party *p)
{
    uint16_t strong = (uint16_t)(prov & ~(1u << WW_PROV_SCRIPT));
    if (strong)
        return true;
    if (!(prov & (1u << WW_PROV_SCRIPT)))
        return false;
    if (p->role == WW_ROLE_AUTHORITY || p->role == WW_ROLE_DELEGATE)
        return false;
    if (p->role == WW_ROLE_SPENDER || p->role == WW_ROLE_OPERATOR)
        return true; /* an approval's spender named in the page's own code */
    return !p->payee; /* a call target that merely gets called */
}

static void fmt_provs(char *out, size_t n, uint16_t prov)
{
    size_t k = 0;
    out[0] = '\0';
    for (int i = 0; i < WW_PROV_COUNT && k + 1 < n; i++)
        if (prov & (1u << i)) {
            int w = snprintf(out + k, n - k, "%s%s", k ? "+" : "", ww_prov_name(i));
            if (w < 0)
                break;
            k += (size_t)w;
        }
}

typedef struct reg_near {
    const ww_detect *d;
    const ww_addr *a;
    const ww_addr *addr;
    const ww_registry_entry *e;
    unsigned prefix, suffix;
} reg_near;

static void reg_near_visit(void *ud, const ww_addr *x, const ww_registry_entry *e)
{
    reg_near *b = ud;
    unsigned p, s;
    match_ps(b->a, x, &p, &s);
    /* both ends only: protocol families share long prefixes on purpose (1inch's 0x1111111254
     * routers, leading-zero deployments), a poisoner copies what a wallet shows at each end */
    unsigned pe = effective_prefix(b->a, p);
    bool ends = !is_sentinel(b->a) && pe >= b->d->cfg.lookalike_min_end &&
                s >= b->d->cfg.lookalike_min_end && pe + s >= b->d->cfg.lookalike_min_total;
    if (ends && (b->addr == NULL || p + s > b->prefix + b->suffix)) {
        b->addr = x;
        b->e = e;
        b->prefix = p;
        b->suffix = s;
    }
}

/* A copy of a canonical protocol contract (a fake Permit2 or router): true when raised. */
static bool check_registry_lookalike(ww_detect *d, const ww_ctx *ctx, const ww_wallet_call *wc,
                                     const ww_party *p, const char *role,
                                     const ww_addrdb_entry *e)
{
    const ww_addr *a = &p->addr;
    ww_alert al;
    char sig[512];
    reg_near rn = {d, a, NULL, NULL, 0, 0};
    ww_registry_each(d->cfg.registry, a->chain, reg_near_visit, &rn);
    if (rn.addr != NULL) {
        snprintf(sig, sizeof sig,
                 "%s %s, which looks like %s (registry of protocol contracts) but is not it",
                 wc->method, role, rn.e->name);
        wc_alert(&al, "lookalike-recipient", WW_SEV_CRITICAL, sig, wc, p->role, a, e);
        al.expected = rn.addr;
        al.has_similarity = true;
        al.prefix = rn.prefix;
        al.suffix = rn.suffix;
        al.bits = bits1(d, a, rn.prefix + rn.suffix);
        raise(d, ctx, &al);
        return true;
    }
    return false;
}

/* Served, but one of a poisoned pair (two lookalikes served to this client): true when raised. */
static bool check_poisoned_pair(ww_detect *d, const ww_ctx *ctx, const client *c,
                                const ww_wallet_call *wc, const ww_party *p, const char *role,
                                const ww_addrdb_entry *e)
{
    const ww_addr *a = &p->addr;
    ww_alert al;
    char sig[1024];
    const ww_addr *other;
    int po, ps;
    const char *hs, *ho;
    const spair *pr = pair_of(d, c, a, &other, &po, &hs, &ho, &ps);
    if (pr != NULL) {
        char p1[96], p2[96];
        fmt_provs(p1, sizeof p1, (uint16_t)ps);
        fmt_provs(p2, sizeof p2, (uint16_t)po);
        snprintf(sig, sizeof sig,
                 "%s %s, one of two lookalike addresses served to this client (%u+%u "
                 "characters alike): %s from %s (%s) and %s from %s (%s)",
                 wc->method, role, pr->prefix, pr->suffix, a->text, hs, p1, other->text,
                 ho, p2);
        wc_alert(&al, "lookalike-recipient", WW_SEV_CRITICAL, sig, wc, p->role, a, e);
        al.expected = other;
        al.has_similarity = true;
        al.prefix = pr->prefix;
        al.suffix = pr->suffix;
        al.bits = bits1(d, a, pr->prefix + pr->suffix);
        raise(d, ctx, &al);
        return true;
    }
    return false;
}

/* A payee found unserved by a browser whose traffic before the capture began is unseen: the
 * alert is medium, and the call unchecked: a `detect` `history-unseen` anomaly, which the run's
 * verdict counts (blind.history_unseen: not clean, inconclusive). */
static void unchecked_history(ww_detect *d, const ww_ctx *ctx, const client *c,
                              const ww_wallet_call *wc, const char *role)
{
    if (c == NULL || !is_incomplete(d, c->unseen_until))
        return;
    char ipbuf[64], detail[512];
    (void)ww_ip_str(&c->ip, ipbuf, sizeof ipbuf);
    snprintf(detail, sizeof detail,
             "%s %s: not served in what the capture saw of browser %s, whose connections "
             "were open before the capture began: what it was served before is unknown, so "
             "this payee is unchecked (start the capture before the page loads)",
             wc->method, role, ipbuf);
    d->st.anomalies++;
    ww_out_anomaly(d->out, ctx, "detect", "history-unseen", detail);
}

/* A party not served to this client: a lookalike of one that was, else unrequested or
 * unverified (b: the closest served address). */
static void check_unserved(ww_detect *d, const ww_ctx *ctx, const client *c,
                           const ww_wallet_call *wc, const ww_party *p, const char *role,
                           const ww_addrdb_entry *e, const best *b, bool script_only,
                           bool approval_rules, const char *incomplete)
{
    const ww_addr *a = &p->addr;
    ww_alert al;
    char sig[512];
    near nb;
    nearest(d, c, a, ctx->ts_us, &nb);
    /* --expect addresses are few: compared one by one */
    const ww_addr *look = nb.s != NULL ? &nb.s->addr : NULL;
    unsigned pre = nb.prefix, suf = nb.suffix;
    for (size_t i = 0; i < d->cfg.n_expect; i++) {
        unsigned x, y;
        match_ps(a, &d->cfg.expect[i], &x, &y);
        if (x + y > pre + suf || look == NULL) {
            look = &d->cfg.expect[i];
            pre = x;
            suf = y;
        }
    }
    if (look != NULL && is_lookalike(d, a, pre, suf)) {
        snprintf(sig, sizeof sig,
                 "%s %s, which looks like %s served to this client but is not it",
                 wc->method, role, look->text);
        wc_alert(&al, "lookalike-recipient", WW_SEV_CRITICAL, sig, wc, p->role, a, e);
        al.expected = look;
        al.has_similarity = true;
        al.prefix = pre;
        al.suffix = suf;
        al.bits = bits1(d, a, pre + suf);
        raise(d, ctx, &al);
    } else if (approval_rules && p->payee &&
               (b->addr != NULL || chain_served(d, c, a->chain, ctx->ts_us))) {
        int sev = incomplete ? WW_SEV_MEDIUM : WW_SEV_HIGH;
        snprintf(sig, sizeof sig, "%s %s, which was not served to this client%s%s%s%s",
                 wc->method, role, script_only ? " (named only in a script)" : "",
                 incomplete ? " (this client's served set is incomplete: " : "",
                 incomplete ? incomplete : "", incomplete ? ")" : "");
        wc_alert(&al, "unrequested-recipient", sev, sig, wc, p->role, a, e);
        al.expected = b->addr;
        raise(d, ctx, &al);
        unchecked_history(d, ctx, c, wc, role);
    } else if (approval_rules && p->payee && e == NULL) {
        /* nothing of its chain was served: nothing to compare with */
        int sev = d->cfg.n_expect > 0 && !incomplete ? WW_SEV_HIGH : WW_SEV_MEDIUM;
        snprintf(sig, sizeof sig,
                 "%s %s, which cannot be checked: nothing of its chain was served to this "
                 "client (cached, unreadable or unseen API)%s",
                 wc->method, role, script_only ? "; named only in a script" : "");
        wc_alert(&al, "unverified-recipient", sev, sig, wc, p->role, a, e);
        raise(d, ctx, &al);
        unchecked_history(d, ctx, c, wc, role);
    }
}

static void check_party(ww_detect *d, const ww_ctx *ctx, const client *c,
                        const ww_wallet_call *wc, const ww_party *p, const char *incomplete)
{
    const ww_addr *a = &p->addr;
    char role[WW_ADDR_TEXT_MAX + 48];
    party_phrase(role, sizeof role, p);
    const ww_addrdb_entry *e = d->cfg.db ? ww_addrdb_lookup(d->cfg.db, a) : NULL;
    const ww_registry_entry *reg = ww_registry_lookup(d->cfg.registry, a);
    const served *sv = served_find(c, a);
    bool in_win = in_window(d, sv, ctx->ts_us);
    bool served_ok = (in_win && prov_satisfies(sv->prov, p)) || expected_by_cfg(d, a) ||
                     (reg != NULL && e == NULL);
    bool script_only = in_win && !served_ok;
    /* a revocation (approve(s, 0), setApprovalForAll(op, false)...) moves no funds and grants
     * nothing: the approval rules skip it; known-attacker and lookalikes still apply (the page
     * still has the user talk to that address) */
    bool approval_rules = !(p->revocation && (p->role == WW_ROLE_SPENDER ||
                                              p->role == WW_ROLE_OPERATOR));
    ww_alert al;
    best b;
    char sig[512];

    closest(d, c, a, ctx->ts_us, &b);
    if (e != NULL) {
        snprintf(sig, sizeof sig, "%s %s, a known attacker address (%s)", wc->method, role,
                 db_name(e));
        wc_alert(&al, "known-attacker", WW_SEV_CRITICAL, sig, wc, p->role, a, e);
        al.expected = served_ok ? NULL : b.addr;
        raise(d, ctx, &al);
    }
    /* a copy of a canonical protocol contract (a fake Permit2 or router), served or not */
    if (reg == NULL && e == NULL && d->cfg.registry != NULL && !expected_by_cfg(d, a) &&
        check_registry_lookalike(d, ctx, wc, p, role, e))
        return;
    /* served, but one of a poisoned pair: two lookalikes served to this browser */
    if (in_win && c != NULL && c->n_pairs > 0 && check_poisoned_pair(d, ctx, c, wc, p, role, e))
        return;
    if (!served_ok)
        check_unserved(d, ctx, c, wc, p, role, e, &b, script_only, approval_rules, incomplete);
    if (approval_rules && p->unlimited && !served_ok) {
        snprintf(sig, sizeof sig,
                 "%s grants an unlimited allowance to %s %s, which was not served to this "
                 "client%s",
                 wc->method, ww_role_name(p->role), ww_addr_written(a),
                 incomplete ? " (served set incomplete)" : "");
        wc_alert(&al, "unlimited-approval", incomplete ? WW_SEV_MEDIUM : WW_SEV_HIGH, sig, wc,
                 p->role, a, e);
        al.expected = b.addr;
        raise(d, ctx, &al);
        unchecked_history(d, ctx, c, wc, role);
    }
    if (a->flags & WW_ADDR_F_BAD_CHECKSUM) {
        snprintf(sig, sizeof sig, "%s %s, which is mixed-case but fails its EIP-55 checksum",
                 wc->method, role);
        wc_alert(&al, "bad-checksum", WW_SEV_MEDIUM, sig, wc, p->role, a, e);
        raise(d, ctx, &al);
    }
}

/*
 * authority-change (SPEC): a Solana SetAuthority/Assign (party role AUTHORITY) or an EIP-7702
 * delegation (role DELEGATE: the code the account will run) to an address that was not
 * served (nor --expect, nor the registry). Severity high (medium when the served set is
 * incomplete). (The 7702 authority party is the signer, not a new authority.)
 */
static void check_authority_change(ww_detect *d, const ww_ctx *ctx, const client *c,
                                   const ww_wallet_call *wc, const char *incomplete)
{
    for (size_t i = 0; i < wc->n_parties; i++) {
        const ww_party *p = &wc->parties[i];
        bool is_change = (p->role == WW_ROLE_AUTHORITY && wc->chain == WW_CHAIN_SOLANA) ||
                         (p->role == WW_ROLE_DELEGATE && wc->chain == WW_CHAIN_EVM);
        if (!is_change)
            continue;
        const served *sv = served_find(c, &p->addr);
        if ((in_window(d, sv, ctx->ts_us) && prov_satisfies(sv->prov, p)) ||
            expected_by_cfg(d, &p->addr) || ww_registry_lookup(d->cfg.registry, &p->addr))
            continue;
        ww_alert al;
        best b;
        char sig[512];
        closest(d, c, &p->addr, ctx->ts_us, &b);
        snprintf(sig, sizeof sig, "%s hands control to %s %s, which was not served to this client",
                 wc->method, ww_role_name(p->role), ww_addr_written(&p->addr));
        wc_alert(&al, "authority-change", incomplete ? WW_SEV_MEDIUM : WW_SEV_HIGH, sig, wc,
                 p->role, &p->addr, d->cfg.db ? ww_addrdb_lookup(d->cfg.db, &p->addr) : NULL);
        al.expected = b.addr;
        raise(d, ctx, &al);
        char role[WW_ADDR_TEXT_MAX + 48];
        party_phrase(role, sizeof role, p);
        unchecked_history(d, ctx, c, wc, role);
    }
}

/* Solana token parties (decode marks them sol_token_account): when the token account is the
 * associated token account of a wallet served to this client (for the party's mint and token
 * program), the payee is that wallet. Pure derivation (ww_solana_ata_is), no byte parsing.
 * Returns true when wc was copied into *out with such parties replaced by their owner. */
/* TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA, TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb */
static const uint8_t TOKEN_PROGRAMS[2][32] = {
    {0x06, 0xdd, 0xf6, 0xe1, 0xd7, 0x65, 0xa1, 0x93, 0xd9, 0xcb, 0xe1, 0x46, 0xce, 0xeb, 0x79, 0xac,
     0x1c, 0xb4, 0x85, 0xed, 0x5f, 0x5b, 0x37, 0x91, 0x3a, 0x8c, 0xf5, 0x85, 0x7e, 0xff, 0x00, 0xa9},
    {0x06, 0xdd, 0xf6, 0xe1, 0xee, 0x75, 0x8f, 0xde, 0x18, 0x42, 0x5d, 0xbc, 0xe4, 0x6c, 0xcd, 0xda,
     0xb6, 0x1a, 0xfc, 0x4d, 0x83, 0xb9, 0x0d, 0x27, 0xfe, 0xbd, 0xf9, 0x28, 0xd8, 0xa1, 0x8b, 0xfc}};

/* Remembers the mints a Solana wallet call names (transferChecked, an ATA create), so that a
 * later unchecked Transfer of this browser can be matched against them. */
static void learn_mints(ww_detect *d, client *c, const ww_wallet_call *wc)
{
    if (c == NULL || wc->chain != WW_CHAIN_SOLANA)
        return;
    for (size_t i = 0; i < wc->n_parties; i++) {
        const ww_party *p = &wc->parties[i];
        bool known = false;
        if (!p->sol_has_mint)
            continue;
        for (size_t k = 0; k < c->n_mints && !known; k++)
            known = memcmp(c->mints[k], p->sol_mint, 32) == 0;
        if (known)
            continue;
        if (c->mints == NULL) {
            c->mints = ww_calloc(d->mem, SOL_MINTS_MAX, sizeof(*c->mints));
            if (c->mints == NULL)
                return;
            acct(d, (ssize_t)(SOL_MINTS_MAX * sizeof(*c->mints)));
        }
        memcpy(c->mints[c->next_mint], p->sol_mint, 32);
        c->next_mint = (uint8_t)((c->next_mint + 1) % SOL_MINTS_MAX);
        if (c->n_mints < SOL_MINTS_MAX)
            c->n_mints++;
    }
}

/* An unchecked SPL Transfer names no mint: its destination is tried as ATA(owner, mint) under
 * both token programs for every mint this session saw (remembered from this browser's calls,
 * and every served Solana address, since a page serves the mint beside the payee), owners
 * being the served Solana addresses. Bounded: ATA_OWNERS_MAX x ATA_MINTS_MAX x 2. */
static const served *ata_owner_any_mint(const ww_detect *d, const ww_ctx *ctx, const client *c,
                                        const ww_addr *account)
{
    const served *owners[ATA_OWNERS_MAX];
    uint8_t mints[ATA_MINTS_MAX][32];
    size_t no = 0, nm = 0;
    for (size_t k = 0; k < c->n_mints && nm < ATA_MINTS_MAX; k++)
        memcpy(mints[nm++], c->mints[k], 32);
    for (size_t j = c->n; j-- > 0 && (no < ATA_OWNERS_MAX || nm < ATA_MINTS_MAX);) {
        const served *s = &c->v[j];
        if (s->addr.chain != WW_CHAIN_SOLANA || !in_window(d, s, ctx->ts_us))
            continue;
        if (no < ATA_OWNERS_MAX)
            owners[no++] = s;
        if (nm < ATA_MINTS_MAX && ww_b58_decode(mints[nm], 32, s->addr.text, s->addr.len) == 32)
            nm++;
    }
    for (size_t o = 0; o < no; o++)
        for (size_t m = 0; m < nm; m++)
            for (int t = 0; t < 2; t++)
                if (ww_solana_ata_is(account, &owners[o]->addr, mints[m], TOKEN_PROGRAMS[t]))
                    return owners[o];
    return NULL;
}

static bool resolve_token_owners(const ww_detect *d, const ww_ctx *ctx, const client *c,
                                 const ww_wallet_call *wc, ww_wallet_call *out)
{
    bool changed = false;
    if (c == NULL || wc->chain != WW_CHAIN_SOLANA)
        return false;
    for (size_t i = 0; i < wc->n_parties; i++) {
        const ww_party *p = &wc->parties[i];
        size_t tried = 0;
        if (p->sol_token_account && !p->sol_has_mint && served_find(c, &p->addr) == NULL) {
            const served *s = ata_owner_any_mint(d, ctx, c, &p->addr);
            if (s != NULL) {
                if (!changed)
                    *out = *wc;
                changed = true;
                out->parties[i].sol_has_account = true; /* the token account, beside its owner */
                out->parties[i].sol_account = p->addr;
                out->parties[i].addr = s->addr;
                out->parties[i].sol_token_account = false;
            }
            continue;
        }
        if (!p->sol_token_account || !p->sol_has_mint)
            continue;
        for (size_t j = 0; j < c->n && tried < 256; j++) {
            const served *s = &c->v[j];
            if (s->addr.chain != WW_CHAIN_SOLANA || !in_window(d, s, ctx->ts_us))
                continue;
            tried++;
            if (ww_solana_ata_is(&p->addr, &s->addr, p->sol_mint, p->sol_token_program)) {
                if (!changed)
                    *out = *wc;
                changed = true;
                out->parties[i].addr = s->addr;
                out->parties[i].sol_token_account = false;
                break;
            }
        }
    }
    return changed;
}

static void on_wallet_call(void *ud, const ww_ctx *ctx, const ww_wallet_call *wc)
{
    ww_detect *d = ud;
    const client *c = NULL;
    const char *incomplete = NULL;

    d->st.wallet_calls++;
    if (ctx->ts_us > d->now)
        d->now = ctx->ts_us;
    ww_out_wallet_call(d->out, ctx, wc);
    if (ctx->flow != NULL) {
        client *mc = find_client(d, &ctx->flow->cli_ip);
        learn_mints(d, mc, wc);
        c = mc;
        incomplete = incomplete_why(d, c, &ctx->flow->cli_ip);
    }
    static ww_wallet_call resolved; /* detection runs on one thread */
    const ww_wallet_call *wcp = resolve_token_owners(d, ctx, c, wc, &resolved) ? &resolved : wc;
    d->in_call = true;
    d->call_client = c;
    d->n_raised = 0;
    for (size_t i = 0; i < wcp->n_parties; i++)
        check_party(d, ctx, c, wcp, &wcp->parties[i], incomplete);
    check_authority_change(d, ctx, c, wc, incomplete);
    d->in_call = false;
    d->call_client = NULL;
    if (wc->has_from && (wc->from.flags & WW_ADDR_F_BAD_CHECKSUM)) {
        ww_alert al;
        char sig[256];
        snprintf(sig, sizeof sig,
                 "%s is sent from %s, which is mixed-case but fails its EIP-55 checksum",
                 wc->method, ww_addr_written(&wc->from));
        wc_alert(&al, "bad-checksum", WW_SEV_MEDIUM, sig, wc, -1, &wc->from, NULL);
        raise(d, ctx, &al);
    }
}

/* unchecked-wallet-call: a JSON-RPC request body (HTTP or WebSocket) went on past the body
 * cap where a wallet call may sit (whitespace padding, a huge member before the params, the
 * rest of a batch): the node would execute it, walletwatch cannot check it. High. */
static void on_unchecked_call(void *ud, const ww_ctx *ctx, const char *detail)
{
    ww_detect *d = ud;
    ww_alert al;
    char sig[512];
    if (ctx->ts_us > d->now)
        d->now = ctx->ts_us;
    snprintf(sig, sizeof sig, "a wallet-call-shaped request was too big to check: %s",
             detail != NULL ? detail : "body over the cap");
    memset(&al, 0, sizeof al);
    al.rule = "unchecked-wallet-call";
    al.severity = WW_SEV_HIGH;
    al.signature = sig;
    al.where = "wallet_call";
    al.role = -1;
    raise(d, ctx, &al);
}

static void on_anomaly(void *ud, const ww_ctx *ctx, const char *layer, const char *type,
                       const char *detail)
{
    ww_detect *d = ud;
    d->st.anomalies++;
    ww_out_anomaly(d->out, ctx, layer, type, detail);
    /* bytes lost on their way to a browser in a flow that carried HTTP or TLS (the gaps the
     * verdict counts): a response it was served may be among them */
    if (ctx != NULL && ctx->flow != NULL && ctx->dir == WW_DIR_TOCLIENT &&
        (ctx->app_proto != NULL || ctx->tls != NULL) && layer != NULL && type != NULL &&
        strcmp(layer, "tcp") == 0 && strcmp(type, "gap") == 0)
        served_lost(d, ctx, &ctx->flow->cli_ip, ctx->ts_us);
}

static void on_http(void *ud, const ww_ctx *ctx, const ww_http_msg *msg)
{
    ww_detect *d = ud;
    ww_out_http(d->out, ctx, msg);
}

/* --yara over a whole served script: each matching rule is a yara-match alert */
typedef struct yara_hit {
    ww_detect *d;
    const ww_ctx *ctx;
} yara_hit;

static void yara_matched(void *ud, const char *rule, const char *severity, const char *description)
{
    const yara_hit *h = ud;
    on_yara(h->d, h->ctx, rule, severity, description);
}

static void on_script_body(void *ud, const ww_ctx *ctx, const uint8_t *p, size_t n)
{
    ww_detect *d = ud;
    yara_hit h = {d, ctx};
    int rc = ww_yara_scan(d->cfg.yara, p, n, yara_matched, &h);
    if (rc < 0)
        on_anomaly(d, ctx, "yara", "scan-failed",
                   rc == WW_E_TOOBIG ? "YARA scan ran out of time or memory" : "YARA scan failed");
}

void ww_detect_sink(ww_detect *d, ww_decode_sink *sink)
{
    sink->ud = d;
    sink->served = on_served;
    sink->served_prov = on_served_prov;
    sink->served_run = on_served_run;
    sink->wallet_call = on_wallet_call;
    sink->anomaly = on_anomaly;
    sink->http = on_http;
    sink->script = on_script;
    sink->script_body = d->cfg.yara != NULL ? on_script_body : NULL;
    sink->rpc_result = on_rpc_result;
    sink->unchecked_call = on_unchecked_call;
}

void ww_detect_start(ww_detect *d)
{
    for (size_t i = 0; i < d->cfg.n_expect; i++) {
        d->st.intents++;
        ww_out_intent(d->out, NULL, &d->cfg.expect[i], "expect");
    }
}
