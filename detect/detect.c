/*
 * detect.c - what each browser was served, and the rules.
 *
 * Served store: per client IP, the addresses found in response bodies sent to it, with the
 * packet time they were last served. An address stays expected for the window (--window).
 * Memory is bounded: max_clients clients (the least recently active is dropped) and
 * max_served addresses per client (the oldest is overwritten).
 *
 * Rules for each address a wallet call names (its parties):
 *   known-attacker         it is in the attacker DB (any role)
 *   lookalike-recipient    not served, but shares leading+trailing characters with a served
 *                          address of its chain far beyond chance (>= lookalike_min_bits)
 *   unrequested-recipient  otherwise, a payee (recipient, spender, value receiver) not served
 *                          while something of that chain was served (or --expect was given)
 *   unlimited-approval     a maximum approval to a spender/operator that was not served
 *   bad-checksum           mixed-case EVM address that fails EIP-55
 * for an address served in a response: known-attacker (where: response), or
 * lookalike-recipient (where: response) when it resembles a DB entry far beyond chance;
 * for a script served to the browser: drainer-script when it embeds DB addresses.
 */
#include "detect/detect.h"
#include "detect/yara_int.h"

#include <math.h>
#include <strings.h>

typedef struct served {
    ww_addr addr;
    uint64_t ts_us; /* last served */
} served;

typedef struct client {
    bool used;
    ww_ip ip;
    uint64_t last_ts;
    served *v; /* ring of at most max_served */
    size_t n, next;
    uint32_t *slots; /* index + 1 into v; open addressing, 2x max_served */
    size_t nslots;
} client;

struct ww_detect {
    const ww_mem *mem;
    ww_detect_cfg cfg;
    ww_out *out;
    client *clients;
    ww_detect_stats st;
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
    if (d->cfg.max_clients == 0)
        d->cfg.max_clients = 4096;
    if (d->cfg.max_served == 0)
        d->cfg.max_served = 65536;
    d->out = out;
    d->clients = ww_calloc(mem, d->cfg.max_clients, sizeof(client));
    if (d->clients == NULL) {
        ww_free(mem, d);
        return NULL;
    }
    return d;
}

static void client_clear(ww_detect *d, client *c)
{
    ww_free(d->mem, c->v);
    ww_free(d->mem, c->slots);
    memset(c, 0, sizeof(*c));
}

void ww_detect_free(ww_detect *d)
{
    if (d == NULL)
        return;
    for (size_t i = 0; i < d->cfg.max_clients; i++)
        if (d->clients[i].used)
            client_clear(d, &d->clients[i]);
    ww_free(d->mem, d->clients);
    ww_free(d->mem, d);
}

const ww_detect_stats *ww_detect_stats_get(const ww_detect *d)
{
    return &d->st;
}

static uint64_t hash_bytes(const void *p, size_t n, uint64_t h)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static uint64_t addr_hash(const ww_addr *a)
{
    return hash_bytes(a->text, a->len, 1469598103934665603ULL ^ a->chain);
}

/* Finds the client for ip; creates it when create (evicting the least recently active). */
static client *get_client(ww_detect *d, const ww_ip *ip, bool create, uint64_t now)
{
    size_t n = d->cfg.max_clients;
    /* only the address's own bytes: the rest of an IPv4 ww_ip is not defined */
    size_t h = (size_t)hash_bytes(ip->a, ip->family == 4 ? 4 : 16,
                                  1469598103934665603ULL ^ ip->family) % n;
    client *victim = NULL;
    /* linear probe over a bounded neighbourhood: clients are few */
    for (size_t k = 0; k < n; k++) {
        client *c = &d->clients[(h + k) % n];
        if (c->used && ww_ip_eq(&c->ip, ip))
            return c;
        if (!c->used) {
            if (!create)
                return NULL;
            victim = c;
            break;
        }
        if (victim == NULL || c->last_ts < victim->last_ts)
            victim = c;
        if (k >= 64 && victim != NULL)
            break;
    }
    if (!create || victim == NULL)
        return NULL;
    if (victim->used)
        client_clear(d, victim);
    victim->used = true;
    victim->ip = *ip;
    victim->last_ts = now;
    return victim;
}

