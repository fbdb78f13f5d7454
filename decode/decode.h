/*
 * decode.h - everything between reassembled TCP bytes and the facts detection works on.
 *
 *   ww_app (per-flow routing: TLS? HTTP/1.1? HTTP/2? WebSocket?)   (decode/app.c)
 *     -> TLS record layer + key log            (decode/tls*.c)
 *     -> HTTP/1.1, HTTP/2, WebSocket framing, content codings
 *                                              (decode/http1.c, h2.c, ws.c, coding.c)
 *     -> the HTTP message layer: body policy, JSON-RPC pairing, served addresses, scripts
 *                                              (decode/httpmsg.c)
 *     -> JSON-RPC wallet calls                 (decode/jsonrpc.c, txdecode.c)
 *        -> EVM transactions, RLP, calldata    (decode/evm*.c, decode/rlp.c, decode/keccak.c)
 *     -> addresses in response bodies          (decode/addr.c)
 *   and out through a ww_decode_sink (detect/ implements it).
 *
 * Decoders never decide alerts: they say what was there (a wallet call and its parties, an
 * address served in a response, an anomaly), and detect/ decides.
 */
#ifndef WW_DECODE_H
#define WW_DECODE_H

#include "capture/capture.h"
#include "util/ww.h"

/* ---- chains and addresses ---- */
enum ww_chain {
    WW_CHAIN_NONE = 0,
    WW_CHAIN_EVM,
    WW_CHAIN_SOLANA,
    WW_CHAIN_BITCOIN,
    WW_CHAIN_LITECOIN,
    WW_CHAIN_BITCOINCASH,
    WW_CHAIN_TRON,
    WW_CHAIN_COUNT
};
/* SPEC names: "evm", "solana", "bitcoin", "litecoin", "bitcoincash", "tron". */
const char *ww_chain_name(int chain);
/* Accepts the SPEC names and the feed abbreviations (eth, btc, sol, trx, ltc, bch).
 * Returns WW_CHAIN_NONE when unknown. */
int ww_chain_from_name(const char *s, size_t n);

#define WW_ADDR_TEXT_MAX 112
#define WW_ADDR_F_MIXEDCASE 0x01    /* EVM address written in mixed case */
#define WW_ADDR_F_BAD_CHECKSUM 0x02 /* ... whose EIP-55 checksum is wrong */

typedef struct ww_addr {
    uint8_t chain;
    uint8_t flags;
    uint8_t len;                  /* strlen(text) */
    char text[WW_ADDR_TEXT_MAX];  /* normalized: EVM lowercase 0x+40 hex; bech32/cashaddr
                                     lowercase; base58 as is. NUL-terminated. */
} ww_addr;

/*
 * Parses one address as written (JSON string, feed line). chain WW_CHAIN_NONE = guess.
 * EVM: "0x" + 40 hex; all-lower and all-upper are fine, mixed case sets
 * WW_ADDR_F_MIXEDCASE and, when its EIP-55 checksum is wrong, WW_ADDR_F_BAD_CHECKSUM
 * (still WW_OK: the address is usable, the checksum is a finding for detect).
 * Returns WW_OK or WW_E_INVALID.
 */
int ww_addr_parse(ww_addr *out, int chain, const char *s, size_t n) WW_WUR;
void ww_addr_from_evm(ww_addr *out, const uint8_t raw[20]);
/* EIP-55 mixed-case form of a normalized EVM address text (out: 43 bytes). */
void ww_addr_evm_checksum(char out[43], const char *lower_hex40_with_0x);
/* the same chain and normalized text (inline: detection asks it for every served address) */
static inline bool ww_addr_eq(const ww_addr *a, const ww_addr *b)
{
    return a->chain == b->chain && a->len == b->len && memcmp(a->text, b->text, a->len) == 0;
}
/* The address as it was written: an EVM address parsed in mixed case keeps its written form
 * after the normalized text's NUL (the one a bad-checksum finding shows); else the text. */
const char *ww_addr_written(const ww_addr *a);

