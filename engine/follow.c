/*
 * follow.c - reading a key log as it grows (follow.h).
 */
#include "engine/follow.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#define FOLLOW_CHUNK 16384
#define FOLLOW_CHUNKS_PER_POLL 256 /* 4 MiB */

/* Reads f->path from f->off to its end (or the per-poll limit) into fn. */
static bool read_new(ww_kl_follow *f, ww_kl_text_fn fn, void *ud)
{
    int fd = open(f->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    uint8_t buf[FOLLOW_CHUNK];
    bool ok = true;
    if (lseek(fd, f->off, SEEK_SET) != f->off) {
        ok = false;
    } else {
        for (int i = 0; i < FOLLOW_CHUNKS_PER_POLL; i++) {
            ssize_t k = read(fd, buf, sizeof buf);
            if (k < 0 && errno == EINTR)
                continue;
            if (k <= 0) {
                ok = k == 0;
                break;
            }
            fn(ud, buf, (size_t)k);
            f->off += k;
        }
    }
    ww_wipe(buf, sizeof buf); /* key material */
    close(fd);
    return ok;
}

bool ww_kl_follow_poll(ww_kl_follow *f, ww_kl_text_fn fn, void *ud)
{
    struct stat st;
    if (stat(f->path, &st) != 0)
        return errno == ENOENT && f->have; /* moved away: wait for the new one */
    if (!f->have || st.st_dev != f->dev || st.st_ino != f->ino || st.st_size < f->off) {
        if (f->have)
            fn(ud, (const uint8_t *)"\n", 1); /* end a pending line */
        f->have = true;
        f->dev = st.st_dev;
        f->ino = st.st_ino;
        f->off = 0;
    }
    if (st.st_size == f->off)
        return true;
    return read_new(f, fn, ud);
}
