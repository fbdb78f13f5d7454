#!/usr/bin/env python3
"""dsb_spread.py IN.pcapng KEYS OUT.pcapng SEED [--drop N] - rewrites a pcapng with its key
log spread over Decryption Secrets Blocks at pseudo-random places (SEED): each line of KEYS in
its own DSB before packet i, i picked in 0..packets (packets: after the last packet), so keys
come before, during and after the connections they open, closed or not. The DSBs IN had are
left out. --drop N: every line whose pick is a multiple of N is left out (sessions with no
key at all). For tests/workers.sh: late keys give the same events with any --workers."""
import hashlib
import struct
import sys

def block(btype, body, le):
    pad = (4 - len(body) % 4) % 4
    total = 12 + len(body) + pad
    return struct.pack(le + "II", btype, total) + body + b"\0" * pad + struct.pack(le + "I", total)

def main():
    src, keys, out, seed = sys.argv[1:5]
    drop = int(sys.argv[sys.argv.index("--drop") + 1]) if "--drop" in sys.argv else 0
    data = open(src, "rb").read()
    le = "<" if data[8:12] == b"\x4d\x3c\x2b\x1a" else ">"
    head, pkts, off = [], [], 0
    while off + 12 <= len(data):
        btype, total = struct.unpack_from(le + "II", data, off)
        if total < 12 or off + total > len(data):
            break
        blk = data[off:off + total]
        off += total
        if btype == 0x0000000A:
            continue
        if btype in (2, 3, 6):
            pkts.append(blk)
        elif not pkts:
            head.append(blk)
        else:
            pkts[-1] += blk  # a block between packets stays after its packet
    at = {}
    for line in open(keys, "rb").read().splitlines(keepends=True):
        if not line.strip() or line.startswith(b"#"):
            continue
        h = int.from_bytes(hashlib.sha256(seed.encode() + line).digest()[:8], "little")
        i = h % (len(pkts) + 1)
        if drop and h % drop == 0:
            continue
        at.setdefault(i, []).append(line)
    res = head[:]
    for i in range(len(pkts) + 1):
        for line in at.get(i, []):
            res.append(block(0x0000000A, struct.pack(le + "II", 0x544C534B, len(line)) + line, le))
        if i < len(pkts):
            res.append(pkts[i])
    open(out, "wb").write(b"".join(res))

main()