/*
 * How many leading characters of a normalized address carry no choice of its owner: "0x";
 * the bech32 hrp, '1' and witness version ("bc1q"); "bitcoincash:" and the version
 * character; the base58check version character ('1', '3', 'L', 'M', 'T'). Solana: 0.
 * Lookalike scoring compares what follows (ww_similarity).
 */
size_t ww_addr_fixed_len(const ww_addr *a);
/* Information per character of the part after ww_addr_fixed_len: 4 bits (hex), 5 (bech32,
 * cashaddr), log2(58) (base58). */
double ww_addr_char_bits(const ww_addr *a);

/* Calls fn for every address found in a response body (one pass, no allocation): EVM,
 * bitcoin (base58check, bech32/bech32m), litecoin, bitcoincash (cashaddr), tron and solana,
 * checksums verified (Solana, which has none: see decode/addr.c for the heuristic). An
 * address is a whole run of letters and digits. Returns how many. */
typedef void (*ww_addr_found_fn)(void *ud, const ww_addr *a);
size_t ww_addr_scan(const uint8_t *p, size_t n, ww_addr_found_fn fn, void *ud);

/* ---- added: streaming scan (decode/addr.c) ---- */
/* The longest run of letters and digits the scanner looks at (bech32 tops out at 90). */
#define WW_ADDR_RUN_MAX 90
/*
 * The start of the trailing run of letters and digits of p[0..n) (n when p ends in another
 * byte): scanning p[0..t) now reports exactly the addresses a whole-body scan finds there,
 * whatever follows p, since every run before t is complete and its right neighbour is in p.
 */
size_t ww_addr_scan_cut(const uint8_t *p, size_t n);
/*
 * Streamed scan of a body in pieces, no state between calls: p[0..n) are the body bytes not
 * consumed yet (what the previous call left, then new ones); last: p ends the body. Scans
 * what is decided, addresses to fn (and added to *found when not NULL), exactly as one
 * ww_addr_scan over the whole body, in the same order.
 * Returns: how many leading bytes of p the caller drops; it presents p[ret..n) again with
 * what follows. At most WW_ADDR_RUN_MAX + 1 bytes are left (n when last).
 */
size_t ww_addr_scan_chunk(const uint8_t *p, size_t n, bool last, ww_addr_found_fn fn, void *ud,
                          size_t *found);

/* ---- ABI address words in responses (decode/abiwords.c, issue 13.1) ---- */
/*
 * A 32-byte ABI word is taken for an address when its top 12 bytes are zero and its low 20
 * bytes have at most this many leading zero hex digits (value >= 2^96): contracts mined for
 * up to 7 zero bytes (Permit2, Seaport) pass; amounts below ~7.9e28 (79 billion tokens of 18
 * decimals), counters and detect's sentinels (< 2^16) are not taken for addresses.
 */
#define WW_ABI_WORD_MAX_ZERO_DIGITS 15
#define WW_ABI_WORDS_MAX 1024 /* words looked at per call (per body, or per streamed piece) */
typedef void (*ww_abi_word_fn)(void *ud, const struct ww_addr *a, int prov);
/*
 * Finds JSON members "result" (prov WW_PROV_RPC_WORD: "0x" + 64k hex digits, a JSON-RPC
 * result such as eth_call's) and "data" / "input" / "calldata" (WW_PROV_CALLDATA: "0x" +
 * 8-digit selector + 64k digits, or 64k digits as in log data) whose value is a whole hex
 * string in p[0..n), and calls fn for every address word (at most max_words words looked
 * at). open_at (may be NULL): where the member whose value runs past p starts (its name's
 * opening quote), n when none: a streaming caller keeps p[open_at..n) and presents it again
 * with what follows. Returns the addresses found.
 */
size_t ww_abi_words_scan(const uint8_t *p, size_t n, size_t max_words, ww_abi_word_fn fn,
                         void *ud, size_t *open_at);

/* ---- wallet calls ---- */
enum ww_role {
    WW_ROLE_TO = 0,   /* call target, or the payee of a plain value transfer */
    WW_ROLE_RECIPIENT,
    WW_ROLE_SPENDER,
    WW_ROLE_OPERATOR,
    WW_ROLE_DELEGATE,
    WW_ROLE_AUTHORITY,
    WW_ROLE_COUNT
};
const char *ww_role_name(int role); /* "to", "recipient", ... */

