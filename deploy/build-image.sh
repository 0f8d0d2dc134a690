#!/usr/bin/env bash
# Builds the static arena-server binary and the container image arena-server:VERSION from it.
#
#   bash deploy/build-image.sh            # image arena-server:<the binary's version>, e.g. arena-server:0.1.0
#   IMAGE=registry.example.com/arena/arena-server TAG=0.1.0-rc1 bash deploy/build-image.sh
#
# Works from any directory. Idempotent: cargo rebuilds only what changed, the staging directory is laid
# anew, and an image that the new build replaces under the same tag is removed (no pile of dangling images).
# Prints the image's reference and size on its last lines. Needs cargo and podman (deploy/test-image.sh
# installs podman on Debian).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

image=${IMAGE:-arena-server}
# glibc's static libc on the machine's own target (x86_64-unknown-linux-gnu here; no musl target needed).
# Naming the target explicitly keeps the flags off build scripts and proc-macros (they must stay dynamic)
# and puts the artifacts in their own directory, target/<triple>/release, beside the usual target/release.
triple=$(rustc -vV | sed -n 's/^host: //p')
case "$triple" in
    *-linux-gnu) ;;
    *) echo "build-image: a static glibc build needs a *-linux-gnu host, not $triple" >&2; exit 1 ;;
esac

# crt-static is added with --config, which cargo merges with .cargo/config.toml's rustflags for the target
# (target-cpu=x86-64-v3): RUSTFLAGS would replace them. A RUSTFLAGS of the caller's own (e.g.
# `-C target-cpu=x86-64` for an older CPU) replaces them anyway, so it gets crt-static appended.
if [ -n "${RUSTFLAGS:-}" ]; then export RUSTFLAGS="$RUSTFLAGS -C target-feature=+crt-static"; fi
unset CARGO_ENCODED_RUSTFLAGS
start=$(date +%s)
# No line tables: the image drops them anyway (below), and leaving them out shortens the build.
cargo build --release --locked -p arena-server --target "$triple" \
    --config "target.$triple.rustflags = [\"-C\", \"target-feature=+crt-static\"]" \
    --config 'profile.release.debug = false'
binary=target/$triple/release/arena-server
built=$(date +%s)

# A dynamic binary would not start on `FROM scratch` (no loader, no libc): refuse one.
case "$(ldd "$binary" 2>&1 || true)" in
    *"statically linked"* | *"not a dynamic executable"*) ;;
    *) echo "build-image: $binary is not statically linked:" >&2; ldd "$binary" >&2 || true; exit 1 ;;
esac

version=$("$binary" --version | awk '{ print $NF }')
tag=${TAG:-$version}
ref="$image:$tag"

# The build context: only what the Containerfile copies (not the workspace, whose target/ is gigabytes).
context=target/deploy-image/context
rm -rf "$context"
mkdir -p "$context/data"
chmod 0755 "$context/data"
# The release profile keeps line tables (debug = "line-tables-only") for backtraces; the image drops them
# (function names stay in the symbol table), which makes it several times smaller.
if command -v objcopy > /dev/null; then
    objcopy --strip-debug "$binary" "$context/arena-server"
else
    cp "$binary" "$context/arena-server"
fi
chmod 0755 "$context/arena-server"

# The image's creation time: SOURCE_DATE_EPOCH if set, else the last commit's time, so the same binary
# gives the same image id (a rebuild with nothing changed replaces nothing).
epoch=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2> /dev/null || echo 0)}
old=$(podman image inspect --format '{{.Id}}' "$ref" 2> /dev/null || true)
# --layers=false: no intermediate image per step (the build takes a second; there is nothing to cache).
# --unsetenv PATH: buildah gives every image a default PATH; this one runs no other program and is
# configured by the ARENA_* variables alone.
podman build --quiet --layers=false --timestamp "$epoch" --unsetenv PATH \
    --build-arg "VERSION=$version" -t "$ref" -f deploy/Containerfile "$context" > /dev/null
new=$(podman image inspect --format '{{.Id}}' "$ref")
if [ -n "$old" ] && [ "$old" != "$new" ]; then
    # The previous build under this tag, now untagged; kept if something else still uses it.
    podman rmi "$old" > /dev/null 2>&1 || true
fi
done_at=$(date +%s)

size=$(podman image inspect --format '{{.Size}}' "$ref")
echo "build-image: static binary $binary ($(stat -c %s "$binary") bytes; $((built - start)) s)"
echo "build-image: image $ref id ${new:0:12} ($((done_at - built)) s)"
awk -v s="$size" 'BEGIN { printf "build-image: size %d bytes (%.1f MB)\n", s, s / 1000000 }'
