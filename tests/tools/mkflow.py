#!/usr/bin/env python3
"""mkflow.py OUT.pcap MSG... - one TCP connection as a classic pcap, for CLI tests.

Each MSG is "c:TEXT" (client to server) or "s:TEXT" (server to client); "\\r\\n" escapes are
decoded. Client 10.9.0.5:40000, server 10.9.0.2:80; three-way handshake, 1448-byte segments,
FIN teardown; TCP checksums left zero (walletwatch does not check them)."""
import struct
import sys

def pkt(src, dst, sport, dport, seq, ack, flags, payload=b""):
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 0x50, flags, 65535, 0, 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0, 64, 6, 0, src, dst)
    return b"\x00\x00\x00\x00\x00\x02\x00\x00\x00\x00\x00\x01\x08\x00" + ip + tcp

def main():
    out, msgs = sys.argv[1], sys.argv[2:]
    cli, srv = bytes([10, 9, 0, 5]), bytes([10, 9, 0, 2])
    cseq, sseq, ts = 1000, 5000, 1757343600.0
    frames = []
    def add(frame):
        nonlocal ts
        ts += 0.001
        frames.append((ts, frame))
    add(pkt(cli, srv, 40000, 80, cseq, 0, 0x02)); cseq += 1
    add(pkt(srv, cli, 80, 40000, sseq, cseq, 0x12)); sseq += 1
    add(pkt(cli, srv, 40000, 80, cseq, sseq, 0x10))
    for m in msgs:
        d, text = m.split(":", 1)
        data = text.encode().decode("unicode_escape").encode("latin-1")
        for i in range(0, len(data), 1448):
            chunk = data[i:i + 1448]
            if d == "c":
                add(pkt(cli, srv, 40000, 80, cseq, sseq, 0x18, chunk)); cseq += len(chunk)
            else:
                add(pkt(srv, cli, 80, 40000, sseq, cseq, 0x18, chunk)); sseq += len(chunk)
    add(pkt(cli, srv, 40000, 80, cseq, sseq, 0x11)); cseq += 1
    add(pkt(srv, cli, 80, 40000, sseq, cseq, 0x11)); sseq += 1
    add(pkt(cli, srv, 40000, 80, cseq, sseq, 0x10))
    with open(out, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 262144, 1))
        for t, fr in frames:
            f.write(struct.pack("<IIII", int(t), int((t % 1) * 1e6), len(fr), len(fr)) + fr)

main()
