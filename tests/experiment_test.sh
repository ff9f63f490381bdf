#!/bin/sh
# `autonic experiment` (issue #14), run as a user runs it: all --quick -- every experiment writes a CSV, a PNG and
# a report.md section each; the report's data tables equal the CSVs cell for cell; --json gives
# the same numbers; every row's command re-runs its point (deterministic: same records full).
set -u
A="$1"
SRC="$2"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
CMD="$A experiment all --quick --out $T/out --json"
$CMD > "$T/all.json" 2> "$T/progress.txt" || { echo "FAIL: $CMD exited $? ($(tail -3 "$T/progress.txt"))"; exit 1; }
"$PY" "$SRC/tests/scripts/check_experiment.py" "$T/out" "$T/all.json" "$A" fig10 fig11 fig12 fig13 fig14 fig15 table4 fig16 fig17 fig18 fig19 || { echo "FAIL: $CMD"; exit 1; }
echo "experiment_test: ok"
