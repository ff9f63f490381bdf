#!/bin/sh
# Layering rule as a test (issue #9): no file under src/<layer>/ includes a layer above it.
# Order, bottom-up (README "Layers"): common < l5o < proto < wire < nic < tcpip < driver < l5p <
# apps < testbed < cli. Besides, l5p and apps reach the NIC only through l5o: neither may include
# nic/ or driver/ although both lie below them. The build enforces the same rule with per-layer
# include roots (CMakeLists.txt); this check also covers headers that no .cc of their own layer
# includes, and relative escapes ("../") that an include root cannot see.
# Usage: layering_check.sh [src-dir]   (default: the src/ next to this script's tests/)
set -u
SRC=${1:-$(dirname "$0")/../src}
ORDER="common l5o proto wire nic tcpip driver l5p apps testbed cli"

rank() {  # rank of a layer name, empty if it is not one
  i=0
  for l in $ORDER; do
    [ "$l" = "$1" ] && { echo $i; return; }
    i=$((i + 1))
  done
}

fails=0
for layer_dir in "$SRC"/*/; do
  layer=$(basename "$layer_dir")
  own=$(rank "$layer")
  if [ -z "$own" ]; then
    echo "FAIL: src/$layer/ is not in the layer order; add it to $0 and CMakeLists.txt"
    fails=$((fails + 1))
    continue
  fi
  # file:line:#include "target/..."
  hits=$(grep -rnE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"[^"]*"' "$layer_dir" \
           --include='*.h' --include='*.cc' --include='*.c' --include='*.hpp' --include='*.cpp')
  [ -z "$hits" ] && continue
  while IFS= read -r hit; do
    path=$(printf '%s\n' "$hit" | sed -E 's/^.*#[[:space:]]*include[[:space:]]*"([^"]*)".*$/\1/')
    where=${hit#"$SRC"/}
    case "$path" in
      ../*|*/../*) echo "FAIL: src/$where: relative include leaves its folder"; fails=$((fails + 1)); continue ;;
    esac
    target=${path%%/*}
    [ "$target" = "$path" ] && continue  # no folder: same-directory or third-party header
    tr=$(rank "$target")
    [ -z "$tr" ] && continue             # not a layer (lwip/..., arch/...)
    if [ "$tr" -gt "$own" ]; then
      echo "FAIL: src/$where: $layer includes $target, a layer above it"
      fails=$((fails + 1))
    elif { [ "$layer" = l5p ] || [ "$layer" = apps ]; } && { [ "$target" = nic ] || [ "$target" = driver ]; }; then
      echo "FAIL: src/$where: $layer includes $target (the L5P side reaches the NIC only through l5o)"
      fails=$((fails + 1))
    fi
  done <<HITS
$hits
HITS
done

if [ "$fails" -ne 0 ]; then
  echo "layering_check: $fails upward include(s)"
  exit 1
fi
echo "layering_check: ok"
