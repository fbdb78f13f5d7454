/*
 * follow.h - a key log followed while the browser appends to it (live capture).
 */
#ifndef WW_ENGINE_FOLLOW_H
#define WW_ENGINE_FOLLOW_H

#include "decode/decode.h"

#include <sys/types.h>

typedef struct ww_kl_follow {
    const char *path;
    dev_t dev;
    ino_t ino;
    off_t off; /* bytes read so far */
    bool have; /* the file was seen */
} ww_kl_follow;

/* Reads what was appended since the last poll into kl (at most 4 MiB per call). A file that
 * shrank or was replaced (rotation, truncation) is read again from its start; one that was
 * moved away is waited for. Returns false when the file cannot be read (errno set). */
bool ww_kl_follow_poll(ww_kl_follow *f, ww_keylog *kl);

#endif /* WW_ENGINE_FOLLOW_H */
