#!/usr/bin/env python3
"""pcapng2pcap.py IN OUT - the packets of a pcapng file as classic pcap (microseconds), for
tests/workers.sh: a pcapng input runs on one thread (its DSBs may bring keys late), the same
packets as classic pcap go through --workers' sharded path. Keeps Enhanced and Simple Packet
Blocks of the first interface's link type (exits 1 when interfaces differ in link type); drops
everything else (DSBs, statistics, comments). Either byte order."""
import struct
import sys


def main():
    src, dst = sys.argv[1], sys.argv[2]
    data = open(src, "rb").read()
    off, bo = 0, "<"
    links, tsres, out, linktype = [], [], [], None
    while off + 12 <= len(data):
        btype = struct.unpack_from(bo + "I", data, off)[0]
        if btype == 0x0A0D0D0A:  # section header: byte order
            magic = data[off + 8:off + 12]
            bo = "<" if magic == b"\x4d\x3c\x2b\x1a" else ">"
            links, tsres = [], []
        blen = struct.unpack_from(bo + "I", data, off + 4)[0]
        if blen < 12 or off + blen > len(data):
            break
        body = data[off + 8:off + blen - 4]
        if btype == 1:  # interface description
            lt = struct.unpack_from(bo + "H", body, 0)[0]
            res = 6
            o = 8
            while o + 4 <= len(body):
                code, ln = struct.unpack_from(bo + "HH", body, o)
                if code == 0:
                    break
                if code == 9 and ln >= 1:
                    res = body[o + 4]
                o += 4 + ((ln + 3) & ~3)
            links.append(lt)
            tsres.append(res)
            if linktype is None:
                linktype = lt
            elif lt != linktype:
                sys.exit("pcapng2pcap: several link types")
        elif btype == 6:  # enhanced packet
            iface, hi, lo, caplen, wlen = struct.unpack_from(bo + "IIIII", body, 0)
            ts = (hi << 32) | lo
            res = tsres[iface] if iface < len(tsres) else 6
            if res & 0x80:
                per_s = 1 << (res & 0x7F)
            else:
                per_s = 10 ** res
            us = ts * 1000000 // per_s
            out.append((us, body[20:20 + caplen], wlen))
        elif btype == 3:  # simple packet: no time
            wlen = struct.unpack_from(bo + "I", body, 0)[0]
            out.append((0, body[4:4 + min(wlen, len(body) - 4)], wlen))
        off += blen
    with open(dst, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144,
                            linktype if linktype is not None else 1))
        for us, pkt, wlen in out:
            f.write(struct.pack("<IIII", us // 1000000, us % 1000000, len(pkt), wlen))
            f.write(pkt)


if __name__ == "__main__":
    main()
