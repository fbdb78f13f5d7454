/*
 * tls_int.h - passive TLS 1.2/1.3 decryption for one connection with keys from a key log.
 *
 * Records are reassembled per direction (a record may span many segments; a segment may carry
 * many records); handshake messages are reassembled across records. ClientHello gives the
 * client random, SNI and offered ALPN; ServerHello the version, cipher and ALPN. Keys come from
 * ww_keylog (CLIENT_RANDOM for 1.2; *_TRAFFIC_SECRET_0, CLIENT_HANDSHAKE_TRAFFIC_SECRET... for
 * 1.3). Application data plaintext is handed on in order per direction. A record that arrives
 * before its key waits in a bounded backlog. A tag failure is an anomaly; no garbage is ever
 * handed on. Secrets and derived keys are wiped on free.
 */
#ifndef WW_TLS_INT_H
#define WW_TLS_INT_H

#include "decode/decode.h"

typedef struct ww_tls_cbs {
    void *ud;
    /* decrypted application data of one direction, in order */
    void (*plaintext)(void *ud, int dir, const uint8_t *p, size_t n, uint64_t ts_us);
    /* once the ServerHello is parsed (info stays valid as long as the ww_tls) */
    void (*handshake)(void *ud, const ww_tls_info *info);
    void (*anomaly)(void *ud, const char *type, const char *detail);
} ww_tls_cbs;

typedef struct ww_tls ww_tls;

/* Does this look like the start of a TLS connection (a handshake record)? n may be small. */
bool ww_tls_probe(const uint8_t *p, size_t n);
ww_tls *ww_tls_new(const ww_mem *mem, ww_keylog *kl, const ww_tls_cbs *cbs);
void ww_tls_data(ww_tls *t, int dir, const uint8_t *p, size_t n, uint64_t ts_us);
void ww_tls_gap(ww_tls *t, int dir, uint64_t len, uint64_t ts_us);
const ww_tls_info *ww_tls_info_get(const ww_tls *t);
/* true once any application record was decrypted */
bool ww_tls_decrypted(const ww_tls *t);
/* true when application data was seen that could not be decrypted (no key, bad tag...) */
bool ww_tls_undecryptable(const ww_tls *t);
void ww_tls_free(ww_tls *t);

#endif
