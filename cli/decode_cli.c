/*
 * decode_cli.c - `walletwatch decode [--chain evm|solana] DATA` (SPEC.md): one wallet call
 * decoded by hand and printed as wallet_call events (JSON lines).
 *
 *   DATA starting with '{' or '['   a JSON-RPC request or batch (ww_jsonrpc_decode_request)
 *   --chain evm (default)           a raw transaction in hex, "0x" optional (ww_decode_evm_tx)
 *   --chain solana                  a wire transaction or message, base58 or base64
 *                                   (ww_decode_solana_tx)
 * '-' reads DATA from standard input. Exit 0 when a call was decoded, 2 otherwise.
 */
#include "cli/cli.h"
#include "detect/detect.h"

#define EXIT_OK 0
#define EXIT_USAGE 2
#define DECODE_INPUT_MAX (16u << 20)
#define DECODE_TX_MAX 65536 /* bytes of one serialized transaction */
#define DECODE_CALLS_MAX 64

static void decode_anomaly(void *ud, const char *layer, const char *type, const char *detail)
{
    (void)ud;
    fprintf(stderr, "walletwatch decode: %s/%s: %s\n", layer, type, detail ? detail : "");
}

/* DATA, or standard input for "-", into in. false when it is too large. */
static bool read_data(ww_buf *in, const char *data)
{
    if (strcmp(data, "-") != 0)
        return ww_buf_append(in, data, strlen(data)) == WW_OK;
    char chunk[65536];
    size_t r;
    while ((r = fread(chunk, 1, sizeof chunk, stdin)) > 0)
        if (ww_buf_append(in, chunk, r) != WW_OK)
            return false;
    return true;
}

