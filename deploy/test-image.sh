#!/usr/bin/env bash
# Tests the arena-server container image as far as this machine allows, from any directory:
#
#   1. installs podman, curl, openssl and python3-yaml with apt-get when missing (needs root, as on CI), and
#      checks the Agones manifests (deploy/check-manifests.py: they parse, use fields Agones knows, agree
#      with the image and with each other),
#   2. builds the static binary and the image (deploy/build-image.sh),
#   3. tries `podman run` once: in a sandbox without the right to set rlimits it fails, which is recorded
#      and printed, not a failure of this test,
#   4. inspects the image: non-root user, environment of ARENA_* settings only, ports exposed, entrypoint,
#      /data owned by that user, size,
#   5. extracts the binary from the image (podman create + podman cp) and lists the image's files (podman
#      export) to see who owns /data,
#   6. gets a bot: `cargo build -p arena-client`, or the binary ARENA_CLIENT names,
#   7. runs the extracted binary outside a container with exactly the image's entrypoint, command and
#      environment (`env -i`: nothing else), as the image's user when run as root, in a data directory owned
#      by that user and as working directory, with only these overrides: ARENA_BIND and ARENA_METRICS_BIND
#      on 127.0.0.1 port 0 (a free port each, printed by the server, instead of 0.0.0.0:4433 and
#      0.0.0.0:9000), ARENA_DATA_DIR a temporary directory standing for /data; twice:
#      a. as the image is (a generated self-signed certificate): /readyz and /healthz answer 200, the bot
#         pinning the printed cert-sha256 plays 5 s and exits 0, the logs are JSON, the certificate was
#         written to the data directory, SIGTERM ends the server with 0 (within the 30 s drain + 15 s);
#      b. as deploy/agones/fleet.yaml runs it, adding ARENA_CERT and ARENA_KEY (a certificate made with
#         openssl, files of mode 0440 and the image's group, as a Secret volume with fsGroup mounts them):
#         the printed hash is that certificate's, the bot trusting the PEM by name (--cert, --server-name)
#         plays 2 s, SIGTERM ends the server with 0.
#
# ARENA_CLIENT=path/to/arena-client uses that bot binary (CI passes the one `cargo test` just built);
# otherwise `cargo build -p arena-client` builds one (debug; its dependencies are optimised anyway).
# Every wait is bounded (the cargo builds aside); every process it starts is ended when it exits, however it
# exits. About 75 s here with the binaries already built (see deploy/README.md for the times).
# The last line is "image: N passed, N failed".
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
[ -z "${ARENA_CLIENT:-}" ] || ARENA_CLIENT=$(realpath "$ARENA_CLIENT") # relative to the caller's directory
cd "$root"
started=$(date +%s)

passed=0
ok() {
    passed=$((passed + 1))
    echo "test-image: ok: $*"
}
fail() {
    echo "test-image: FAIL: $*" >&2
    echo "image: $passed passed, 1 failed"
    exit 1
}

