#!/usr/bin/env python3
"""HTTP conformance against Wireshark's own captures (../shared/corpus/wireshark).

For each capture, walletwatch replays it with --log-http and its `http` events must give exactly
the HTTP/1.x messages tshark 4.0.17 dissected (the .expected.jsonl files): method and URI of each
request, status of each response, body length and SHA-256 after de-chunking and decompression.
Compared as multisets per capture. Skipped, with a message, where ../shared is absent.
Prints "N passed, N failed[, N skipped]" (one check per capture).
"""
import collections
import json
import os
import subprocess
import sys
import tempfile

BUILD = os.environ.get("WW_BUILD", "build")
WW = os.environ.get("WW_BIN", os.path.join(BUILD, "walletwatch"))
SHARED = os.environ.get("WW_SHARED", "../shared")
CORPUS = os.path.join(SHARED, "corpus", "wireshark")

# capture, key log (None: none or embedded DSB), expected file, what to compare
CASES = [
    ("http.pcap", None, "http.expected.jsonl", "all"),
    ("http-ooo.pcap", None, "http-ooo.expected.jsonl", "all"),
    ("http-ooo2.pcap", None, "http-ooo2.expected.jsonl", "all"),
    ("http-brotli.pcapng", None, "http-brotli.expected.jsonl", "all"),
    ("grpc_web.pcapng.gz", None, "grpc_web.expected.jsonl", "http1"),
    ("challenge01_ooo_stream.pcapng.gz", None, "challenge01_ooo_stream.expected.jsonl", "all"),
    ("tls13-rfc8446.pcap", "tls13-rfc8446.keys", "tls13-rfc8446.expected.jsonl", "all"),
    ("tls13-rfc8446.pcap", "tls13-rfc8446-noearly.keys", "tls13-rfc8446.noearly.expected.jsonl", "all"),
    ("tls12-dsb.pcapng", None, "tls12-dsb.expected.jsonl", "all"),
    # the server's closing FIN is not captured, so tshark never ends the HTTP/1.0 responses:
    # compare the requests only (the responses are checked as TLS plaintext by test_tls)
    ("tls12-chacha20poly1305.pcap", "tls12-chacha20poly1305.keys", "tls12-chacha20poly1305.expected.jsonl", "requests"),
]


def expected_messages(path, what):
    out = []
    for line in open(path):
        r = json.loads(line)
        if r.get("kind") not in ("request", "response") or r.get("proto") != "http1":
            continue
        if what == "requests" and r["kind"] != "request":
            continue
        out.append(key(r["kind"], r.get("method"), r.get("uri"), r.get("status"),
                       r.get("body_len"), r.get("body_sha256")))
    return out


def key(kind, method, uri, status, body_len, sha):
    if not body_len:
        body_len, sha = None, None
    if kind == "request":
        return ("request", method, uri, body_len, sha)
    return ("response", int(status) if status is not None else None, body_len, sha)


def ours(events, what):
    out = []
    for e in events:
        if e.get("event_type") != "http":
            continue
        if e.get("app_proto") not in (None, "http"):
            continue
        h = e["http"]
        if what == "requests" and h["kind"] != "request":
            continue
        out.append(key(h["kind"], h.get("http_method"), h.get("url"), h.get("status"),
                       h.get("body_len"), h.get("body_sha256")))
    return out


def main():
    passed = failed = skipped = 0
    if not os.path.isdir(CORPUS):
        print("SKIP conformance_http: %s is absent (the shared corpus is not beside the checkout)" % CORPUS)
        print("0 passed, 0 failed, %d skipped" % len(CASES))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        for cap, keys, exp, what in CASES:
            name = "%s%s" % (cap, " + " + keys if keys else "")
            cmd = [WW, "--log-http", "--fail-on", "none", "-q", "-o", os.path.join(tmp, "out.jsonl"),
                   "-r", os.path.join(CORPUS, cap)]
            if keys:
                cmd += ["-k", os.path.join(CORPUS, keys)]
            res = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            if res.returncode != 0:
                failed += 1
                print("FAIL %s: exit %d: %s" % (name, res.returncode, res.stderr.strip()[:300]))
                continue
            events = [json.loads(l) for l in open(os.path.join(tmp, "out.jsonl"))]
            got = collections.Counter(ours(events, what))
            want = collections.Counter(expected_messages(os.path.join(CORPUS, exp), what))
            if got == want:
                passed += 1
                print("ok   %s: %d messages" % (name, sum(want.values())))
            else:
                failed += 1
                print("FAIL %s" % name)
                for k in sorted(set(want) | set(got), key=str):
                    if want[k] != got[k]:
                        print("     want %d got %d: %s" % (want[k], got[k], k))
    print("%d passed, %d failed" % (passed, failed) + (", %d skipped" % skipped if skipped else ""))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
