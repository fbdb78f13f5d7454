/*
 * anom_int.h - the one anomaly helper of the transports (http1.c, h2.c, ws.c): counts the
 * anomaly and hands it on with its detail formatted.
 */
#ifndef WW_ANOM_INT_H
#define WW_ANOM_INT_H

#include "util/ww.h"

#define WW_ANOM_DETAIL_MAX 256

typedef void (*ww_anom_fn)(void *ud, const char *type, const char *detail);

/* ++*count; then fn(ud, type, detail) when fn is set, detail printf-formatted and cut to
 * detail_max - 1 bytes (detail_max <= WW_ANOM_DETAIL_MAX). */
void ww_anomf(ww_anom_fn fn, void *ud, uint64_t *count, size_t detail_max, const char *type,
              const char *fmt, ...) WW_PRINTF(6, 7);

#endif /* WW_ANOM_INT_H */
