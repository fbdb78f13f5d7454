#!/usr/bin/env python3
"""dsb_last.py IN.pcap KEYS OUT.pcapng [--keep-fin] - rewrites a classic pcap (Ethernet) as
pcapng with the TLS key log in a Decryption Secrets Block at the END of the file, after every
packet: the key arrives after the records it opens. Without --keep-fin, TCP FIN/RST packets
are left out, so the connections are still open when the key comes (as in a capture cut
mid-session)."""
import struct
import sys

def block(btype, body):
    pad = (4 - len(body) % 4) % 4
    total = 12 + len(body) + pad
    return struct.pack("<II", btype, total) + body + b"\0" * pad + struct.pack("<I", total)

def main():
    src, keys, out = sys.argv[1:4]
    keep_fin = "--keep-fin" in sys.argv
    data = open(src, "rb").read()
    magic = struct.unpack("<I", data[:4])[0]
    assert magic == 0xa1b2c3d4, "little-endian microsecond pcap expected"
    linktype = struct.unpack("<I", data[20:24])[0]
    res = [block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)),
           block(1, struct.pack("<HHI", linktype, 0, 262144))]
    off = 24
    while off + 16 <= len(data):
        sec, usec, incl, orig = struct.unpack("<IIII", data[off:off + 16])
        pkt = data[off + 16:off + 16 + incl]
        off += 16 + incl
        if not keep_fin and linktype == 1 and len(pkt) >= 54 and pkt[12:14] == b"\x08\x00":
            ihl = (pkt[14] & 15) * 4
            flags = pkt[14 + ihl + 13]
            if flags & 0x05:  # FIN or RST
                continue
        ts = sec * 1000000 + usec
        res.append(block(6, struct.pack("<IIIII", 0, ts >> 32, ts & 0xffffffff, incl, orig) + pkt))
    secret = open(keys, "rb").read()
    res.append(block(0x0000000A, struct.pack("<II", 0x544c534b, len(secret)) + secret))
    open(out, "wb").write(b"".join(res))

main()
