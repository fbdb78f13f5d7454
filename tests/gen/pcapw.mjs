/*
 * pcapw.mjs - the classic-pcap / Ethernet / IPv4 / TCP writer of the synthesized captures
 * (gen_http1.mjs, wallet/gen_sessions.mjs): checksummed frames, handshake with options,
 * 1448-byte segments, delayed ACKs, FIN teardown, deterministic given the PRNG passed in.
 */
import fs from "node:fs";

export const MSS_PAYLOAD = 1448;

export function csum16(buf, init = 0) {
    let s = init;
    for (let i = 0; i + 1 < buf.length; i += 2) s += (buf[i] << 8) | buf[i + 1];
    if (buf.length & 1) s += buf[buf.length - 1] << 8;
    while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
    return s;
}

export class Capture {
    /* mac: "a.b.c.d" -> 6-byte MAC of that host */
    constructor(mac) {
        this.mac = mac;
        this.pkts = []; /* {ts, seq, frame} */
        this.n = 0;
    }
    add(ts, frame) {
        this.pkts.push({ ts: Math.round(ts), n: this.n++, frame });
    }
    /* IPv4/TCP frame; opts: TCP options bytes (length multiple of 4). */
    tcp(ts, src, dst, sport, dport, seq, ack, flags, win, opts, payload, ipid) {
        const tcpLen = 20 + opts.length;
        const ipLen = 20 + tcpLen + payload.length;
        const f = Buffer.alloc(14 + ipLen);
        Buffer.from(this.mac[dst.join(".")]).copy(f, 0);
        Buffer.from(this.mac[src.join(".")]).copy(f, 6);
        f.writeUInt16BE(0x0800, 12);
        const ip = 14;
        f[ip] = 0x45;
        f[ip + 1] = 0;
        f.writeUInt16BE(ipLen, ip + 2);
        f.writeUInt16BE(ipid & 0xffff, ip + 4);
        f.writeUInt16BE(0x4000, ip + 6); /* DF */
        f[ip + 8] = 64;
        f[ip + 9] = 6;
        Buffer.from(src).copy(f, ip + 12);
        Buffer.from(dst).copy(f, ip + 16);
        f.writeUInt16BE(~csum16(f.subarray(ip, ip + 20)) & 0xffff, ip + 10);
        const t = ip + 20;
        f.writeUInt16BE(sport, t);
        f.writeUInt16BE(dport, t + 2);
        f.writeUInt32BE(seq >>> 0, t + 4);
        f.writeUInt32BE(ack >>> 0, t + 8);
        f[t + 12] = (tcpLen / 4) << 4;
        f[t + 13] = flags;
        f.writeUInt16BE(win, t + 14);
        opts.copy(f, t + 20);
        payload.copy(f, t + tcpLen);
        const pseudo = Buffer.alloc(12);
        Buffer.from(src).copy(pseudo, 0);
        Buffer.from(dst).copy(pseudo, 4);
        pseudo[9] = 6;
        pseudo.writeUInt16BE(tcpLen + payload.length, 10);
        const c = csum16(f.subarray(t), csum16(pseudo));
        f.writeUInt16BE(~c & 0xffff, t + 16);
        this.add(ts, f);
    }
    write(file) {
        this.pkts.sort((a, b) => a.ts - b.ts || a.n - b.n);
        const hdr = Buffer.alloc(24);
        hdr.writeUInt32LE(0xa1b2c3d4, 0);
        hdr.writeUInt16LE(2, 4);
        hdr.writeUInt16LE(4, 6);
        hdr.writeUInt32LE(262144, 16);
        hdr.writeUInt32LE(1, 20);
        const parts = [hdr];
        for (const p of this.pkts) {
            const r = Buffer.alloc(16);
            r.writeUInt32LE(Math.floor(p.ts / 1e6), 0);
            r.writeUInt32LE(p.ts % 1e6, 4);
            r.writeUInt32LE(p.frame.length, 8);
            r.writeUInt32LE(p.frame.length, 12);
            parts.push(r, p.frame);
        }
        fs.writeFileSync(file, Buffer.concat(parts));
        return this.pkts.length;
    }
}

export const FIN = 0x01, SYN = 0x02, PSH = 0x08, ACK = 0x10;
export const RTT = 1000;        /* µs, LAN */
export const BYTE_US = 0.08;    /* 100 Mbit/s serialization per byte */

/*
 * One TCP connection seen at a mirror port next to the client: client packets are stamped
 * when sent, server packets when they arrive; the other side's packets are RTT later.
 * Each side keeps its own clock (c.t); a server reply is scheduled RTT/2 after the request
 * reaches it plus think time. Packets are sorted by time when the file is written.
 */