static bool is_space(uint8_t c)
{
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

static bool is_b58_or_b64(const uint8_t *p, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        unsigned char ch = p[k];
        if (!((ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
              ch == '+' || ch == '/' || ch == '=' || ch == '-' || ch == '_'))
            return false;
    }
    return true;
}

/* A bare transaction (text p[0..n)) of chain into calls[0]. Returns 1 decoded, 0 not, -1
 * the text is not in the chain's encoding (said on stderr). */
static int decode_bare(ww_wallet_call *wc, int chain, const uint8_t *p, size_t n)
{
    static const char *const not_text[] = {
        [WW_CHAIN_EVM] = "walletwatch decode: DATA is neither JSON nor a hex transaction\n",
        [WW_CHAIN_SOLANA] = "walletwatch decode: --chain solana DATA must be base58 or base64\n",
    };
    uint8_t *tx = malloc(DECODE_TX_MAX);
    ssize_t k = -1;
    int rc = 0;
    if (tx == NULL)
        return -1;
    memset(wc, 0, sizeof *wc);
    if (chain == WW_CHAIN_SOLANA) {
        if (is_b58_or_b64(p, n))
            k = ww_solana_tx_bytes(tx, DECODE_TX_MAX, (const char *)p, n, NULL);
        snprintf(wc->method, sizeof wc->method, "transaction"); /* as a wallet-standard payload */
        if (k > 0)
            rc = ww_decode_solana_tx(wc, tx, (size_t)k, true, decode_anomaly, NULL);
    } else {
        if (n >= 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
            p += 2;
            n -= 2;
        }
        k = ww_hex_decode(tx, DECODE_TX_MAX, (const char *)p, n);
        wc->chain = WW_CHAIN_EVM;
        wc->signature_valid = -1;
        snprintf(wc->method, sizeof wc->method, "eth_sendRawTransaction"); /* what carries it */
        snprintf(wc->rpc_id, sizeof wc->rpc_id, "null");                   /* no request id */
        if (k >= 0)
            rc = ww_decode_evm_tx(wc, tx, (size_t)k, decode_anomaly, NULL);
    }
    free(tx);
    if (k < 0 || (chain == WW_CHAIN_SOLANA && k == 0)) {
        fputs(not_text[chain], stderr);
        return -1;
    }
    return rc;
}

int ww_decode_text(ww_wallet_call *calls, size_t *num, int chain, const uint8_t *p, size_t n)
{
    int rc;
    if (chain != WW_CHAIN_EVM && chain != WW_CHAIN_SOLANA) {
        *num = 0;
        return -1;
    }
    while (n > 0 && is_space(p[0])) {
        p++;
        n--;
    }
    while (n > 0 && is_space(p[n - 1]))
        n--;
    if (n > 0 && (p[0] == '{' || p[0] == '[')) {
        rc = ww_jsonrpc_decode_request(calls, num, p, n, 64, decode_anomaly, NULL);
        if (rc < 0)
            fprintf(stderr, "walletwatch decode: %s\n", ww_strerror(rc));
    } else {
        rc = *num > 0 ? decode_bare(&calls[0], chain, p, n) : 0;
        *num = rc > 0 ? 1 : 0;
    }
    return rc;
}

static int print_calls(const ww_wallet_call *calls, size_t num)
{
    ww_out_cfg oc = {0};
    oc.jsonl = stdout;
    oc.format = WW_FMT_JSONL;
    ww_out *o = ww_out_new(NULL, &oc);
    if (o == NULL)
        return EXIT_USAGE;
    ww_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    for (size_t i = 0; i < num; i++)
        ww_out_wallet_call(o, &ctx, &calls[i]);
    int frc = ww_out_finish(o);
    ww_out_free(o);
    if (num == 0) {
        fprintf(stderr, "walletwatch decode: no wallet call could be decoded from the input\n");
        return EXIT_USAGE;
    }
    return frc == WW_OK ? EXIT_OK : EXIT_USAGE;
}

static const char DECODE_USAGE[] =
    "usage: walletwatch decode [--chain evm|solana] DATA\n"
    "\n"
    "Decodes one wallet call by hand and prints it as wallet_call events (JSON lines).\n"
    "  DATA starting with '{' or '['   a JSON-RPC request or batch\n"
    "  --chain evm (default)           a raw transaction in hex ('0x' optional)\n"
    "  --chain solana                  a wire transaction or message, base58 or base64\n"
    "  DATA '-'                        read DATA from standard input\n"
    "exit status: 0 a call was decoded, 2 otherwise\n";

int ww_decode_cli(int argc, char **argv)
{
    const char *data = NULL;
    int chain = WW_CHAIN_EVM;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(DECODE_USAGE, stdout);
            return fflush(stdout) == 0 ? EXIT_OK : EXIT_USAGE;
        }
    }
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--chain") == 0 && i + 1 < argc) {
            chain = ww_chain_from_name(argv[i + 1], strlen(argv[i + 1]));
            i++;
        } else {
            data = argv[i];
        }
    }
    if (data == NULL || (chain != WW_CHAIN_EVM && chain != WW_CHAIN_SOLANA)) {
        fprintf(stderr, "usage: walletwatch decode [--chain evm|solana] DATA ('-' = stdin)\n"
                        "see walletwatch decode --help\n");
        return EXIT_USAGE;
    }
    ww_buf in;
    ww_buf_init(&in, NULL, DECODE_INPUT_MAX);
    if (!read_data(&in, data)) {
        fprintf(stderr, "walletwatch decode: input too large\n");
        ww_buf_free(&in);
        return EXIT_USAGE;
    }
    ww_wallet_call *calls = calloc(DECODE_CALLS_MAX, sizeof *calls);
    size_t num = DECODE_CALLS_MAX;
    int rc = -1;
    if (calls != NULL)
        rc = ww_decode_text(calls, &num, chain, in.data ? in.data : (const uint8_t *)"", in.len);
    ww_buf_free(&in);
    int exit_code = rc < 0 ? EXIT_USAGE : print_calls(calls, num);
    free(calls);
    return exit_code;
}
