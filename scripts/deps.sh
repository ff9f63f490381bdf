#!/bin/sh
# Installs every Debian package autonic needs (idempotent) and fetches lwIP 2.1.3's
# Debian source package into .deps/ (kept out of git). As root it runs apt-get; otherwise
# it prints the exact commands to run and fails.
set -eu
cd "$(dirname "$0")/.."

PKGS="build-essential cmake ninja-build pkg-config dpkg-dev xz-utils libssl-dev libisal-dev \
libpcap-dev libcli11-dev nlohmann-json3-dev libgtest-dev libgmock-dev libbenchmark-dev tshark jq \
clang libclang-rt-14-dev python3-matplotlib"

missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done

SRC_LIST=/etc/apt/sources.list.d/autonic-deb-src.sources
need_src=0
apt-cache showsrc lwip 2>/dev/null | grep -q '^Version: 2.1.3' || need_src=1

# derive_src: the deb-src entry, from the machine's own Debian archive entry.
. ./scripts/deps_src.sh

if [ -n "$missing" ] || [ "$need_src" = 1 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "autonic: missing packages:${missing:- (none)}; lwIP deb-src entry needed: $need_src" >&2
    echo "run as root:" >&2
    [ "$need_src" = 1 ] && echo "  printf '$(derive_src | sed 's/$/\\n/' | tr -d '\n')' > $SRC_LIST" >&2
    echo "  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends$missing" >&2
    exit 1
  fi
  [ "$need_src" = 1 ] && [ ! -f "$SRC_LIST" ] && derive_src > "$SRC_LIST"
  echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections 2>/dev/null || true
  apt-get update -qq
  [ -n "$missing" ] && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
fi

# lwIP: Debian's source package, unmodified (Debian's own patches applied by dpkg-source).
if [ ! -f .deps/lwip/src/core/tcp.c ]; then
  rm -rf .deps/lwip-fetch && mkdir -p .deps/lwip-fetch
  (cd .deps/lwip-fetch && apt-get source -qq lwip=2.1.3+dfsg1-2 >/dev/null 2>&1 || apt-get source -qq lwip >/dev/null)
  d=$(ls -d .deps/lwip-fetch/lwip-2.1.3*/ | head -1)
  rm -rf .deps/lwip && mv "$d" .deps/lwip && rm -rf .deps/lwip-fetch
fi
echo "autonic: dependencies ok"
