#!/usr/bin/env python3
"""HTTP conformance against Wireshark's own captures (../shared/corpus/wireshark).

For each capture, walletwatch replays it with --log-http and its `http` events must give exactly
the HTTP/1.x and HTTP/2 messages tshark 4.0.17 dissected (the .expected.jsonl files): method and
URI (:path) of each request, status of each response, body length and SHA-256 after de-chunking,
DATA reassembly and decompression; HTTP/2 messages also by stream id.
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
    ("grpc_web.pcapng.gz", None, "grpc_web.expected.jsonl", "all"),
    ("http2-data-reassembly.pcap", "http2-data-reassembly.keys", "http2-data-reassembly.expected.jsonl", "all"),
    ("http2-brotli.pcapng", None, "http2-brotli.expected.jsonl", "all"),
    ("http2-brotli.pcapng", "http2-brotli.dsb.keys", "http2-brotli.expected.jsonl", "all"),
    ("http2_follow_multistream.pcapng", None, "http2_follow_multistream.expected.jsonl", "all"),
    ("http2_follow_multistream.pcapng", "http2_follow_multistream.dsb.keys", "http2_follow_multistream.expected.jsonl", "all"),
    ("packet-h2-14_headers.pcapng", None, "packet-h2-14_headers.expected.jsonl", "all"),
    ("grpc_person_search_json_with_image.pcapng.gz", None, "grpc_person_search_json_with_image.expected.jsonl", "all"),
    ("grpc_stream_reassembly_sample.pcapng.gz", None, "grpc_stream_reassembly_sample.expected.jsonl", "all"),
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
        if r.get("kind") not in ("request", "response") or r.get("proto") not in ("http1", "http2"):
            continue
        if what == "requests" and r["kind"] != "request":
            continue
        h2 = r["proto"] == "http2"
        out.append(key(r["proto"], r["kind"], r.get("method"), r.get("path" if h2 else "uri"),
                       r.get("status"), r.get("body_len"), r.get("body_sha256"),
                       r.get("h2_stream")))
    return out


def key(proto, kind, method, uri, status, body_len, sha, stream):
    if not body_len:
        body_len, sha = None, None
    if kind == "request":
        return (proto, "request", stream, method, uri, body_len, sha)
    return (proto, "response", stream, int(status) if status is not None else None, body_len, sha)


def ours(events, what):
    out = []
    for e in events:
        if e.get("event_type") != "http":
            continue
        if e.get("app_proto") not in (None, "http", "http2"):
            continue
        h = e["http"]
        if what == "requests" and h["kind"] != "request":
            continue
        proto = "http2" if e.get("app_proto") == "http2" else "http1"
        out.append(key(proto, h["kind"], h.get("http_method"), h.get("url"), h.get("status"),
                       h.get("body_len"), h.get("body_sha256"), h.get("stream_id")))
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
            cmd = [WW, "--log-http", "--fail-on", "none", "-q", "-o", os.path.join(tmp, "out.jsonl"), "--truncate",
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