#define WW_DEC_MAX 80 /* a uint256 in decimal (78 digits) + NUL, rounded */

typedef struct ww_party {
    uint8_t role;
    bool payee;     /* receives funds or rights: weighed by unrequested-recipient;
                       false for a protocol contract that is merely called */
    bool unlimited; /* an approval of the maximum amount / all tokens (spender, operator) */
    ww_addr addr;
    /* Solana token parties (issue 4): addr is an SPL token account whose owner the
     * transaction does not name. detect/ tests whether addr == ATA(served W, sol_mint,
     * sol_token_program) with ww_solana_ata_is() (a pure derivation, no byte parsing). */
    /* Grants vs revocations (issue 13.4): an approval that sets the allowance to zero or
     * withdraws it (approve(s, 0), setApprovalForAll(op, false), DAI permit allowed=false,
     * Permit2 approve amount 0). Not an approval risk: detect/ skips it for approval rules. */
    bool revocation;
    /* Per-party token and amount (issue 13.4): several tokens/amounts in one call (Permit2
     * PermitBatch, multicall, ERC-1155 batch, router commands) each on its own party. */
    bool has_token;
    ww_addr token;              /* the token contract (EVM) this party receives / may spend */
    char amount[WW_DEC_MAX];    /* token units, decimal; "" when unknown */
    /* Solana: a recipient whose owner the transaction names (ATA create) is that owner in
     * addr; the destination token account it is paid into is reported beside it here. */
    bool sol_has_account;
    ww_addr sol_account;
    bool sol_token_account;
    bool sol_has_mint;          /* sol_mint known (transferChecked, or an ATA create in the tx) */
    uint8_t sol_mint[32];
    uint8_t sol_token_program[32]; /* SPL Token or Token-2022 program id */
} ww_party;

#define WW_WC_MAX_PARTIES 16

typedef struct ww_wallet_call {
    uint8_t chain;               /* WW_CHAIN_EVM, WW_CHAIN_SOLANA */
    bool has_chain_id;
    uint64_t chain_id;
    char method[48];             /* JSON-RPC method, e.g. "eth_sendRawTransaction" */
    char rpc_id[72];             /* the request id as JSON text: 1, "abc"; "" when absent */
    char kind[32];               /* "native-transfer", "erc20-transfer", "erc20-transferFrom",
                                    "erc20-approve", "contract-call", "contract-creation" */
    bool has_from;
    ww_addr from;                /* sender: given (eth_sendTransaction) or recovered (raw tx) */
    bool has_to;
    ww_addr to;                  /* call target / value recipient as in the transaction */
    bool has_token;
    ww_addr token;               /* the token contract of an ERC-20 operation (== to) */
    char value[WW_DEC_MAX];      /* wei, decimal; "" when absent */
    char amount[WW_DEC_MAX];     /* token units, decimal; "" when absent */
    char tx_hash[96];            /* EVM: 0x + 64 hex for signed transactions; Solana: the
                                    transaction id (base58 of the first signature, <= 88
                                    chars) when signed; "" otherwise */
    int signature_valid;         /* -1 not signed here, 0 invalid, 1 valid */
    char selector[11];           /* "0xa9059cbb" when there is calldata; "" otherwise */
    size_t n_parties;
    ww_party parties[WW_WC_MAX_PARTIES]; /* every address the call names, with its role */
} ww_wallet_call;

/* ---- Solana program-derived addresses (decode/solana.c) ---- */
/*
 * The associated token account of wallet for mint under token_program (SPL Token or
 * Token-2022): find_program_address([wallet, token_program, mint], ATA program), i.e. the
 * first bump from 255 down whose SHA-256(seeds || bump || program || "ProgramDerivedAddress")
 * is not an ed25519 curve point. Returns true (out filled) or false (no bump works).
 */
bool ww_solana_ata(uint8_t out[32], const uint8_t wallet[32], const uint8_t mint[32],
                   const uint8_t token_program[32]);
