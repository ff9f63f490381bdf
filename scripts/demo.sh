#!/bin/sh
# `make demo`: a short showcase of the embedded default testbed (two hosts, one wire, virtual time).
set -u
A=${1:-build/autonic}
say() { printf '\n=== %s\n$ autonic %s\n' "$1" "$2"; }
run() { say "$1" "$2"; $A $2; }

run "Plain TCP over lwIP, the NIC model doing checksum offload, 2% loss + 2% reorder + 1% dup" \
    "run --l5p tcp --bytes 64M --loss 2% --reorder 2% --dup 1% --seed 7"
run "Framed L5P, offload on, clean wire: every message fully offloaded by the NIC" \
    "run --l5p framed --offload on --bytes 64M"
run "Framed L5P under 2% loss + 2% reorder: TX context recovery and RX resync at work" \
    "run --l5p framed --offload on --bytes 64M --loss 2% --reorder 2% --seed 3"
run "An attacker flips payload bits and fixes checksums: the integrity check stops delivery" \
    "run --l5p framed --offload on --bytes 16M --tamper 0.1%"
printf '\n(the last run ends with an integrity outcome and exit code 2, as it must)\n'
exit 0
