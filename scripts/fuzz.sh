#!/usr/bin/env bash
# The libFuzzer targets in fuzz/ (see fuzz/README.md).
#   scripts/fuzz.sh build          configure + build build-fuzz/ (clang, coverage + ASan/UBSan)
#   scripts/fuzz.sh run SECONDS    every target SECONDS each, one after the other
#   scripts/fuzz.sh smoke          replay the seed corpus (and build-fuzz/corpus), then 10 s fresh each
#   scripts/fuzz.sh seeds          rewrite fuzz/corpus/<target>/ from each target's seed generator
# Crash / leak / timeout inputs go to build-fuzz/artifacts/<target>/; the exit status is non-zero
# if any target failed. FUZZ_TARGETS="fuzz_nic ..." picks targets; FUZZ_BUILD another build dir.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD=${FUZZ_BUILD:-build-fuzz}
read -r -a TARGETS <<<"${FUZZ_TARGETS:-fuzz_nvme_stream fuzz_tls_rx fuzz_nic fuzz_hostile_peer fuzz_link_rx fuzz_http}"
# Hang detection (-timeout), a memory bound, and the final stats this script reports.
COMMON=(-rss_limit_mb=2048 -timeout=10 -print_final_stats=1)

die() { echo "fuzz.sh: $*" >&2; exit 2; }

build() {
  command -v clang++ >/dev/null || die "clang++ not found (make deps installs clang and libclang-rt-14-dev)"
  if [ ! -f "$BUILD/build.ninja" ]; then
    cmake -G Ninja -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DAUTONIC_FUZZ=ON \
      -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++
  fi
  # FUZZ_JOBS=1 leaves a core to whatever else runs (a campaign, another build).
  cmake --build "$BUILD" -j "${FUZZ_JOBS:-$(nproc)}"
}

binary() {
  local b="$BUILD/fuzz/$1"
  [ -x "$b" ] || die "$b not built: run scripts/fuzz.sh build"
  echo "$b"
}

# Runs one libFuzzer invocation, logging to $log; prints a one-line summary and, on failure, the
# artifacts it wrote and how to replay them. Returns libFuzzer's status.
fuzz_one() {
  local t=$1 log=$2; shift 2
  local art="$BUILD/artifacts/$t" status=0
  mkdir -p "$art" "$(dirname "$log")"
  "$(binary "$t")" "${COMMON[@]}" -artifact_prefix="$art/" "$@" >"$log" 2>&1 || status=$?
  local execs rate cov ft corp
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  corp=$(grep -o 'corp: [0-9]*/[0-9]*[a-zA-Z]*' "$log" | tail -1 | cut -d' ' -f2)
  printf '%-18s %-6s execs %-9s (%s/s)  cov %-5s ft %-6s corpus %s\n' "$t" \
    "$([ $status -eq 0 ] && echo ok || echo FAIL)" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}"
  if [ $status -ne 0 ]; then
    grep -E '^(==[0-9]+== ?ERROR|SUMMARY:|==autonic-fuzz==)' "$log" | sed 's/^/    /' | head -5 || true
    grep -o 'Test unit written to .*' "$log" | sed 's/^Test unit written to //' | while read -r a; do
      echo "    artifact: $a"
      echo "    replay:   $BUILD/fuzz/$t $a"
    done
    echo "    log:      $log"
  fi
  return $status
}

run() {
  local secs=${1:-60} failed=0
  [[ "$secs" =~ ^[0-9]+$ ]] || die "run SECONDS: '$secs' is not a number"
  for t in "${TARGETS[@]}"; do
    # The work corpus (first directory) collects what the run finds; the seeds are only read.
    mkdir -p "$BUILD/corpus/$t"
    fuzz_one "$t" "$BUILD/logs/$t.run.log" -max_total_time="$secs" "$BUILD/corpus/$t" "fuzz/corpus/$t" || failed=1
  done
  return $failed
}

smoke() {
  local failed=0 fresh
  for t in "${TARGETS[@]}"; do
    local dirs=("fuzz/corpus/$t")
    [ -d "$BUILD/corpus/$t" ] && [ -n "$(ls -A "$BUILD/corpus/$t")" ] && dirs+=("$BUILD/corpus/$t")
    echo "-- $t: replay ${dirs[*]}"
    fuzz_one "$t" "$BUILD/logs/$t.replay.log" -runs=0 "${dirs[@]}" || failed=1
    echo "-- $t: 10 s fresh run"
    fresh=$(mktemp -d)
    # A fixed seed: the same mutations on every run of one build, so CI does not flake.
    fuzz_one "$t" "$BUILD/logs/$t.smoke.log" -seed=1 -max_total_time=10 "$fresh" "fuzz/corpus/$t" || failed=1
    rm -rf "$fresh"
  done
  return $failed
}

seeds() {
  for t in "${TARGETS[@]}"; do
    rm -rf "fuzz/corpus/$t"
    mkdir -p "fuzz/corpus/$t"
    "$(binary "$t")" -write_seeds="fuzz/corpus/$t"
  done
}

case "${1:-}" in
  build) build ;;
  run) run "${2:-60}" ;;
  smoke) smoke ;;
  seeds) seeds ;;
  *) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