/* Is account (a Solana ww_addr) the ATA of wallet (a Solana ww_addr) for mint/program?
 * false when either text is not a 32-byte base58 key. For detect/: no parsing of traffic. */
bool ww_solana_ata_is(const ww_addr *account, const ww_addr *wallet, const uint8_t mint[32],
                      const uint8_t token_program[32]);

/* ---- context handed to the sink ---- */
typedef struct ww_tls_info {
    char sni[256];      /* "" when absent */
    char alpn[32];      /* negotiated; "" when absent */
    uint16_t version;   /* 0x0303, 0x0304 ... (0 before ServerHello) */
    uint16_t cipher;    /* IANA suite id */
} ww_tls_info;
/* "TLS 1.3", "TLS 1.2"...; IANA suite name or NULL when unknown. */
const char *ww_tls_version_name(uint16_t v);
const char *ww_tls_cipher_name(uint16_t id);

typedef struct ww_http_info {
    const char *hostname;     /* Host / :authority; NULL when absent */
    const char *url;          /* request target as sent */
    const char *method;
    int status;               /* 0 for a request, or unknown */
    const char *content_type; /* NULL when absent */
} ww_http_info;

typedef struct ww_ctx {
    uint64_t ts_us;           /* time of the packet that completed the message */
    const ww_flow *flow;
    int dir;                  /* WW_DIR_TOSERVER / WW_DIR_TOCLIENT: who sent the message */
    const char *app_proto;    /* "http", "http2", "http3", "websocket"; NULL when not known */
    const ww_http_info *http; /* NULL when no HTTP message is involved */
    const ww_tls_info *tls;   /* NULL when the flow is not TLS */
    const struct ww_quic_info *quic; /* NULL when the flow is not QUIC (decode/quic.h) */
} ww_ctx;

/* One HTTP message, for logging and conformance (--log-http). Slices live for the call. */
typedef struct ww_http_msg {
    bool is_request;
    const char *method, *url, *host, *version; /* NULL when absent */
    int status;
    const char *content_type, *content_encoding, *transfer_encoding; /* NULL when absent */
    /* response headers that may name addresses (served with WW_PROV_HEADER); the first of
     * each; NULL when absent */
    const char *location, *content_location, *link;
    int64_t content_length;   /* -1 when absent */
    int64_t body_len;         /* decoded body length; -1 when there is no body */
    bool body_truncated;      /* over a cap, or a gap: body is a prefix */
    bool body_kept;           /* body.ptr holds the decoded bytes (else only counted) */
    ww_slice body;            /* decoded body when kept */
    uint8_t body_sha256[32];  /* over the decoded body, when hashing is on and body_len > 0 */
    bool has_sha256;
    uint32_t stream_id;       /* HTTP/2 stream id; 0 for HTTP/1.x */
    /* added (streamed bodies): the parser handed the body's earlier bytes to a body_chunk
     * callback; body holds only what that callback left (body_len is still the whole) */
    bool body_streamed;
    /* added (HTTP/2, HTTP/3 scripts whose addresses only are wanted): the body stage scanned
     * the whole script as it streamed; script_addrs[0..script_naddrs) are the addresses it
     * embeds (NULL when none), body is only its last bytes, already scanned */
    bool script_scanned;
    const ww_addr *script_addrs;
    size_t script_naddrs;
} ww_http_msg;

struct ww_jsonrpc_resp; /* below */

/*
 * Where a served address came from (its provenance). detect/ weighs it per role (README
 * "Provenance"): a call target or spender named in the page's scripts or in the registry of
 * canonical protocol contracts is requested; a payee of value found only in a script is not.
 */
