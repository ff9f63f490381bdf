#!/bin/sh
# scripts/deps_src.sh: derive_src on sample sources files (one-line style with options, deb-src,
# deb822 with several URIs, comments, security entries first). Usage: deps_src_test.sh [repo root]
set -u
ROOT=${1:-$(dirname "$0")/../..}
. "$ROOT/scripts/deps_src.sh"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
printf 'VERSION_CODENAME=trixie\n' > "$T/os-release"
OS_RELEASE="$T/os-release"

# expect_uri NAME EXPECTED_URI FILE... : derive_src over FILEs must name EXPECTED_URI
expect_uri() {
  name=$1 want=$2
  shift 2
  got=$(APT_SOURCES="$*" derive_src | sed -n 's/^URIs: //p')
  if [ "$got" = "$want" ]; then
    echo "ok   $name"
  else
    echo "FAIL $name: got '$got', want '$want'"
    fails=$((fails + 1))
  fi
}

cat > "$T/opts.list" <<'L'
# deb http://commented.example/debian bookworm main
deb [signed-by=/usr/share/keyrings/x.gpg arch=amd64] http://deb.debian.org/debian bookworm main
L
expect_uri "deb with options" http://deb.debian.org/debian "$T/opts.list"

cat > "$T/spaced.list" <<'L'
deb [ arch=amd64 ] http://mirror.example/debian/ bookworm main
L
expect_uri "deb with spaced brackets" http://mirror.example/debian/ "$T/spaced.list"

cat > "$T/src.list" <<'L'
deb http://security.debian.org/debian-security bookworm-security main
deb-src [arch=amd64] http://src.example/debian bookworm main
L
expect_uri "deb-src with options, security skipped" http://src.example/debian "$T/src.list"

cat > "$T/multi.sources" <<'L'
Types: deb
URIs: http://security.debian.org/debian http://ftp.example/debian
Suites: bookworm
Components: main

Types: deb
uris: http://other.example/pub
 http://late.example/debian
Suites: bookworm
L
expect_uri "deb822, several URIs" http://ftp.example/debian "$T/multi.sources"
printf 'Types: deb\nURIs: http://other.example/pub\n http://late.example/debian\n' > "$T/cont.sources"
expect_uri "deb822 continuation line" http://late.example/debian "$T/missing.sources" "$T/cont.sources"

cat > "$T/none.list" <<'L'
deb http://archive.ubuntu.com/ubuntu jammy main
L
expect_uri "no Debian archive: the default" http://deb.debian.org/debian "$T/none.list"
expect_uri "no files at all: the default" http://deb.debian.org/debian "$T/absent.list"

suite=$(APT_SOURCES="$T/opts.list" derive_src | sed -n 's/^Suites: //p')
[ "$suite" = trixie ] && echo "ok   suite from os-release" || { echo "FAIL suite: '$suite'"; fails=$((fails + 1)); }

[ "$fails" = 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "deps_src: all ok"
