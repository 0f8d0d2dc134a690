#!/usr/bin/env bash
# CI: builds every fuzz target with libFuzzer's coverage instrumentation on the stable toolchain (see
# README.md), then runs each one for a fixed time from a temporary copy of its committed seed corpus
# (corpus/<target>/; the checkout is never written to). Prints one line per target with the executions done,
# and exits non-zero on any crash (a panic is one), timeout or out-of-memory, or a target without seeds.
#
# FUZZ_SECONDS (default 20) is each target's run time; FUZZ_JOBS (default 2) how many run at once;
# FUZZ_TARGET_DIR (default ../target/fuzz) the build's target directory, apart from the workspace's since
# every crate is built with other flags.
set -euo pipefail
cd "$(dirname "$0")"
seconds=${FUZZ_SECONDS:-20}
target_dir=${FUZZ_TARGET_DIR:-../target/fuzz}
triple=x86_64-unknown-linux-gnu

# The passes cargo-fuzz adds, minus AddressSanitizer; `--target` keeps them off build scripts and proc macros.
export RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cdebug-assertions -Coverflow-checks"
start=$(date +%s)
cargo build --release --locked --bins --target "$triple" --target-dir "$target_dir"
echo "fuzz: build took $(($(date +%s) - start)) s"
bin_dir="$target_dir/$triple/release"

# Longest input libFuzzer makes per target: a little over the largest message the target decodes, so the
# over-the-limit checks are reached too.
max_len() {
    case "$1" in
    decode_delta) echo 1500 ;;            # a delta is one datagram: MAX_DATAGRAM_LEN = 1,400
    decode_messages | server_packet) echo 4200 ;; # control frames: MAX_FRAME_LEN = 4,096
    *) echo 8192 ;;                       # a stream of datagrams (fragment_reassembly, view_ring_apply)
    esac
}

# One target's run: its log, its one-line summary (result) and its exit status (status) in $work/<target>/.
run_target() {
    local name=$1 dir="$work/$1"
    mkdir -p "$dir/artifacts"
    cp -R "corpus/$name" "$dir/corpus"
    local seeds status runs
    seeds=$(find "$dir/corpus" -type f | wc -l)
    set +e
    "$bin_dir/$name" "$dir/corpus" -max_total_time="$seconds" -max_len="$(max_len "$name")" \
        -rss_limit_mb=512 -timeout=10 -print_final_stats=1 -artifact_prefix="$dir/artifacts/" \
        >"$dir/log" 2>&1
    status=$?
    set -e
    final_stat() { awk -v key="stat::$1:" '$1 == key { print $2 }' "$dir/log"; }
    runs=$(final_stat number_of_executed_units)
    echo "fuzz: $name: ${runs:-?} executions in ${seconds} s ($(final_stat average_exec_per_sec) /s)," \
        "corpus $seeds -> $(find "$dir/corpus" -type f | wc -l) inputs, peak RSS $(final_stat peak_rss_mb) MB," \
        "exit $status" >"$dir/result"
    echo "$status" >"$dir/status"
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=()
targets=()
for src in fuzz_targets/*.rs; do
    name=$(basename "$src" .rs)
    if [ -z "$(ls -A "corpus/$name" 2>/dev/null)" ]; then
        echo "fuzz: $name: no seed corpus in fuzz/corpus/$name (cargo run --bin make_corpus)"
        failed+=("$name")
        continue
    fi
    targets+=("$name")
done
# Two at a time (CI has 2 cores; each fuzzer is one process on one core), results printed in order after.
started=$(date +%s)
for name in "${targets[@]}"; do
    while [ "$(jobs -rp | wc -l)" -ge "${FUZZ_JOBS:-2}" ]; do wait -n || true; done
    run_target "$name" &
done
wait
for name in "${targets[@]}"; do
    cat "$work/$name/result" 2>/dev/null || echo "fuzz: $name: did not run"
    if [ "$(cat "$work/$name/status" 2>/dev/null)" != 0 ]; then
        failed+=("$name")
        tail -n 80 "$work/$name/log"
        # The input that failed, to reproduce it (`base64 -d > crash; ./target crash`) or paste as a test.
        for artifact in "$work/$name/artifacts"/*; do
            [ -f "$artifact" ] || continue
            echo "fuzz: $name: $(basename "$artifact") ($(wc -c <"$artifact") bytes), base64:"
            head -c 16384 "$artifact" | base64
        done
    fi
done
echo "fuzz: ${#targets[@]} targets ran in $(($(date +%s) - started)) s"
if [ "${#failed[@]}" -ne 0 ]; then
    echo "fuzz: FAILED: ${failed[*]}"
    exit 1
fi
echo "fuzz: all targets ran clean"