enum ww_prov {
    WW_PROV_UNKNOWN = 0, /* served through the plain served callback, nothing more known */
    WW_PROV_BODY_JSON,   /* a JSON response body */
    WW_PROV_BODY_HTML,   /* an HTML (or XML) response body */
    WW_PROV_BODY_TEXT,   /* any other text body */
    WW_PROV_HEADER,      /* a response header (Location, Link...) */
    WW_PROV_RPC_WORD,    /* a 32-byte ABI address word inside a JSON-RPC result (eth_call) */
    WW_PROV_CALLDATA,    /* an address word inside hex calldata a response carried ({to,data}) */
    WW_PROV_WEBSOCKET,   /* a server-to-client WebSocket message */
    WW_PROV_SCRIPT,      /* a script served to the page (its JS bundle) */
    WW_PROV_REGISTRY,    /* the bundled/user registry of canonical protocol contracts */
    WW_PROV_EXPECT,      /* --expect */
    WW_PROV_COUNT
};
/* "body-json", "body-html", "body-text", "header", "rpc-word", "calldata", "websocket",
 * "script", "registry", "expect"; "unknown" for WW_PROV_UNKNOWN and out of range. */
const char *ww_prov_name(int prov);

typedef struct ww_decode_sink {
    void *ud;
    /* an address found in a response body sent to the client (ctx->dir == TOCLIENT) */
    void (*served)(void *ud, const ww_ctx *ctx, const ww_addr *addr);
    /* optional (may be NULL): the same with its provenance (enum ww_prov). A decoder that
     * knows where an address sat calls this one when it is set, else served; detect/ sets
     * both and, for plain served, infers the provenance from ctx (WebSocket, Content-Type). */
    void (*served_prov)(void *ud, const ww_ctx *ctx, const ww_addr *addr, int prov);
    /* optional (may be NULL): n addresses one body brought one after the other with one ctx,
     * exactly what n calls of served in that order would be (the body scanners hand them
     * over in runs so that detection can look ahead: its lookups are cache misses) */
    void (*served_run)(void *ud, const ww_ctx *ctx, const ww_addr *addrs, size_t n);
    void (*wallet_call)(void *ud, const ww_ctx *ctx, const ww_wallet_call *wc);
    void (*anomaly)(void *ud, const ww_ctx *ctx, const char *layer, const char *type,
                    const char *detail);
    /* optional (may be NULL): every HTTP message, after its body */
    void (*http)(void *ud, const ww_ctx *ctx, const ww_http_msg *msg);
    /*
     * optional (may be NULL): a script served to the client (ctx->dir == TOCLIENT, response
     * Content-Type javascript/ecmascript) and the addresses ww_addr_scan found in its decoded
     * body, n of them (n may be 0; addrs lives for the call). detect/ raises drainer-script.
     */
    void (*script)(void *ud, const ww_ctx *ctx, const ww_addr *addrs, size_t n);
    /* optional (may be NULL): a script served to the client, its whole decoded body p[0..n)
     * (after script, same ctx). Setting it makes the decoders gather scripts whole (detect/
     * runs the --yara rules over them and raises yara-match). */
    void (*script_body)(void *ud, const ww_ctx *ctx, const uint8_t *p, size_t n);
    /* optional (may be NULL): the JSON-RPC response to a request that carried wallet calls,
     * matched by id on the same connection (method is the request's). */
    void (*rpc_result)(void *ud, const ww_ctx *ctx, const char *method,
                       const struct ww_jsonrpc_resp *resp);
    /* optional (may be NULL): a JSON-RPC request body (HTTP or a WebSocket message) cut by a
     * cap may carry a wallet call past the cut that could not be checked (the decoder's
     * ww_jsonrpc_req_info.unchecked; the `unchecked-body` anomaly went first). A fact, not a
     * verdict: detect/ decides (unchecked-wallet-call). detail: a short description. */
    void (*unchecked_call)(void *ud, const ww_ctx *ctx, const char *detail);
} ww_decode_sink;

/* ---- key log (TLS) ---- */
typedef struct ww_keylog ww_keylog;
ww_keylog *ww_keylog_new(const ww_mem *mem);
/* Loads an NSS key log file. WW_OK, or WW_E_IO when it cannot be read (errbuf). Malformed
 * lines are counted and skipped. */
int ww_keylog_load_file(ww_keylog *kl, const char *path, char errbuf[WW_ERRBUF_SIZE]) WW_WUR;
/* Adds key log text (a pcapng DSB, a followed file's new lines). */
void ww_keylog_add_text(ww_keylog *kl, const uint8_t *p, size_t n);
size_t ww_keylog_count(const ww_keylog *kl);       /* secrets held */
size_t ww_keylog_bad_lines(const ww_keylog *kl);
/* Appends every secret held, as NSS key log lines, to out (for -w --evidence-secrets).
 * Returns WW_OK, or WW_E_TOOBIG / WW_E_NOMEM from ww_buf_append. out then holds key
 * material: the caller wipes it (ww_wipe) before freeing. */
