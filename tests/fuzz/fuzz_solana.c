/* fuzz_solana.c - the Solana wire-transaction / message decoder (decode/solana.c). */
#include "decode/solana_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ww_wallet_call wc;
    ww_solana_tx_info info;
    ww_sol_msg m;
    memset(&wc, 0, sizeof wc);
    (void)ww_solana_decode_tx(&wc, &info, data, size, true);
    if (ww_solana_msg_parse(&m, data, size) > 0 && m.n_ix > 0)
        wc.n_parties = m.ix[0].n_acc & 1;
    return 0;
}
