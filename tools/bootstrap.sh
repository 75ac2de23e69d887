#!/usr/bin/env bash
# Installs everything isogate needs to build and test, from Debian packages only.
# Idempotent: a second run with nothing missing does no network work.
#
# V8 comes from libnode108/libnode-dev. Those are never apt-installed: a Node.js
# from elsewhere (nodesource) often owns /usr/include/node with V8 11 headers
# and blocks libnode-dev. Instead the .debs are extracted into .deps/ and CMake
# takes V8 headers and libnode.so from there only (DESIGN.md, "Pitfall").
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
deps="$root/.deps"

apt_packages=(
  build-essential cmake ninja-build pkg-config ccache curl ca-certificates
  libuv1-dev libssl-dev nlohmann-json3-dev liblmdb-dev libcli11-dev libicu-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  # HTTP/2 to clients (nghttp2) and TLS/HTTP/2 test clients
  libnghttp2-dev nghttp2-client openssl
  # libnode108's own runtime dependencies (it is extracted, not installed)
  libicu72 libc-ares2 libbrotli1 libnghttp2-14 zlib1g
)
extracted_packages=(libnode108 libnode-dev node-llhttp)

sudo_if_needed() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

updated=0
apt_update_once() {
  if [ "$updated" -eq 0 ]; then
    sudo_if_needed apt-get update -qq
    updated=1
  fi
}

missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "bootstrap: installing ${missing[*]}" >&2
  # Fresh machines may have empty or stale lists; try once without updating.
  if ! sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
    apt_update_once
    sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi

stamp="$deps/extracted.stamp"
want="${extracted_packages[*]}"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ] || [ ! -f "$deps/root/usr/lib/x86_64-linux-gnu/libnode.so.108" ]; then
  echo "bootstrap: extracting ${extracted_packages[*]} into .deps/" >&2
  rm -rf "$deps/debs" "$deps/root"
  mkdir -p "$deps/debs" "$deps/root"
  cd "$deps/debs"
  if ! apt-get download "${extracted_packages[@]}" >/dev/null 2>&1; then
    apt_update_once
    apt-get download "${extracted_packages[@]}" >/dev/null 2>&1
  fi
  for f in *.deb; do dpkg-deb -x "$f" "$deps/root"; done
  echo "$want" > "$stamp"
fi