int ww_keylog_export(const ww_keylog *kl, ww_buf *out) WW_WUR;
/* Appends the unterminated last line kl keeps (text whose end has not come yet): a key log
 * fed ww_keylog_export's text and then this goes on from text exactly as kl does. */
int ww_keylog_export_pending(const ww_keylog *kl, ww_buf *out) WW_WUR;
void ww_keylog_free(ww_keylog *kl);                /* wipes every secret */
/*
 * TLS records waiting for a key (decode/tls.c), over every session that uses this key log (one
 * run): one budget for all their bytes (default WW_KEYWAIT_BUDGET); over it the direction that
 * has waited longest is given up first ("no-key" anomaly, counted). When no key can arrive
 * later (set_keys_may_come false: a replay of classic pcap files with every -k file loaded, or
 * live without -k), records that lack a key once the ServerHello is known are not kept at all.
 */
#define WW_KEYWAIT_BUDGET ((size_t)64 << 20)
typedef struct ww_keywait_stats {
    uint64_t bytes_waiting; /* now */
    uint64_t bytes_peak;
    uint64_t evicted;       /* session directions given up to stay within the budget */
    uint64_t bytes_evicted; /* their waiting bytes, dropped */
} ww_keywait_stats;
void ww_keylog_set_wait_budget(ww_keylog *kl, size_t bytes);
void ww_keylog_set_keys_may_come(ww_keylog *kl, bool may);
const ww_keywait_stats *ww_keylog_wait_stats(const ww_keylog *kl);
/* The peak starts again from the bytes waiting now (an engine that shards sessions over
 * several key logs sums their peaks step by step: engine/workers.c). */
void ww_keylog_wait_peak_reset(ww_keylog *kl);
/* Live: how long the records of a closed connection keep waiting for a late key (default
 * WW_LATE_KEY_GRACE_US; a replay waits until the end of its input). For an option to set. */
#define WW_LATE_KEY_GRACE_US ((uint64_t)3000000)
void ww_keylog_set_late_key_grace_us(ww_keylog *kl, uint64_t us);
uint64_t ww_keylog_late_key_grace_us(const ww_keylog *kl);

/* ---- the per-flow application layer ---- */
typedef struct ww_app_cfg {
    size_t max_header_bytes;   /* one HTTP header block (default 64 KiB) */
    size_t max_body_bytes;     /* one kept body, decoded (default 8 MiB) */
    size_t max_decoded_ratio;  /* decompression bomb guard: decoded <= ratio * encoded + 1 MiB (default 100) */
    int json_max_depth;        /* default 64 */
    bool hash_bodies;          /* compute body_sha256 for the http callback */
    /* added: a streamed body (a response only scanned for addresses, never gathered whole)
     * is scanned up to this many decoded bytes (default 64 MiB; anomaly beyond). Its memory is
     * the parser's window (WW_HTTP_STREAM_WINDOW), not this. max_body_bytes then bounds only
     * gathered bodies (JSON-RPC, scripts, --log-http). */
    size_t max_scan_bytes;
} ww_app_cfg;
/* Fills the fields left 0 with their defaults (the one place they are written). */
void ww_app_cfg_defaults(ww_app_cfg *cfg);

/* Decoded bytes a streaming HTTP parser gathers before handing them on (body_chunk). */
#define WW_HTTP_STREAM_WINDOW (64 * 1024)
#define WW_HTTP_MAX_SCAN_BYTES ((size_t)64 << 20)

typedef struct ww_app_stats {
    uint64_t tls_sessions, tls_decrypted, tls_undecryptable, http_messages, rpc_calls,
        wallet_calls, h2_flows;
    uint64_t quic_decrypted, quic_undecryptable; /* QUIC connections, counted as they close */
} ww_app_stats;

