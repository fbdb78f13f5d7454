/*
 * ip.c - address helpers.
 */
#include "capture/capture.h"

#include <arpa/inet.h>

const char *ww_ip_str(const ww_ip *ip, char *out, size_t out_size)
{
    WW_ASSERT(ip != NULL && out != NULL && out_size > 0);
    if (ip->family == 4) {
        if (inet_ntop(AF_INET, ip->a, out, (socklen_t)out_size) == NULL)
            out[0] = '\0';
    } else if (ip->family == 6) {
        if (inet_ntop(AF_INET6, ip->a, out, (socklen_t)out_size) == NULL)
            out[0] = '\0';
    } else {
        snprintf(out, out_size, "?");
    }
    return out;
}

bool ww_ip_eq(const ww_ip *a, const ww_ip *b)
{
    WW_ASSERT(a != NULL && b != NULL);
    if (a->family != b->family)
        return false;
    return memcmp(a->a, b->a, a->family == 4 ? 4 : 16) == 0;
}
