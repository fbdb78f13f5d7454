#!/usr/bin/env python3
"""golden.py - compares one walletwatch run with a golden expectation (called by golden.sh).

    golden.py --name NAME --rc EXIT_STATUS [--log LOG] [--cmd CMD] OUT.jsonl EXPECTED.jsonl

OUT.jsonl is walletwatch's -o output (JSON lines). EXPECTED.jsonl holds one JSON object per
alert that must be raised, e.g.
    {"rule":"known-attacker","chain":"evm","role":"to","observed":"0xfc4a..."}
Checks, all of which must hold (prints "PASS NAME" or "FAIL NAME" and a readable diff):
  - every line of OUT is a JSON object; the run finished with a `stats` event;
  - the `alert` events, seen only through the keys each expected line gives, equal the
    expected lines as a multiset: each expected line is matched by its own alert (bipartite
    matching), and no alert is left over (extra or missing alerts fail). A key is looked up in
    the event's `alert` object first, then at the top level of the event (e.g. "src_ip");
  - an empty EXPECTED (a clean capture) also needs at least one `wallet_call` event, so that
    "no alert" cannot come from a run that decoded nothing;
  - a line with "event_type":"stats" is not an alert: each of its other keys must equal that
    counter of the run's `stats` event, e.g. {"event_type":"stats","tls_undecryptable":2,
    "wallet_calls":0} for a TLS capture replayed without its keys. It replaces the
    `wallet_call` requirement above (it says what was, or was not, decoded);
  - the exit status is 1 when a critical or high alert is expected (severity from the line's
    "severity" key, else from the rule table of SPEC.md), 0 otherwise; a stats line's "exit"
    key overrides it (3: the run is inconclusive, e.g. TLS without keys).
  - stats keys are looked up in the stats event's `walletwatch` object (and `blind.KEY` in its
    blind-spot counters).
Exit status: 0 pass, 1 fail. Deterministic; no state.
"""
import argparse
import json
import sys

SEVERITY = {
    "known-attacker": "critical",
    "lookalike-recipient": "critical",
    "drainer-script": "critical",
    "unrequested-recipient": "high",
    "unlimited-approval": "high",
    "authority-change": "high",
    "bad-checksum": "medium",
}
MISSING = object()


def load_jsonl(path, what, problems):
    rows = []
    try:
        with open(path, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                line = line.strip()
                if not line:
                    continue
                try:
                    obj = json.loads(line)
                except ValueError as e:
                    problems.append(f"{what} {path}:{n}: not JSON ({e}): {line[:120]}")
                    continue
                if not isinstance(obj, dict):
                    problems.append(f"{what} {path}:{n}: not a JSON object")
                    continue
                rows.append(obj)
    except OSError as e:
        problems.append(f"{what} {path}: cannot read ({e.strerror})")
        return None
    return rows


def field(event, key):
    alert = event.get("alert")
    if key == "severity" and isinstance(alert, dict) and "level" in alert:
        return alert["level"]  # EVE's severity is an integer; the word is `level`
    if isinstance(alert, dict) and key in alert:
        return alert[key]
    return event.get(key, MISSING)


def matches(exp, event):
    return all(field(event, k) == v for k, v in exp.items())


def match(expected, alerts):
    """Maximum bipartite matching expected line -> alert (Kuhn). Returns exp index -> alert index."""
    owner = {}  # alert index -> expected index
    cand = [[j for j, a in enumerate(alerts) if matches(e, a)] for e in expected]

    def augment(i, seen):
        for j in cand[i]:
            if j in seen:
                continue
            seen.add(j)
            if j not in owner or augment(owner[j], seen):
                owner[j] = i
                return True
        return False

    for i in range(len(expected)):
        augment(i, set())
    return {i: j for j, i in owner.items()}


def show(obj):
    return json.dumps(obj, sort_keys=False, separators=(",", ":"))


def brief(event):
    a = dict(event.get("alert", {}))
    if "level" in a:  # EVE: severity is an integer, walletwatch's word is `level`
        a["severity"] = a["level"]
    keys = ("rule", "severity", "chain", "role", "observed", "expected", "method", "where")
    short = {k: a[k] for k in keys if k in a}
    if "timestamp" in event:
        short["timestamp"] = event["timestamp"]
    return show(short)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--name", required=True)
    ap.add_argument("--rc", type=int, required=True)
    ap.add_argument("--log")
    ap.add_argument("--cmd", default="")
    ap.add_argument("out")
    ap.add_argument("expected")
    args = ap.parse_args()

    problems = []
    expected = load_jsonl(args.expected, "expected", problems)
    events = load_jsonl(args.out, "output", problems)
    if expected is None:
        expected = []
    if events is None:
        events = []

    stats_exp = [e for e in expected if e.get("event_type") == "stats"]
    expected = [e for e in expected if e.get("event_type") != "stats"]
    last = next((e for e in reversed(events) if e.get("event_type") == "stats"), None)
    stats = None
    if last is not None:  # walletwatch's counters (namespaced beside EVE's own `stats`)
        stats = dict(last.get("stats") or {})
        stats.update(last.get("walletwatch") or {})
        stats.update({"blind." + k: v for k, v in (stats.get("blind") or {}).items()})
    want_exit = None
    for se in stats_exp:
        for k, v in se.items():
            if k == "event_type":
                continue
            if k == "exit":  # the expected exit status (3: inconclusive)
                want_exit = v
                continue
            got = stats.get(k, "(absent)") if isinstance(stats, dict) else "(no stats)"
            if got != v:
                problems.append(f"stats {k} = {got}, expected {v}")

    alerts = [e for e in events if e.get("event_type") == "alert"]
    calls = [e for e in events if e.get("event_type") == "wallet_call"]
    if events and not any(e.get("event_type") == "stats" for e in events):
        problems.append("output has no `stats` event (the run did not finish)")

    m = match(expected, alerts)
    used = set(m.values())
    missing = [expected[i] for i in range(len(expected)) if i not in m]
    extra = [alerts[j] for j in range(len(alerts)) if j not in used]
    for e in missing:
        problems.append(f"missing alert:    {show(e)}")
    for a in extra:
        problems.append(f"unexpected alert: {brief(a)}")

    if not expected and not stats_exp and not calls and events:
        problems.append("clean capture but no `wallet_call` event: nothing was decoded")

    want_rc = 0
    for e in expected:
        sev = e.get("severity") or SEVERITY.get(e.get("rule"), "high")
        if sev in ("critical", "high"):
            want_rc = 1
    if want_exit is not None:
        want_rc = want_exit
    if args.rc != want_rc:
        problems.append(f"exit status {args.rc}, expected {want_rc}")

    if not problems:
        print(f"PASS {args.name}: {len(alerts)} alert(s) as expected, "
              f"{len(calls)} wallet call(s), exit {args.rc}")
        return 0
    print(f"FAIL {args.name}: {len(m)}/{len(expected)} expected alerts matched, "
          f"{len(extra)} unexpected, exit {args.rc}")
    if args.cmd:
        print(f"  command: {args.cmd}")
    for p in problems:
        print(f"  {p}")
    if alerts and (missing or extra):
        print("  alerts raised:")
        for a in alerts:
            print(f"    {brief(a)}")
    if args.log and (args.rc not in (0, 1) or not events):
        try:
            with open(args.log, encoding="utf-8", errors="replace") as f:
                tail = f.read().splitlines()[-10:]
            if tail:
                print("  walletwatch said:")
                for line in tail:
                    print(f"    {line}")
        except OSError:
            pass
    return 1


if __name__ == "__main__":
    sys.exit(main())