typedef struct ww_app ww_app;
/* kl may be NULL (no TLS decryption); cfg may be NULL (defaults). */
ww_app *ww_app_new(const ww_mem *mem, const ww_app_cfg *cfg, const ww_decode_sink *sink,
                   ww_keylog *kl);
/* The ww_stream_cbs functions, to be wired with ud = the ww_app. */
void ww_app_on_open(void *app, ww_flow *f, uint64_t ts_us);
void ww_app_on_data(void *app, ww_flow *f, int dir, const uint8_t *p, size_t n, uint64_t ts_us);
void ww_app_on_gap(void *app, ww_flow *f, int dir, uint64_t len, uint64_t ts_us);
void ww_app_on_close(void *app, ww_flow *f, int reason, uint64_t ts_us);
/* Capture-layer anomalies routed to the sink. */
void ww_app_on_anomaly(void *app, uint64_t ts_us, const ww_flow *f, const char *layer,
                       const char *type, const char *detail);
/*
 * Late keys: a connection that closes while its TLS records wait for a key that may still come
 * (ww_tls_may_still_decrypt) is kept, at most WW_APP_MAX_PARKED of them (its bytes count in the
 * key log's key-wait budget). ww_app_keys_tick retries them when the key log grew, finishes
 * those that no longer wait and those parked for grace_us or longer (live; UINT64_MAX: replay);
 * final (end of input): one last retry, then all are finished. Plaintext goes the normal way.
 */
#define WW_APP_MAX_PARKED 4096
void ww_app_keys_tick(ww_app *app, uint64_t now_us, uint64_t grace_us, bool final);
/* For an engine that shards connections over several apps (engine/workers.c) and must merge
 * what late keys release in the order one app would: fn(ud, what, rank) is called when a
 * connection turns out TLS (WW_APP_RANK_TLS) and when it is parked (WW_APP_RANK_PARK), and
 * fills rank (kept with the connection); then before each step of ww_app_keys_tick on a
 * connection, with that rank: an open one retried (WW_APP_STEP_OPEN, its TLS rank; newest
 * first), a parked one retried (_RETRY), finished (_DROP), given up after its grace (_GRACE)
 * (its park rank; oldest first). NULL (the default): not called. */
enum {
    WW_APP_RANK_TLS,
    WW_APP_RANK_PARK,
    WW_APP_STEP_OPEN,
    WW_APP_STEP_RETRY,
    WW_APP_STEP_DROP,
    WW_APP_STEP_GRACE
};
typedef void (*ww_app_rank_fn)(void *ud, int what, uint64_t rank[2]);
void ww_app_set_rank_fn(ww_app *app, ww_app_rank_fn fn, void *ud);
size_t ww_app_parked(const ww_app *app);
const ww_app_stats *ww_app_stats_get(const ww_app *a);

/* QUIC connections (decode/quic.c, fed by the engine): each one gets an HTTP/3 decoder whose
 * messages go to the same HTTP message layer as HTTP/1.1 and HTTP/2. The ww_quic_cbs of the
 * engine call these with the app as app. */
void ww_app_quic_open(void *app, ww_flow *f, uint64_t ts_us);
void ww_app_quic_stream(void *app, ww_flow *f, int dir, uint64_t stream_id, const uint8_t *p,
                        size_t n, bool fin, uint64_t ts_us);
void ww_app_quic_reset(void *app, ww_flow *f, int dir, uint64_t stream_id, uint64_t ts_us);
void ww_app_quic_close(void *app, ww_flow *f, uint64_t ts_us);
void ww_app_free(ww_app *a);

/* ---- one-shot decoding (walletwatch decode, tests, fuzzers) ---- */
/*
 * Decodes one JSON-RPC request body (single or batch) into wallet calls.
 * out/num: caller's array, *num = capacity in, count out. Anomalies go to anomaly_fn
 * (may be NULL). Returns the number of JSON-RPC requests seen, or a negative WW_E_*
 * (WW_E_INVALID: not JSON / not JSON-RPC; WW_E_DEPTH: no request, and a member or element
 * nested deeper than max_depth was skipped). Reentrant (no static state).
 */
