#!/bin/bash
# Two autonic hosts, each in its own process, joined by two Unix datagram sockets the way QEMU's
# `-netdev dgram` joins a guest (one frame per datagram; crossed symlinks make each host's
# "qemu.sock" the other's "host.sock"). Real clock, real poll() loops, no root needed: the
# real-network verbs end to end, with faults on one side and a hostile third sender.
# Usage: dgram_pair.sh path/to/autonic
set -u
A=${1:?usage: dgram_pair.sh AUTONIC}
T=$(mktemp -d /tmp/autonic-pair.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$T"' EXIT
HERE=$(cd "$(dirname "$0")" && pwd)
fail=0
mkdir "$T/a" "$T/b"
ln -s ../b/host.sock "$T/a/qemu.sock"
ln -s ../a/host.sock "$T/b/qemu.sock"
COMMON_A="--wire qemu:$T/a --ip 10.9.0.2/24 --mac 52:54:00:00:00:02 --time-limit 60 --json"
COMMON_B="--wire qemu:$T/b --ip 10.9.0.1/24 --mac 52:54:00:00:00:01 --time-limit 60 --json"

# field FILE EXPR: a value from a report (python expression over d = report, s = our counters)
field() { python3 -c "import json,sys; d=json.load(open('$1')); s=d['stats']['client'] or d['stats']['server']; print($2)"; }
check() {  # check NAME FILE EXPR...: every EXPR true in the report
  local name=$1 f=$2; shift 2
  for e in "$@"; do
    if [ "$(field "$f" "bool($e)" 2>&1)" != True ]; then
      echo "FAIL $name: $e (report $f: outcome $(field "$f" "d['outcome']" 2>&1))"; fail=1; return
    fi
  done
  echo "PASS $name"
}
wait_sock() { for _ in $(seq 100); do [ -S "$1" ] && return; sleep 0.05; done; }

# 1. plain TCP both ways, 1% loss + 1% reorder on the client's side
$A tcp serve --port 5001 $COMMON_A --send 8M --recv 8M --verify --seed 1 --peer-seed 2 > "$T/s1.json" 2>"$T/s1.err" &
wait_sock "$T/a/host.sock"
$A tcp connect 10.9.0.2:5001 $COMMON_B --send 8M --recv 8M --verify --seed 2 --peer-seed 1 --loss 1% --reorder 1% \
  > "$T/c1.json" 2>"$T/c1.err"
wait
check "tcp both ways, loss+reorder (client)" "$T/c1.json" "d['verified']" "d['bytes_delivered'] == 16<<20" "s['wire_tx_dropped'] > 0"
check "tcp both ways, loss+reorder (server)" "$T/s1.json" "d['verified']" "s['drv_arp_replies'] >= 1"

# 2. NVMe/TCP: our host -> our target, randread with loss; hostile frames thrown at the target
$A nvme target --port 4420 $COMMON_A --ns-size 16M > "$T/s2.json" 2>"$T/s2.err" &
TGT=$!
wait_sock "$T/a/host.sock"
python3 "$HERE/garbage.py" "$T/a/host.sock" 4 52:54:00:00:00:02 7 2>"$T/g2.err" &
G=$!
$A nvme connect --traddr 10.9.0.2 $COMMON_B --rw randread --io-size 128K --depth 8 --bytes 8M --loss 1% \
  > "$T/c2.json" 2>"$T/c2.err"
wait $G
kill -INT $TGT; wait $TGT
check "nvme randread 128K depth 8, loss (host)" "$T/c2.json" "d['verified']" "s['rx_nvme_tcp_ddp_bytes'] > 0" \
  "s['rx_nvme_tcp_crc_ok_packets'] > 0"
check "nvme target under garbage frames" "$T/s2.json" "d['outcome'] == 'ok'" "s['nic_rx_mac_filtered'] > 0" \
  "s['drv_rx_nontcp'] > 0" "s['drv_arp_bad'] > 0" "s['dev_rx_runts'] > 0" "d['connections'] >= 2"

# 3. TLS 1.3 both ways, offload on, the client checking the server's certificate (made here by
#    openssl, as a user's would be) by name (IP SAN); loss + reorder on the server's side.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=pair \
  -addext subjectAltName=IP:10.9.0.2 -keyout "$T/key.pem" -out "$T/cert.pem" 2>/dev/null
$A tls serve --port 4433 $COMMON_A --cert "$T/cert.pem" --key "$T/key.pem" --tickets 2 --send 8M --recv 8M \
  --verify --seed 3 --peer-seed 4 --loss 1% --reorder 1% > "$T/s3.json" 2>"$T/s3.err" &
wait_sock "$T/a/host.sock"
$A tls connect 10.9.0.2:4433 $COMMON_B --ca "$T/cert.pem" --send 8M --recv 8M --verify --seed 4 --peer-seed 3 \
  --keylog "$T/keys.txt" --pcap "$T/tls.pcap" > "$T/c3.json" 2>"$T/c3.err"
wait
check "tls both ways, CA-checked, tickets, loss+reorder (client)" "$T/c3.json" "d['verified']" \
  "s['rx_tls_post_handshake'] == 2" "s['tls_peer_unverified'] == 0" "s['rx_tls_resync_req_start'] > 0" \
  "s['rx_tls_msgs_full'] > 0"
check "tls both ways (server)" "$T/s3.json" "d['verified']" "s['tx_tls_ooo'] > 0"
# ... and a client that trusts another CA refuses the server.
$A tls serve --port 4434 $COMMON_A --cert "$T/cert.pem" --key "$T/key.pem" --recv 1K > "$T/s4.json" 2>&1 &
wait_sock "$T/a/host.sock"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=other \
  -keyout "$T/k2.pem" -out "$T/other.pem" 2>/dev/null
$A tls connect 10.9.0.2:4434 $COMMON_B --ca "$T/other.pem" --send 1K > "$T/c4.json" 2>"$T/c4.err"
wait
check "tls client refuses an untrusted server" "$T/c4.json" "not d['verified']" "'verify' in d['outcome']"

[ $fail = 0 ] && echo "dgram pair: all passed" || echo "dgram pair: FAILED (logs kept in $T)"
[ $fail = 0 ] || trap - EXIT
exit $fail
