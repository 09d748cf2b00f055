#!/bin/bash
# Runs the libFuzzer targets of a VITAE_FUZZ build (`make fuzz`), each for SECONDS over a
# copy of its corpus, and prints per target: executions, executions per second, coverage
# (libFuzzer's cov: and ft:), corpus size and crashes.
#
#   tests/fuzz/run.sh BUILD_DIR SECONDS [TARGET...]
#
# Work files live in BUILD_DIR/fuzz-work: corpus/<t> (the committed corpus and the shared
# seeds, plus what the fuzzer adds; not the regressions, which would stop every run of a
# target whose bug is still open), artifacts/<t> (crash-*, leak-*, timeout-*,
# oom-*), logs/<t>.log, and report.txt (the table). The source tree is never written.
# After a crash the target restarts with the time left, at most FUZZ_RESTARTS (50) times.
# FUZZ_JOBS (default 1) targets run at once. Exits 1 when any target crashed.
set -u

if [ $# -lt 2 ]; then
    echo "usage: $0 BUILD_DIR SECONDS [TARGET...]" >&2
    exit 64
fi
build=$(cd "$1" && pwd)
seconds=$2
shift 2
src=$(cd "$(dirname "$0")" && pwd)
shared=${VITAE_SHARED:-$src/../../../shared}
manifest=$build/fuzz/targets.txt
work=$build/fuzz-work
jobs=${FUZZ_JOBS:-1}
restarts=${FUZZ_RESTARTS:-50}

if [ ! -f "$manifest" ]; then
    echo "run.sh: no $manifest; configure with -C tests/fuzz/cache.cmake and build fuzz-all" >&2
    exit 66
fi
mkdir -p "$work/corpus" "$work/artifacts" "$work/logs" "$work/stats"

# Copies the files of a folder (or one file) into a corpus folder, keeping existing ones.
seed_from() {
    local from=$1 to=$2
    if [ -d "$from" ]; then
        find "$from" -maxdepth 1 -type f ! -name '.*' -exec cp -n {} "$to/" \;
    elif [ -f "$from" ]; then
        cp -n "$from" "$to/"
    fi
}

# Fuzzes one target and writes its figures to stats/<t>: execs seconds cov ft corpus crashes.
fuzz_one() {
    local name=$1
    shift
    local bin=$build/fuzz/fuzz_$name corpus=$work/corpus/$name
    local artifacts=$work/artifacts/$name log=$work/logs/$name.log
    mkdir -p "$corpus" "$artifacts"
    find "$artifacts" -type f -delete
    seed_from "$src/corpus/$name" "$corpus"
    local rel
    for rel in "$@"; do
        seed_from "$shared/$rel" "$corpus"
    done
    : >"$log"
    local left=$seconds runs=0 start now
    start=$(date +%s)
    while [ "$left" -gt 0 ] && [ "$runs" -le "$restarts" ]; do
        "$bin" -max_total_time="$left" -print_final_stats=1 -timeout=25 -rss_limit_mb=2560 \
            -artifact_prefix="$artifacts/" "$corpus" >>"$log" 2>&1 && break
        runs=$((runs + 1))
        now=$(date +%s)
        left=$((seconds - (now - start)))
    done
    now=$(date +%s)
    # Executions: each run's final stat line, or its last "#N" status line when it crashed.
    awk -v secs=$((now - start)) -v crashes="$(find "$artifacts" -type f | wc -l)" '
        /^INFO: Seed:/ { total += (units > last ? units : last); units = 0; last = 0 }
        /^#[0-9]+/ { n = substr($1, 2) + 0; if (n > last) last = n }
        /^stat::number_of_executed_units:/ { units = $2 + 0 }
        / cov: / {
            for (i = 1; i <= NF; i++) {
                if ($i == "cov:") cov = $(i + 1)
                if ($i == "ft:") ft = $(i + 1)
                if ($i == "corp:") { split($(i + 1), c, "/"); corp = c[1] }
            }
        }
        END {
            total += (units > last ? units : last)
            printf "%d %d %s %s %s %d\n", total, secs, cov ? cov : "-", ft ? ft : "-",
                   corp ? corp : "-", crashes
        }' "$log" >"$work/stats/$name"
}

targets=()
while read -r name rest; do
    [ -n "$name" ] || continue
    if [ $# -gt 0 ]; then
        case " $* " in
        *" $name "*) ;;
        *) continue ;;
        esac
    fi
    targets+=("$name")
    read -r -a seeds <<<"$rest"
    echo "run.sh: fuzzing $name for ${seconds}s" >&2
    fuzz_one "$name" "${seeds[@]}" &
    if [ "$(jobs -r | wc -l)" -ge "$jobs" ]; then
        wait -n
    fi
done <"$manifest"
wait

crashed=0
printf '%-15s %12s %9s %7s %7s %7s %8s\n' target execs exec/s cov ft corpus crashes \
    >"$work/report.txt"
for name in "${targets[@]}"; do
    read -r execs secs cov ft corp crashes <"$work/stats/$name"
    [ "$secs" -gt 0 ] || secs=1
    printf '%-15s %12d %9d %7s %7s %7s %8d\n' "$name" "$execs" $((execs / secs)) "$cov" "$ft" \
        "$corp" "$crashes" >>"$work/report.txt"
    [ "$crashes" -eq 0 ] || crashed=1
done
cat "$work/report.txt"
if [ "$crashed" -ne 0 ]; then
    echo "run.sh: crashes found; save each input as tests/fuzz/regress/<target>/<name>:" >&2
    for name in "${targets[@]}"; do
        find "$work/artifacts/$name" -type f | sort >&2
    done
    exit 1
fi
exit 0