export class Conn {
    constructor(cap, rnd, cli, cport, srv, sport, t) {
        Object.assign(this, { cap, rnd, cli, cport, srv, sport, t });
        this.seq = [Math.floor(rnd() * 2 ** 32), Math.floor(rnd() * 2 ** 32)];
        this.ipid = [Math.floor(rnd() * 65536), Math.floor(rnd() * 65536)];
        this.tsv = [Math.floor(rnd() * 2 ** 31), Math.floor(rnd() * 2 ** 31)];
        this.win = [501, 509];
        this.unacked = [0, 0]; /* segments received and not yet ACKed, per receiver */
    }
    tsopt(dir, ts) {
        const o = Buffer.alloc(12);
        o[0] = 1; o[1] = 1; o[2] = 8; o[3] = 10;
        o.writeUInt32BE((this.tsv[dir] + Math.floor(ts / 1000)) >>> 0, 4);
        o.writeUInt32BE((this.tsv[1 - dir] + Math.floor(ts / 1000) - 1) >>> 0, 8);
        return o;
    }
    pkt(dir, ts, flags, payload = Buffer.alloc(0), opts = null) {
        const [src, dst, sp, dp] = dir === 0
            ? [this.cli, this.srv, this.cport, this.sport]
            : [this.srv, this.cli, this.sport, this.cport];
        this.cap.tcp(ts, src, dst, sp, dp, this.seq[dir], flags & ACK ? this.seq[1 - dir] : 0,
                     flags, opts ? 64240 : this.win[dir], opts || this.tsopt(dir, ts), payload,
                     this.ipid[dir]++);
        this.seq[dir] = (this.seq[dir] + payload.length + (flags & (SYN | FIN) ? 1 : 0)) >>> 0;
    }
    synopts(dir, ts) {
        const o = Buffer.alloc(20);
        o.writeUInt8(2, 0); o.writeUInt8(4, 1); o.writeUInt16BE(1460, 2);
        o[4] = 4; o[5] = 2;
        o[6] = 8; o[7] = 10;
        o.writeUInt32BE((this.tsv[dir] + Math.floor(ts / 1000)) >>> 0, 8);
        o.writeUInt32BE(dir === 0 ? 0 : (this.tsv[0] + Math.floor(ts / 1000)) >>> 0, 12);
        o[16] = 1; o[17] = 3; o[18] = 3; o[19] = 7;
        return o;
    }
    handshake() {
        const t = this.t;
        this.pkt(0, t, SYN, undefined, this.synopts(0, t));
        this.pkt(1, t + RTT, SYN | ACK, undefined, this.synopts(1, t + RTT));
        this.pkt(0, t + RTT + 40, ACK);
        this.t = t + RTT + 60;
    }
    /*
     * Sends msg from dir starting at time t; returns when the last byte reached the peer
     * (its time at the mirror plus half an RTT for server-bound data). The receiver ACKs
     * every second segment and the last one.
     */
    send(dir, msg, t) {
        const n = Math.ceil(msg.length / MSS_PAYLOAD);
        const ackDelay = dir === 0 ? RTT : 60; /* when the receiver's ACK shows at the mirror */
        let ts = t;
        for (let i = 0; i < n; i++) {
            const seg = msg.subarray(i * MSS_PAYLOAD, (i + 1) * MSS_PAYLOAD);
            const last = i === n - 1;
            this.pkt(dir, ts, ACK | (last ? PSH : 0), seg);
            const seen = ts;
            ts += seg.length * BYTE_US + 14 + Math.floor(this.rnd() * 6);
            if (++this.unacked[1 - dir] >= 2 || last) {
                this.pkt(1 - dir, seen + ackDelay + seg.length * BYTE_US, ACK);
                this.unacked[1 - dir] = 0;
            }
        }
        return ts + (dir === 0 ? RTT / 2 : 0);
    }
    /* A request and its response; think = server think time (µs). Advances this.t. */
    exchange(req, resp, think) {
        const arrived = this.send(0, req, this.t);
        const done = this.send(1, resp, arrived + RTT / 2 + think);
        this.t = done + 200 + Math.floor(this.rnd() * 300);
        return this.t;
    }
    close() {
        const t = this.t;
        this.pkt(0, t, FIN | ACK);
        this.pkt(1, t + RTT, FIN | ACK);
        this.pkt(0, t + RTT + 50, ACK);
        this.t = t + RTT + 60;
    }
}