static served *served_find(const client *c, const ww_addr *a)
{
    if (c == NULL || c->nslots == 0)
        return NULL;
    size_t mask = c->nslots - 1, i = (size_t)addr_hash(a) & mask;
    for (size_t k = 0; k < c->nslots; k++) {
        uint32_t s = c->slots[(i + k) & mask];
        if (s == 0)
            return NULL;
        if (ww_addr_eq(&c->v[s - 1].addr, a))
            return &c->v[s - 1];
    }
    return NULL;
}

/* Removes v[idx] from the index (linear probing: backward-shift deletion, no tombstones). */
static void slot_remove(client *c, size_t idx)
{
    size_t mask = c->nslots - 1;
    size_t i = (size_t)addr_hash(&c->v[idx].addr) & mask;
    while (c->slots[i] != idx + 1) {
        if (c->slots[i] == 0)
            return; /* not indexed */
        i = (i + 1) & mask;
    }
    c->slots[i] = 0;
    for (size_t j = (i + 1) & mask; c->slots[j] != 0; j = (j + 1) & mask) {
        size_t home = (size_t)addr_hash(&c->v[c->slots[j] - 1].addr) & mask;
        /* move slots[j] into the hole at i when its home is not in (i, j] (cyclically) */
        if (((j - home) & mask) >= ((j - i) & mask)) {
            c->slots[i] = c->slots[j];
            c->slots[j] = 0;
            i = j;
        }
    }
}

static void slot_insert(client *c, size_t idx)
{
    size_t mask = c->nslots - 1, i = (size_t)addr_hash(&c->v[idx].addr) & mask;
    while (c->slots[i] != 0)
        i = (i + 1) & mask;
    c->slots[i] = (uint32_t)(idx + 1);
}

/* Records a; returns true when it is new (or had expired) for this client. */
static bool served_add(ww_detect *d, client *c, const ww_addr *a, uint64_t now)
{
    served *s = served_find(c, a);
    if (s != NULL) {
        bool fresh = now - s->ts_us > d->cfg.window_us && now > s->ts_us;
        s->ts_us = now;
        return fresh;
    }
    if (c->v == NULL) {
        size_t ns = 1;
        while (ns < 2 * d->cfg.max_served)
            ns <<= 1;
        c->v = ww_calloc(d->mem, d->cfg.max_served, sizeof(served));
        c->slots = ww_calloc(d->mem, ns, sizeof(uint32_t));
        if (c->v == NULL || c->slots == NULL) {
            ww_free(d->mem, c->v);
            ww_free(d->mem, c->slots);
            c->v = NULL;
            c->slots = NULL;
            return false;
        }
        c->nslots = ns;
    }
    size_t idx;
    if (c->n < d->cfg.max_served) {
        idx = c->n++;
    } else {
        /* full: the oldest entry (in ring order) makes room */
        idx = c->next;
        c->next = (c->next + 1) % d->cfg.max_served;
        slot_remove(c, idx);
    }
    c->v[idx].addr = *a;
    c->v[idx].addr.flags = 0;
    c->v[idx].ts_us = now;
    slot_insert(c, idx);
    return true;
}

static bool in_window(const ww_detect *d, const served *s, uint64_t now)
{
    return s != NULL && (now <= s->ts_us || now - s->ts_us <= d->cfg.window_us);
}

static bool expected_by_cfg(const ww_detect *d, const ww_addr *a)
{
    for (size_t i = 0; i < d->cfg.n_expect; i++)
        if (ww_addr_eq(&d->cfg.expect[i], a))
            return true;
    return false;
}

static inline char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
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
    *bits = ww_similarity_bits((unsigned)(p + s), ww_addr_char_bits(a), n_compared);
}

typedef struct best {
    const ww_addr *addr;
    unsigned prefix, suffix;
    size_t n;
    uint64_t ts;
} best;

