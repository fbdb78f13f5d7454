/*
 * evm_int.h - EVM decoding inside decode/: Keccak-256, RLP, signed transactions (EIP-2718
 * types 0-2 for now: legacy with and without EIP-155, EIP-2930, EIP-1559), sender recovery
 * with libsecp256k1, ERC-20 calldata.
 */
#ifndef WW_EVM_INT_H
#define WW_EVM_INT_H

#include "decode/decode.h"

/* Keccak-256 (Ethereum's, 0x01 padding). */
void ww_keccak256(uint8_t out[32], const uint8_t *p, size_t n);

#endif
