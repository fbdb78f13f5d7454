/*
 * anom.c - the transports' anomaly helper (anom_int.h).
 */
#include "decode/anom_int.h"

#include <stdarg.h>

void ww_anomf(ww_anom_fn fn, void *ud, uint64_t *count, size_t detail_max, const char *type,
              const char *fmt, ...)
{
    char detail[WW_ANOM_DETAIL_MAX];
    va_list ap;
    ++*count;
    if (fn == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(detail, WW_MIN(detail_max, sizeof detail), fmt, ap);
    va_end(ap);
    fn(ud, type, detail);
}
