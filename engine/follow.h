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

/* Where the text read goes (the engine: its key log, and its workers' copies). */
typedef void (*ww_kl_text_fn)(void *ud, const uint8_t *p, size_t n);

/* Hands what was appended since the last poll to fn (at most 4 MiB per call). A file that
 * shrank or was replaced (rotation, truncation) is read again from its start; one that was
 * moved away is waited for. Returns false when the file cannot be read (errno set). */
bool ww_kl_follow_poll(ww_kl_follow *f, ww_kl_text_fn fn, void *ud);

#endif /* WW_ENGINE_FOLLOW_H */