typedef void (*ww_decode_anomaly_fn)(void *ud, const char *layer, const char *type,
                                     const char *detail);
int ww_jsonrpc_decode_request(ww_wallet_call *out, size_t *num, const uint8_t *body, size_t n,
                              int max_depth, ww_decode_anomaly_fn anomaly_fn, void *ud);

/*
 * The same on a body that may be only its first bytes (prefix: the body went on past a cap,
 * HTTP or WebSocket), with the depth budget applied to what is skipped, not to what is used:
 * members other than method / params / id / a Solana payload are skipped unbuilt whatever
 * their depth or size (a `json-too-deep` anomaly when deeper than max_depth); params are
 * built with their deep or oversized parts left out (`json-pruned`); each batch element on
 * its own. With prefix, a request cut by the end of body[0..n) is decoded when its method
 * and params are whole before the cut; otherwise (a wallet method, a method not seen yet,
 * the rest of a batch) info->unchecked is set and an `unchecked-body` anomaly raised: a
 * wallet-call-shaped body too big to check. info may be NULL. Returns as above.
 */
typedef struct ww_jsonrpc_req_info {
    int requests;          /* JSON-RPC requests seen */
    bool unchecked;        /* prefix only: a possible wallet call lies past the cut */
    size_t n_skipped_deep; /* members / batch elements skipped as nested too deep */
    size_t n_pruned;       /* values left out of params (too deep, over the size budget) */
} ww_jsonrpc_req_info;
int ww_jsonrpc_decode_request_prefix(ww_wallet_call *out, size_t *num, const uint8_t *body,
                                     size_t n, bool prefix, int max_depth,
                                     ww_jsonrpc_req_info *info, ww_decode_anomaly_fn anomaly_fn,
                                     void *ud);

/*
 * One serialized transaction -> *wc (initialized by the caller: method, rpc_id, chain;
 * signature_valid -1). Anomalies go to anomaly_fn (may be NULL). Returns true when wc holds a
 * call worth reporting (decoded, or well-formed with a bad signature).
 *   ww_decode_evm_tx: EIP-2718 typed or legacy RLP, signed (sender recovered) or not.
 *   ww_decode_solana_tx: wire format (signatures verified), or a bare message when
 *   allow_message.
 */
bool ww_decode_evm_tx(ww_wallet_call *wc, const uint8_t *raw, size_t n,
                      ww_decode_anomaly_fn anomaly_fn, void *ud);
bool ww_decode_solana_tx(ww_wallet_call *wc, const uint8_t *p, size_t n, bool allow_message,
                         ww_decode_anomaly_fn anomaly_fn, void *ud);
/* A Solana transaction written as text: enc "base58", "base64", or NULL = base58 then
 * base64. Returns the decoded length, or -1 (not that encoding, or over cap). */
ssize_t ww_solana_tx_bytes(uint8_t *out, size_t cap, const char *s, size_t len, const char *enc);

/* A JSON-RPC response (single or batch element), to be matched with its request by id. */
#define WW_JSONRPC_RESULT_MAX 160
typedef struct ww_jsonrpc_resp {
    char rpc_id[72];     /* the id as JSON text, as in ww_wallet_call.rpc_id; "" when absent */
    bool is_error;
    int64_t error_code;  /* when is_error */
    char error_msg[96];  /* when is_error; truncated */
    bool result_truncated; /* the result did not fit in result[] (it is then "") */
    char result[WW_JSONRPC_RESULT_MAX]; /* a string result as is (tx hash, signature);
                                           any other result as compact JSON text */
} ww_jsonrpc_resp;
/*
 * Decodes one JSON-RPC response body (single or batch). out/num: capacity in, count out
 * (elements over capacity are counted, not stored). Returns the number of responses seen
 * (objects with "result" or "error"), or WW_E_INVALID (not JSON / not a JSON-RPC response),
 * WW_E_DEPTH (nested deeper than max_depth; <= 0 means 64).
 */
int ww_jsonrpc_decode_response(ww_jsonrpc_resp *out, size_t *num, const uint8_t *body, size_t n,
                               int max_depth);

#endif /* WW_DECODE_H */