/* The served (or --expect) address of a's chain most like a; n = how many were compared. */
static void closest(const ww_detect *d, const client *c, const ww_addr *a, uint64_t now, best *b)
{
    memset(b, 0, sizeof(*b));
    if (c != NULL) {
        for (size_t i = 0; i < c->n; i++) {
            const served *s = &c->v[i];
            if (s->addr.chain != a->chain || !in_window(d, s, now))
                continue;
            unsigned p, sf;
            double bits;
            b->n++;
            ww_similarity(a, &s->addr, 1, &p, &sf, &bits);
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
        double bits;
        b->n++;
        ww_similarity(a, e, 1, &p, &sf, &bits);
        if (b->addr == NULL || p + sf > b->prefix + b->suffix) {
            b->addr = e;
            b->prefix = p;
            b->suffix = sf;
            b->ts = UINT64_MAX;
        }
    }
}

static void raise(ww_detect *d, const ww_ctx *ctx, ww_alert *a)
{
    d->st.alerts++;
    if (a->severity > d->st.worst)
        d->st.worst = a->severity;
    ww_out_alert(d->out, ctx, a);
    if (d->cfg.alert_raised != NULL)
        d->cfg.alert_raised(d->cfg.alert_ud, ctx, a);
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
    char sig[256];

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
             "a response served an address that looks like a known attacker address (%s)",
             b.e->label[0] ? b.e->label : b.e->source);
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

static void on_served(void *ud, const ww_ctx *ctx, const ww_addr *addr)
{
    ww_detect *d = ud;
    client *c;
    if (ctx->flow == NULL)
        return;
    c = get_client(d, &ctx->flow->cli_ip, true, ctx->ts_us);
    if (c == NULL)
        return;
    c->last_ts = ctx->ts_us;
    if (!served_add(d, c, addr, ctx->ts_us))
        return; /* already expected: no new intent */
    d->st.intents++;
    ww_out_intent(d->out, ctx, addr, "response");
    if (d->cfg.db != NULL) {
        const ww_addrdb_entry *e = ww_addrdb_lookup(d->cfg.db, addr);
        if (e != NULL) {
            char sig[256];
            ww_alert a;
            snprintf(sig, sizeof sig, "a response served a known attacker address (%s)",
                     e->label);
            resp_alert(&a, "known-attacker", sig, addr, e);
            raise(d, ctx, &a);
        } else {
            check_served_lookalike(d, ctx, addr);
        }
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

static void check_party(ww_detect *d, const ww_ctx *ctx, const client *c,
                        const ww_wallet_call *wc, const ww_party *p)
{
    const ww_addr *a = &p->addr;
    const char *role = ww_role_name(p->role);
    const ww_addrdb_entry *e = d->cfg.db ? ww_addrdb_lookup(d->cfg.db, a) : NULL;
    bool served_ok = in_window(d, served_find(c, a), ctx->ts_us) || expected_by_cfg(d, a);
    ww_alert al;
    best b;
    char sig[256];

    closest(d, c, a, ctx->ts_us, &b);
    if (e != NULL) {
        snprintf(sig, sizeof sig, "%s %s is a known attacker address (%s)", wc->method, role,
                 e->label);
        wc_alert(&al, "known-attacker", WW_SEV_CRITICAL, sig, wc, p->role, a, e);
        al.expected = served_ok ? NULL : b.addr;
        raise(d, ctx, &al);
    }
    if (!served_ok && b.addr != NULL) {
        unsigned pre, suf;
        double bits;
        ww_similarity(a, b.addr, b.n, &pre, &suf, &bits);
        if (bits >= d->cfg.lookalike_min_bits) {
            snprintf(sig, sizeof sig,
                     "%s %s looks like an address served to this client but is not it", wc->method,
                     role);
            wc_alert(&al, "lookalike-recipient", WW_SEV_CRITICAL, sig, wc, p->role, a, e);
            al.expected = b.addr;
            al.has_similarity = true;
            al.prefix = pre;
            al.suffix = suf;
            al.bits = bits;
            raise(d, ctx, &al);
        } else if (p->payee) {
            snprintf(sig, sizeof sig, "%s %s was not served to this client", wc->method, role);
            wc_alert(&al, "unrequested-recipient", WW_SEV_HIGH, sig, wc, p->role, a, e);
            al.expected = b.addr;
            raise(d, ctx, &al);
        }
    }
    if (p->unlimited && !served_ok) {
        snprintf(sig, sizeof sig, "%s grants an unlimited allowance to a %s that was not served",
                 wc->method, role);
        wc_alert(&al, "unlimited-approval", WW_SEV_HIGH, sig, wc, p->role, a, e);
        al.expected = b.addr;
        raise(d, ctx, &al);
    }
    if (a->flags & WW_ADDR_F_BAD_CHECKSUM) {
        snprintf(sig, sizeof sig, "%s %s is mixed-case but fails its EIP-55 checksum", wc->method,
                 role);
        wc_alert(&al, "bad-checksum", WW_SEV_MEDIUM, sig, wc, p->role, a, e);
        raise(d, ctx, &al);
    }
}

/*
 * authority-change (SPEC): a Solana SetAuthority/Assign (party role AUTHORITY) or an EIP-7702
 * delegation (role DELEGATE: the code the account will run) to an address that was not
 * served (nor --expect). Severity high. (The 7702 authority party is the signer, not a new
 * authority: it is not weighed here.)
 */
static void check_authority_change(ww_detect *d, const ww_ctx *ctx, const client *c,
                                   const ww_wallet_call *wc)
{
    for (size_t i = 0; i < wc->n_parties; i++) {
        const ww_party *p = &wc->parties[i];
        bool is_change = (p->role == WW_ROLE_AUTHORITY && wc->chain == WW_CHAIN_SOLANA) ||
                         (p->role == WW_ROLE_DELEGATE && wc->chain == WW_CHAIN_EVM);
        if (!is_change)
            continue;
        if (in_window(d, served_find(c, &p->addr), ctx->ts_us) || expected_by_cfg(d, &p->addr))
            continue;
        ww_alert al;
        best b;
        char sig[256];
        closest(d, c, &p->addr, ctx->ts_us, &b);
        snprintf(sig, sizeof sig, "%s hands control to a %s that was not served", wc->method,
                 ww_role_name(p->role));
        wc_alert(&al, "authority-change", WW_SEV_HIGH, sig, wc, p->role, &p->addr,
                 d->cfg.db ? ww_addrdb_lookup(d->cfg.db, &p->addr) : NULL);
        al.expected = b.addr;
        raise(d, ctx, &al);
    }
}

/* Solana token parties (decode marks them sol_token_account): when the token account is the
 * associated token account of a wallet served to this client (for the party's mint and token
 * program), the payee is that wallet. Pure derivation (ww_solana_ata_is), no byte parsing.
 * Returns true when wc was copied into *out with such parties replaced by their owner. */
static bool resolve_token_owners(const ww_detect *d, const ww_ctx *ctx, const client *c,
                                 const ww_wallet_call *wc, ww_wallet_call *out)
{
    bool changed = false;
    if (c == NULL || wc->chain != WW_CHAIN_SOLANA)
        return false;
    for (size_t i = 0; i < wc->n_parties; i++) {
        const ww_party *p = &wc->parties[i];
        size_t tried = 0;
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

    d->st.wallet_calls++;
    ww_out_wallet_call(d->out, ctx, wc);
    if (ctx->flow != NULL)
        c = get_client(d, &ctx->flow->cli_ip, false, ctx->ts_us);
    static ww_wallet_call resolved; /* detection runs on one thread */
    const ww_wallet_call *wcp = resolve_token_owners(d, ctx, c, wc, &resolved) ? &resolved : wc;
    for (size_t i = 0; i < wcp->n_parties; i++)
        check_party(d, ctx, c, wcp, &wcp->parties[i]);
    check_authority_change(d, ctx, c, wc);
    if (wc->has_from && (wc->from.flags & WW_ADDR_F_BAD_CHECKSUM)) {
        ww_alert al;
        char sig[256];
        snprintf(sig, sizeof sig, "%s from is mixed-case but fails its EIP-55 checksum",
                 wc->method);
        wc_alert(&al, "bad-checksum", WW_SEV_MEDIUM, sig, wc, -1, &wc->from, NULL);
        raise(d, ctx, &al);
    }
}

static void on_anomaly(void *ud, const ww_ctx *ctx, const char *layer, const char *type,
                       const char *detail)
{
    ww_detect *d = ud;
    d->st.anomalies++;
    ww_out_anomaly(d->out, ctx, layer, type, detail);
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
    sink->wallet_call = on_wallet_call;
    sink->anomaly = on_anomaly;
    sink->http = on_http;
    sink->script = on_script;
    sink->script_body = d->cfg.yara != NULL ? on_script_body : NULL;
    sink->rpc_result = on_rpc_result;
}

void ww_detect_start(ww_detect *d)
{
    for (size_t i = 0; i < d->cfg.n_expect; i++) {
        d->st.intents++;
        ww_out_intent(d->out, NULL, &d->cfg.expect[i], "expect");
    }
}
