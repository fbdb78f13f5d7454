# events.sh - sourced by the test and bench scripts: reading walletwatch's EVE JSON lines.
# shellcheck shell=bash

# stat_of FILE KEY -> the value of walletwatch.KEY in the last stats event (-1 when absent)
stat_of() {
    python3 -c 'import json,sys
st=[json.loads(l) for l in open(sys.argv[1]) if "\"stats\"" in l]
print(st[-1]["walletwatch"].get(sys.argv[2], -1) if st else -1)' "$1" "$2"
}

# alerts_of FILE -> one sorted "rule role observed expected" line per alert
alerts_of() {
    python3 -c 'import json,sys
for l in open(sys.argv[1]):
    e=json.loads(l)
    if e.get("event_type")=="alert":
        a=e["alert"]; print(a["rule"], a.get("role"), a.get("observed"), a.get("expected"))' "$1" | sort
}

# count_alerts FILE -> how many alert events (0 for a missing file)
count_alerts() { grep -c '"event_type":"alert"' "$1" 2>/dev/null || true; }
