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
run "TLS 1.3 (real OpenSSL handshake over lwIP), AES-128-GCM records encrypted and decrypted by the NICs" \
    "run --l5p tls --offload on --bytes 64M --record-size 16K --seed 1"
run "TLS at 5% loss: records still fully offloaded, resync and TX recovery counters at work" \
    "run --l5p tls --offload on --bytes 64M --loss 5% --seed 1"
run "NVMe/TCP random 256K reads, depth 32: digests checked and data placed in the read buffers by the NIC" \
    "run --l5p nvme --offload on --rw randread --io-size 256K --depth 32 --bytes 256M --seed 1"
run "NVMe/TCP over TLS at 1% loss: the NIC's NVMe engine runs inside its TLS context, each recovering on its own" \
    "run --l5p nvme-tls --offload on --rw randrw --io-size 64K --depth 8 --bytes 64M --loss 1% --seed 1"
run "An attacker flips TLS payload bits and fixes checksums: bad_record_mac, nothing wrong delivered" \
    "run --l5p tls --offload on --bytes 16M --tamper 0.1%"
printf '\n(the last run ends with alert:bad_record_mac and exit code 2, as it must)\n'
exit 0
