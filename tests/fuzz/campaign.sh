#!/bin/sh
# campaign.sh - a recorded libFuzzer campaign: one fuzzer at a time, each on a scratch corpus
# seeded from tests/corpus/<target>, every run logged (the command, executions, exec/s, CPU
# seconds, new inputs, crashes) in build-fuzz/campaign/runs.tsv and its full output kept.
#
#   tests/fuzz/campaign.sh fuzz_rlp:2000000 fuzz_tls:600s ...
#
# TARGET:N runs N inputs (-runs=N, with a safety time cap); TARGET:Ns runs N seconds.
# Crash / leak / UB reproducers land in build-fuzz/campaign/artifacts/. Needs `make fuzz`.
set -u
B=${B:-build-fuzz}
C=${C:-$B/campaign}
mkdir -p "$C/corpus" "$C/artifacts" "$C/logs"
[ -f "$C/runs.tsv" ] ||
    printf 'start_utc\ttarget\texecs\texec_per_s\tcpu_s\tnew_units\tcov\tstatus\tcommand\n' >"$C/runs.tsv"
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
    *) lim="-runs=$n -max_total_time=3600" ;;
    esac
    start=$(date -u +%Y-%m-%dT%H:%M:%SZ)
    log=$C/logs/$t.$(date -u +%H%M%S).log
    cmd="nice -n 19 $bin $lim -print_final_stats=1 -artifact_prefix=$C/artifacts/$t- $cd_"
    echo "== $start $cmd"
    /usr/bin/time -f 'cpu %U %S' -o "$log.time" $cmd >"$log" 2>&1
    rc=$?
    ex=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    nu=$(sed -n 's/^stat::new_units_added: *//p' "$log" | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
    cpu=$(awk '/^cpu/ {printf "%.1f", $2 + $3}' "$log.time")
    st=ok
    [ "$rc" -eq 0 ] || st="FAIL(rc=$rc)"
    grep -q 'ERROR: AddressSanitizer\|ERROR: LeakSanitizer\|runtime error:\|deadly signal\|ERROR: libFuzzer' "$log" && st="CRASH(rc=$rc)"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$start" "$t" "${ex:-0}" "${rate:-0}" \
        "${cpu:-0}" "${nu:-0}" "${cov:-?}" "$st" "$cmd" >>"$C/runs.tsv"
    tail -1 "$C/runs.tsv"
done