tmp=$(mktemp -d)
chmod 0755 "$tmp" # the server runs as the image's user, who must reach the binary and the data directory
server_pid=
bot_pid=
http=
tag=$$
cleanup() {
    # The bot runs under `timeout`, which passes SIGTERM on to it; the server is killed outright (a SIGTERM
    # would start its drain, up to 30 s).
    if [ -n "$bot_pid" ] && kill -0 "$bot_pid" 2> /dev/null; then
        kill -TERM "$bot_pid" 2> /dev/null || true
        wait "$bot_pid" 2> /dev/null || true
    fi
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2> /dev/null; then
        kill -KILL "$server_pid" 2> /dev/null || true
        wait "$server_pid" 2> /dev/null || true
    fi
    if command -v podman > /dev/null; then
        podman rm -f "arena-test-run-$tag" "arena-test-extract-$tag" > /dev/null 2>&1 || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# 1. Tools. Debian's podman (with crun, conmon and the storage and network helpers it depends on); curl for
#    the HTTP checks; openssl for the certificate of 7b; PyYAML for Debian's python3 (check-manifests.py).
missing=()
command -v podman > /dev/null || missing+=(podman)
command -v curl > /dev/null || missing+=(curl)
command -v openssl > /dev/null || missing+=(openssl)
/usr/bin/python3 -c 'import yaml' > /dev/null 2>&1 || missing+=(python3-yaml)
if [ ${#missing[@]} -gt 0 ]; then
    [ "$(id -u)" -eq 0 ] || fail "needs ${missing[*]}; run as root (apt-get) or install them"
    echo "test-image: installing ${missing[*]} (apt-get)"
    t=$(date +%s)
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"; } \
        > "$tmp/apt.log" 2>&1; then
        tail -20 "$tmp/apt.log" >&2
        fail "apt-get install ${missing[*]}"
    fi
    echo "test-image: installed in $(($(date +%s) - t)) s: $(podman --version)"
fi

# 1b. The Agones manifests: they parse, use fields Agones knows, and agree with the image and each other.
/usr/bin/python3 deploy/check-manifests.py > "$tmp/manifests.log" 2>&1 || { cat "$tmp/manifests.log" >&2; fail "deploy/check-manifests.py"; }
ok "deploy/agones/*.yaml: $(tail -1 "$tmp/manifests.log")"

# 2. The static binary and the image.
t=$(date +%s)
echo "test-image: building the static binary and the image (deploy/build-image.sh)"
bash deploy/build-image.sh > "$tmp/build.log" 2>&1 || { tail -30 "$tmp/build.log" >&2; fail "deploy/build-image.sh"; }
grep '^build-image:' "$tmp/build.log"
image_secs=$(($(date +%s) - t))
ref=$(sed -n 's/^build-image: image \([^ ]*\) .*/\1/p' "$tmp/build.log")
[ -n "$ref" ] || fail "build-image.sh named no image"
ok "built $ref in $image_secs s"

inspect() { podman image inspect --format "$1" "$ref"; }

# 3. One try at running a container (`--version` exits at once where containers run).
if run_out=$(timeout 120 podman run --rm --name "arena-test-run-$tag" --network none "$ref" --version 2>&1); then
    run_result="podman run works here: $run_out"
else
    run_result="podman run failed here (exit $?): $run_out"
fi
echo "test-image: $run_result"

# 4. What the image says about itself.
user=$(inspect '{{.Config.User}}')
uid=${user%%:*}
case "$uid" in
    '' | 0 | root) fail "the image runs as root (User '$user')" ;;
    *[!0-9]*) fail "User '$user' is not numeric (a scratch image has no /etc/passwd to resolve a name)" ;;
esac
ok "runs as a non-root user ($user)"

entrypoint=()
while IFS= read -r line; do [ -n "$line" ] && entrypoint+=("$line"); done < <(inspect '{{range .Config.Entrypoint}}{{println .}}{{end}}')
cmd=()
while IFS= read -r line; do [ -n "$line" ] && cmd+=("$line"); done < <(inspect '{{range .Config.Cmd}}{{println .}}{{end}}')
[ "${entrypoint[*]}" = /arena-server ] || fail "Entrypoint is [${entrypoint[*]}], not [/arena-server]"
[ ${#cmd[@]} -eq 0 ] || fail "Cmd is [${cmd[*]}]: the image is meant to be configured by its environment only"
ok "entrypoint [/arena-server], no command"

env=()
while IFS= read -r line; do [ -n "$line" ] && env+=("$line"); done < <(inspect '{{range .Config.Env}}{{println .}}{{end}}')
for kv in "${env[@]}"; do
    [[ "$kv" =~ ^ARENA_[A-Z0-9_]+= ]] || fail "the image's environment holds '$kv', not an ARENA_* setting"
done
for want in ARENA_BIND=0.0.0.0:4433 ARENA_METRICS_BIND=0.0.0.0:9000 ARENA_DATA_DIR=/data ARENA_LOG_FORMAT=json ARENA_WEB_BIND=off; do
    printf '%s\n' "${env[@]}" | grep -qx "$want" || fail "the image's environment lacks $want"
done
ok "environment: ${env[*]}"

ports=$(inspect '{{range $p, $v := .Config.ExposedPorts}}{{$p}} {{end}}')
ports=${ports% }
for want in 4433/udp 9000/tcp; do
    [[ " $ports " == *" $want "* ]] || fail "port $want is not exposed (exposed: $ports)"
done
ok "exposes $ports"

size=$(inspect '{{.Size}}')
size_mb=$(awk -v s="$size" 'BEGIN { printf "%.1f", s / 1000000 }')
[ "$size" -lt 50000000 ] || fail "the image is $size_mb MB; a stripped static server is about 10"
ok "size $size_mb MB"

# 5. The binary out of the image, and the ownership of /data in it.
podman create --name "arena-test-extract-$tag" "$ref" > /dev/null
mkdir -p "$tmp/rootfs"
podman cp "arena-test-extract-$tag:${entrypoint[0]}" "$tmp/rootfs/"
podman export "arena-test-extract-$tag" | tar -tv --numeric-owner > "$tmp/rootfs.list"
podman rm "arena-test-extract-$tag" > /dev/null
binary="$tmp/rootfs/$(basename "${entrypoint[0]}")"
[ -x "$binary" ] || fail "no executable ${entrypoint[0]} in the image"
case "$(ldd "$binary" 2>&1 || true)" in
    *"statically linked"* | *"not a dynamic executable"*) ;;
    *) fail "${entrypoint[0]} is not statically linked" ;;
esac
grep -Eq "^d[rwx-]{9} $uid/[0-9]+ .* data/?$" "$tmp/rootfs.list" \
    || fail "/data in the image is not owned by $uid: $(grep ' data/' "$tmp/rootfs.list" || echo missing)"
ok "extracted ${entrypoint[0]} (static); /data owned by $uid"

# 6. The bot's binary.
t=$(date +%s)
if [ -n "${ARENA_CLIENT:-}" ]; then
    client=$ARENA_CLIENT
    client_how="given ($client)"
else
    cargo build --locked -p arena-client > "$tmp/client-build.log" 2>&1 || { tail -30 "$tmp/client-build.log" >&2; fail "cargo build -p arena-client"; }
    client=target/debug/arena-client
    client_how="cargo build -p arena-client, $(($(date +%s) - t)) s"
fi
[ -x "$client" ] || fail "no bot binary at $client"

# 7. The extracted server with the image's entrypoint, command and environment, and nothing else but the
#    overrides named in each run (given as NAME=VALUE arguments; they replace the image's value or add one).
as_user=()
who="uid $(id -u) (not root: cannot switch to $user)"
if [ "$(id -u)" -eq 0 ] && command -v setpriv > /dev/null; then
    as_user=(setpriv "--reuid=$uid" "--regid=${user#*:}" --clear-groups)
    who="uid $user"
fi
start_server() { # NAME=VALUE...: sets server_pid, game, hash, http
    local run_env=() kv o name
    for kv in "${env[@]}"; do
        name=${kv%%=*}
        for o in "$@"; do [ "${o%%=*}" = "$name" ] && kv=$o; done
        run_env+=("$kv")
    done
    for o in "$@"; do printf '%s\n' "${run_env[@]}" | grep -q "^${o%%=*}=" || run_env+=("$o"); done
    : > "$tmp/server.out"
    (cd "$tmp/data" && exec "${as_user[@]}" env -i "${run_env[@]}" "$binary" "${cmd[@]}") \
        > "$tmp/server.out" 2> "$tmp/server.err" &
    server_pid=$!
    echo "test-image: started the extracted server (pid $server_pid, $who, cwd the data directory as the image's WorkingDir) with: ${run_env[*]}"
    for _ in $(seq 300); do
        [ "$(wc -l < "$tmp/server.out")" -ge 2 ] && break
        kill -0 "$server_pid" 2> /dev/null || break
        sleep 0.1
    done
    local first second
    first=$(sed -n 1p "$tmp/server.out")
    second=$(sed -n 2p "$tmp/server.out")
    [[ "$first" =~ ^listening\ on\ ([0-9.]+:[0-9]+)\ cert-sha256\ ([0-9a-f]{64})$ ]] \
        || { cat "$tmp/server.err" >&2; fail "the server's first line is '$first'"; }
    game=${BASH_REMATCH[1]}
    hash=${BASH_REMATCH[2]}
    [[ "$second" =~ ^metrics\ on\ ([0-9.]+:[0-9]+)$ ]] || fail "the server's second line is '$second'"
    http=${BASH_REMATCH[1]}
    ok "server listening on $game (UDP), HTTP on $http, cert-sha256 $hash"
}
stop_server() { # SIGTERM, then exit 0 within the drain (ARENA_DRAIN_SECS, 30 s by default) and a margin
    local rc= t0
    t0=$(date +%s%N)
    kill -TERM "$server_pid"
    for _ in $(seq 450); do
        kill -0 "$server_pid" 2> /dev/null || { wait "$server_pid" && rc=0 || rc=$?; break; }
        sleep 0.1
    done
    [ -n "$rc" ] || fail "the server did not exit within 45 s of SIGTERM"
    server_pid=
    [ "$rc" -eq 0 ] || { tail -5 "$tmp/server.err" >&2; fail "the server exited $rc after SIGTERM"; }
    ok "SIGTERM: exit 0 after $((($(date +%s%N) - t0) / 1000000)) ms"
}
status() { curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://$http$1" || true; }
bot() { # SECONDS CLIENT-FLAGS...: a headless bot, which must exit 0 with snapshots received
    local secs=$1 rc
    shift
    timeout $((secs + 60)) "$client" --server "$game" "$@" --bot --duration "$secs" --name image-test \
        > "$tmp/bot.out" 2> "$tmp/bot.err" &
    bot_pid=$!
    sleep 2
    if [ -n "$http" ]; then
        live=$(status /healthz)
        [ "$live" = 200 ] || fail "/healthz answered '$live' with a bot playing"
        ok "/healthz 200 (a bot playing)"
    fi
    if wait "$bot_pid"; then rc=0; else rc=$?; fi
    bot_pid=
    [ "$rc" -eq 0 ] || { tail -5 "$tmp/bot.err" >&2; fail "the bot exited $rc"; }
    grep -q '"snapshots":[1-9]' "$tmp/bot.out" || fail "the bot got no snapshot: $(cat "$tmp/bot.out")"
    ok "bot played $secs s with $* and exited 0: $(tail -c 300 "$tmp/bot.out" | tr -d '\n')"
}

# 7a. As the image is, with a generated self-signed certificate in the data directory.
mkdir -p "$tmp/data"
[ ${#as_user[@]} -eq 0 ] || chown "$user" "$tmp/data" # owned by the image's user, like the image's /data
start_server ARENA_BIND=127.0.0.1:0 ARENA_METRICS_BIND=127.0.0.1:0 "ARENA_DATA_DIR=$tmp/data"
ready=
for _ in $(seq 100); do
    ready=$(status /readyz)
    [ "$ready" = 200 ] && break
    sleep 0.1
done
[ "$ready" = 200 ] || fail "/readyz answered '$ready' for 10 s"
ok "/readyz 200"
bot 5 --cert-sha256 "$hash"
[ -s "$tmp/server.err" ] || fail "the server logged nothing"
if grep -qv '^{' "$tmp/server.err"; then fail "a log line is not JSON: $(grep -v '^{' "$tmp/server.err" | head -1)"; fi
ok "$(wc -l < "$tmp/server.err") log lines, all JSON"
[ -n "$(ls -A "$tmp/data")" ] || fail "the server wrote nothing to its data directory"
ok "data directory written by $who: $(ls "$tmp/data" | tr '\n' ' ')"
rss=$(awk '/^VmHWM/ { print $2 }' "/proc/$server_pid/status" 2> /dev/null || true)
ok "peak RSS ${rss:-?} kB"
stop_server

# 7b. As the Fleet runs it (deploy/agones/fleet.yaml): the certificate and key from a Secret, mounted
#     read-only with mode 0440 and the image's group (fsGroup), named by ARENA_CERT and ARENA_KEY. The
#     printed hash must be the certificate's, and a client trusting that PEM by name must get in.
mkdir -p "$tmp/tls"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 \
    -subj /CN=arena.example.com -addext subjectAltName=DNS:arena.example.com \
    -addext basicConstraints=critical,CA:FALSE -addext extendedKeyUsage=serverAuth \
    -keyout "$tmp/tls/tls.key" -out "$tmp/tls/tls.crt" > "$tmp/openssl.log" 2>&1 \
    || { cat "$tmp/openssl.log" >&2; fail "openssl req"; }
chmod 0440 "$tmp/tls/tls.crt" "$tmp/tls/tls.key"
[ ${#as_user[@]} -eq 0 ] || chgrp "${user#*:}" "$tmp/tls/tls.crt" "$tmp/tls/tls.key"
want=$(openssl x509 -in "$tmp/tls/tls.crt" -outform DER | sha256sum | cut -d' ' -f1)
start_server ARENA_BIND=127.0.0.1:0 ARENA_METRICS_BIND=127.0.0.1:0 "ARENA_DATA_DIR=$tmp/data" \
    "ARENA_CERT=$tmp/tls/tls.crt" "ARENA_KEY=$tmp/tls/tls.key"
[ "$hash" = "$want" ] || fail "the server printed cert-sha256 $hash for a certificate whose SHA-256 is $want"
ok "cert-sha256 is the mounted certificate's (openssl x509 -outform DER | sha256sum)"
bot 2 --cert "$tmp/tls/tls.crt" --server-name arena.example.com
stop_server

echo "test-image: summary: image $ref, $size_mb MB; build-image.sh $image_secs s; bot $client_how; whole test $(($(date +%s) - started)) s"
echo "test-image: $run_result"
echo "image: $passed passed, 0 failed"
