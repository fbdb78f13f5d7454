#!/bin/sh
# campaign.sh - a recorded libFuzzer campaign: one fuzzer at a time, each on a scratch corpus
# seeded from tests/corpus/<target>, every run logged (the command, executions, exec/s, CPU
# seconds, new inputs, crashes) in build-fuzz/campaign/runs.tsv and its full output kept in
# build-fuzz/campaign/logs/.
#
#   tests/fuzz/campaign.sh fuzz_rlp:2000000 fuzz_tls:600s ...
#   tests/fuzz/campaign.sh --record LOG        (adds the row of a run whose row is missing)
#   tests/fuzz/campaign.sh --summary           (executions and CPU time per target and family)
#
# TARGET:N runs N inputs (-runs=N, with a safety time cap: CAP seconds, default 3600);
# TARGET:Ns runs N seconds.
# Crash / leak / UB reproducers land in build-fuzz/campaign/artifacts/. Needs `make fuzz`.
# Fuzzers run under nice -n 19 (the machine is shared); CPU seconds are user+sys.
set -u
B=${B:-build-fuzz}
C=${C:-$B/campaign}
mkdir -p "$C/corpus" "$C/artifacts" "$C/logs"
[ -f "$C/runs.tsv" ] ||
    printf 'start_utc\ttarget\texecs\texec_per_s\tcpu_s\tnew_units\tcov\tstatus\tcommand\n' >"$C/runs.tsv"

# record TARGET LOG RC START CMD: one row of runs.tsv from a run's output
record() {
    t=$1 log=$2 rc=$3 start=$4 cmd=$5
    ex=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    nu=$(sed -n 's/^stat::new_units_added: *//p' "$log" | tail -1)
    cov=$(grep -ao 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
    cpu=$(awk '/^cpu/ {printf "%.1f", $2 + $3}' "$log.time" 2>/dev/null)
    st=ok
    [ "$rc" = 0 ] || st="FAIL(rc=$rc)"
    # 72: libFuzzer's exit code when SIGINT stopped it (it still printed its final stats)
    [ "$rc" = 72 ] && grep -aq 'run interrupted' "$log" && st="stopped(rc=72)"
    grep -aq 'ERROR: AddressSanitizer\|ERROR: LeakSanitizer\|runtime error:\|deadly signal\|ERROR: libFuzzer' "$log" &&
        st="CRASH(rc=$rc)"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$start" "$t" "${ex:-0}" "${rate:-0}" \
        "${cpu:-0}" "${nu:-0}" "${cov:-?}" "$st" "$cmd" >>"$C/runs.tsv"
    tail -1 "$C/runs.tsv"
}

family() {
    case $1 in
    fuzz_pcap | fuzz_pktdec | fuzz_tcp | fuzz_keylog) echo capture ;;
    fuzz_tls | fuzz_quic) echo tls-quic ;;
    fuzz_http1 | fuzz_h2 | fuzz_h3 | fuzz_ws | fuzz_coding | fuzz_app) echo http ;;
    fuzz_jsonrpc | fuzz_typeddata) echo json-rpc ;;
    fuzz_calldata | fuzz_evm_tx | fuzz_rlp | fuzz_solana | fuzz_userop | fuzz_abiwords) echo wallet ;;
    fuzz_addr_scan | fuzz_addrdb | fuzz_registry | fuzz_baseline | fuzz_expect) echo addresses ;;
    fuzz_detect | fuzz_writers | fuzz_evidence | fuzz_pipeline) echo detection-outputs ;;
    fuzz_decode_cli | fuzz_redisurl) echo cli ;;
    *) echo other ;;
    esac
}

if [ "${1:-}" = --record ]; then
    log=$2
    t=$(basename "$log" | cut -d. -f1)
    cmd=$(sed -n 's/^cmd: //p' "$log.cmd" 2>/dev/null)
    record "$t" "$log" "$(cat "$log.rc" 2>/dev/null || echo '?')" \
        "$(sed -n 's/^start: //p' "$log.cmd" 2>/dev/null)" "${cmd:-?}"
    exit 0
fi
if [ "${1:-}" = --summary ]; then
    tail -n +2 "$C/runs.tsv" | while IFS='	' read -r _ t ex _ cpu _ _ st _; do
        printf '%s\t%s\t%s\t%s\t%s\n' "$(family "$t")" "$t" "$ex" "$cpu" "$st"
    done | sort | awk -F'\t' '
        { ex[$1] += $3; cpu[$1] += $4; te[$1 "\t" $2] += $3; tc[$1 "\t" $2] += $4
          if ($5 == "FAIL(rc=72)") $5 = "stopped(rc=72)" # SIGINT (recorded before the label)
          if ($5 != "ok") bad[$1] = bad[$1] " " $2 ":" $5 }
        END { for (k in te) printf "  %s\t%d\t%.0f\n", k, te[k], tc[k]
              for (f in ex) printf "%s\tTOTAL\t%d\t%.0f\t%s\n", f, ex[f], cpu[f], bad[f] }' | sort
    exit 0
fi

for spec in "$@"; do
    t=${spec%%:*}
    n=${spec#*:}
    bin=$B/$t
    [ -x "$bin" ] || { echo "no $bin (make fuzz)" >&2; exit 2; }
    cd_=$C/corpus/$t
    if [ ! -d "$cd_" ]; then
        mkdir -p "$cd_"
        cp tests/corpus/"$t"/* "$cd_"/ 2>/dev/null
    fi
    case $n in
    *s) lim="-max_total_time=${n%s}" ;;
    *) lim="-runs=$n -max_total_time=${CAP:-3600}" ;;
    esac
    start=$(date -u +%Y-%m-%dT%H:%M:%SZ)
    log=$C/logs/$t.$(date -u +%H%M%S).log
    cmd="nice -n 19 $bin $lim -print_final_stats=1 -artifact_prefix=$C/artifacts/$t- $cd_"
    printf 'start: %s\ncmd: %s\n' "$start" "$cmd" >"$log.cmd"
    echo "== $start $cmd"
    /usr/bin/time -f 'cpu %U %S' -o "$log.time" $cmd >"$log" 2>&1
    rc=$?
    echo $rc >"$log.rc"
    record "$t" "$log" $rc "$start" "$cmd"
done
