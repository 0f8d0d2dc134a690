#!/usr/bin/env bash
# CI: builds every fuzz target with libFuzzer's coverage instrumentation on the stable toolchain (see
# README.md), then runs each one for a fixed time from a temporary copy of its committed seed corpus
# (corpus/<target>/; the checkout is never written to). Prints one line per target with the executions done,
# and exits non-zero on any crash (a panic is one), timeout or out-of-memory, or a target without seeds.
#
# FUZZ_SECONDS (default 20) is each target's run time; FUZZ_TARGET_DIR (default ../target/fuzz) the build's
# target directory, apart from the workspace's since every crate is built with other flags.
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

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=()
for src in fuzz_targets/*.rs; do
    name=$(basename "$src" .rs)
    if [ -z "$(ls -A "corpus/$name" 2>/dev/null)" ]; then
        echo "fuzz: $name: no seed corpus in fuzz/corpus/$name (cargo run --bin make_corpus)"
        failed+=("$name")
        continue
    fi
    mkdir -p "$work/$name/artifacts"
    cp -R "corpus/$name" "$work/$name/corpus"
    seeds=$(find "$work/$name/corpus" -type f | wc -l)
    log="$work/$name/log"
    set +e
    "$bin_dir/$name" "$work/$name/corpus" -max_total_time="$seconds" -max_len="$(max_len "$name")" \
        -rss_limit_mb=512 -timeout=10 -print_final_stats=1 -artifact_prefix="$work/$name/artifacts/" \
        >"$log" 2>&1
    status=$?
    set -e
    final_stat() { awk -v key="stat::$1:" '$1 == key { print $2 }' "$log"; }
    runs=$(final_stat number_of_executed_units)
    echo "fuzz: $name: ${runs:-?} executions in ${seconds} s ($(final_stat average_exec_per_sec) /s)," \
        "corpus $seeds -> $(find "$work/$name/corpus" -type f | wc -l) inputs, peak RSS $(final_stat peak_rss_mb) MB," \
        "exit $status"
    if [ "$status" -ne 0 ]; then
        failed+=("$name")
        tail -n 80 "$log"
        # The input that failed, to reproduce it (`base64 -d > crash; ./target crash`) or paste as a test.
        for artifact in "$work/$name/artifacts"/*; do
            [ -f "$artifact" ] || continue
            echo "fuzz: $name: $(basename "$artifact") ($(wc -c <"$artifact") bytes), base64:"
            head -c 16384 "$artifact" | base64
        done
    fi
done
if [ "${#failed[@]}" -ne 0 ]; then
    echo "fuzz: FAILED: ${failed[*]}"
    exit 1
fi
echo "fuzz: all targets ran clean"
