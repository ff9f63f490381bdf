# shellcheck shell=bash
# cases_vm.sh - cases against the Linux 6.1 guest (sourced by run.sh): its nvmet-tcp target,
# its nvme-tcp host and its kernel TLS, over QEMU's dgram netdev (`--wire qemu:DIR`).
# TCG is slow (guest -> us about 3.4 MB/s, us -> guest about 14 MB/s): transfers stay small.
VMD=$IO_RUN/vm
VM_WIRE="--wire qemu:$VMD --ip $IO_OUR_IP/24"
TGT_NQN=nqn.2026-11.io.autonic:target

vm_autonic() {
    local name=$1; shift
    rm -f "$VMD/host.sock"   # one autonic at a time owns our end of the dgram wire
    timeout "$IO_CASE_LIMIT" "$AUTONIC" "$@" --json > "$CASE_DIR/$name.json" 2> "$CASE_DIR/$name.err" < /dev/null
}
vm_autonic_bg() {
    local name=$1; shift
    rm -f "$VMD/host.sock"
    timeout "$IO_CASE_LIMIT" "$AUTONIC" "$@" --json > "$CASE_DIR/$name.json" 2> "$CASE_DIR/$name.err" < /dev/null &
    echo $! >> "$CASE_DIR/.pids"
}
guest() { "$IO_SRC/vm/guest.sh" "$@"; }

# case_vm_wire: the peer side alone, no autonic: the namespace's kernel takes autonic's address
# on a TAP that relay.py joins to the guest's dgram wire. nvmet answers an ICReq; the kTLS echo
# returns a file intact (openssl s_client); throughput both ways is measured (TCG's bound).
case_vm_wire() {
    ns_tap_local gw0 1500 "$IO_OUR_MAC" "$IO_OUR_IP"
    bg_ns relay "$IO_PY" "$IO_SRC/relay.py" gw0 "$VMD" 120 < /dev/null
    sleep 0.3
    local ic; ic=$(ns_exec bash -c ". '$IO_SRC/common.sh'; io_icreq $IO_PEER_IP") || fail "no ICResp from nvmet"
    local echo_ms
    echo_ms=$(ns_exec "$IO_PY" - "$IO_PEER_IP" "$IO_CERTS/cert.pem" <<'PYEOF'
import os, socket, ssl, sys, threading, time
ctx = ssl.create_default_context(cafile=sys.argv[2]); ctx.check_hostname = False
ctx.minimum_version = ssl.TLSVersion.TLSv1_3
data = os.urandom(4 << 20)
s = ctx.wrap_socket(socket.create_connection((sys.argv[1], 4433), timeout=30))
t = time.time()
threading.Thread(target=s.sendall, args=(data,), daemon=True).start()
got = bytearray()
while len(got) < len(data):
    d = s.recv(1 << 16)
    if not d: break
    got += d
s.close()
if got != data: sys.exit(f'kTLS echo differs ({len(got)} bytes back)')
print(int((time.time() - t) * 1000))
PYEOF
) || fail "kTLS echo through the guest failed: $echo_ms"
    guest 'setsid sh -c "nc -l -p 5001 > /dev/null" < /dev/null > /dev/null 2>&1 &' > /dev/null
    sleep 0.3
    up=$(ns_exec "$IO_PY" -c 'import socket,time
s=socket.create_connection(("'"$IO_PEER_IP"'",5001)); b=bytes(1<<16); t=time.time()
for _ in range(256): s.sendall(b)
s.close(); print(round(16.777216/(time.time()-t),1))')
    down=$(ns_exec "$IO_PY" -c 'import socket,subprocess,time
l=socket.socket(); l.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1); l.bind(("'"$IO_OUR_IP"'",5002)); l.listen(1)
subprocess.Popen(["'"$IO_SRC"'/vm/guest.sh","dd if=/dev/zero bs=1M count=8 2>/dev/null | nc '"$IO_OUR_IP"' 5002"],stdout=subprocess.DEVNULL)
c,_=l.accept(); t=time.time(); n=0
while True:
    d=c.recv(1<<16)
    if not d: break
    n+=len(d)
print(round(n/1e6/(time.time()-t),1))')
    sleep 0.5
    pass "$ic; kTLS echo 4 MiB intact in $echo_ms ms; TCP to guest $up MB/s, from guest $down MB/s (MTU 1500, via relay.py)"
}

# case_vm_nvme RW LOSSY: autonic NVMe/TCP host -> the guest's nvmet-tcp, 128K, depth 8,
# both digests, offload on. Clean: DDP >= 99 % of the bytes read, crc_ok packets > 0.
# Lossy (--loss 1% on our side): verified and resyncs counted.
case_vm_nvme() {
    local rw=$1 lossy=$2 faults=""
    [ "$lossy" = 1 ] && faults="--loss 1%"
    # shellcheck disable=SC2086
    vm_autonic a nvme connect $VM_WIRE --traddr "$IO_PEER_IP" --trsvcid 4420 --nqn "$IO_NQN" \
        --rw "$rw" --io-size 128K --depth 8 --bytes "$IO_VM_NVME_BYTES" --offload on \
        --time-limit $((IO_CASE_LIMIT - 5)) $faults
    local j=$CASE_DIR/a.json why ddp sw share crc res
    why=$(ok_report "$j") || fail "autonic: $why"
    ddp=$(c "$j" nvme_ddp_skip_bytes); sw=$(c "$j" nvme_sw_copy_bytes)
    share=$(ratio "$ddp" $((ddp + sw))); crc=$(c "$j" rx_nvme_tcp_crc_ok_packets); res=$(c "$j" rx_nvme_tcp_resync)
    local fig="DDP share $share ($ddp placed, $sw copied), crc_ok packets $crc, resyncs $res, $(jq -r '.throughput_gbps // 0' "$j") Gbps"
    [ "$crc" -gt 0 ] || fail "verified, but no crc_ok packets: $fig"
    if [ "$lossy" = 1 ]; then
        [ "$res" -gt 0 ] || fail "verified, but no resync counted under loss: $fig"
    else
        ge "$share" 0.99 || fail "verified, but DDP below 99 %: $fig"
    fi
    pass "verified; $fig"
}

# case_vm_host TAMPER: the guest's nvme-tcp host (hdr+data digests) -> autonic nvme target:
# 8 MiB O_DIRECT write + read-back, md5 compared in the guest. Clean: identical, our NIC
# computed the C2HData digests (tx_nvme_tcp_crc_bytes >= bytes read) and checked H2CData ones.
# TAMPER=1 (--tamper 1% on our side): the guest must see errors and nothing wrong is stored.
case_vm_host() {
    local tamper=$1 faults="" mb=8
    # from frame 400 on: the guest's admin and I/O queue connects go through, its writes' H2CData is hit
    [ "$tamper" = 1 ] && faults="--tamper 1% --faults-after 400"
    # shellcheck disable=SC2086
    vm_autonic_bg tgt nvme target --port 4420 --nqn "$TGT_NQN" --ns-size 64M $VM_WIRE --offload on \
        --time-limit $((IO_CASE_LIMIT - 5)) $faults
    local tpid; tpid=$(last_pid)
    sleep 1
    guest -t 90 -f nvme_host.sh "$IO_OUR_IP" "$TGT_NQN" $mb > "$CASE_DIR/guest.out" 2>&1
    kill -INT "$tpid" 2>/dev/null; wait_pid "$tpid" 15 || true
    local g=$CASE_DIR/guest.out j=$CASE_DIR/tgt.json
    local w r wrc rrc
    w=$(awk '/^WROTE_MD5/ {print $2}' "$g"); r=$(awk '/^READ_MD5/ {print $2}' "$g")
    wrc=$(sed -n 's/^WROTE_MD5 [0-9a-f]* rc=\([0-9]*\).*/\1/p' "$g"); rrc=$(sed -n 's/^READ_MD5 [0-9a-f]* rc=\([0-9]*\).*/\1/p' "$g")
    local txcrc rxok; txcrc=$(c "$j" tx_nvme_tcp_crc_bytes); rxok=$(c "$j" rx_nvme_tcp_crc_ok_packets)
    grep -q '^connected:' "$g" || fail "the guest could not connect: $(grep -E 'nvme|RESULT' "$g" | tail -n 2 | tr '\n' ' ')"
    if [ "$tamper" = 1 ]; then
        local nt; nt=$(jq -r '.wire.tampered // 0' "$j" 2>/dev/null)
        [ "${nt:-0}" -gt 0 ] || fail "no frame tampered (wire.tampered ${nt:-missing})"
        [ "$wrc" = 0 ] && [ "$rrc" = 0 ] && [ "$w" != "$r" ] && fail "tampered run stored/read wrong data (md5 $w vs $r)"
        grep -qiE 'digest|error|RESULT FAIL' "$g" || fail "tamper went unnoticed by the guest"
        pass "$nt frames tampered; guest saw errors ($(grep -ciE 'digest|error' "$g") error lines, dd rc write=${wrc:-none} read=${rrc:-none}); nothing wrong read back"
    fi
    grep -q '^RESULT PASS' "$g" || fail "guest: $(grep '^RESULT' "$g" || tail -n 3 "$g")"
    [ "$txcrc" -ge $((mb << 20)) ] || fail "md5 match, but tx_nvme_tcp_crc_bytes $txcrc < $((mb << 20))"
    [ "$rxok" -gt 0 ] || fail "md5 match, but no H2CData digest checked by the NIC (rx crc_ok 0)"
    pass "md5 match ($w), tx_nvme_tcp_crc_bytes $txcrc, rx crc_ok packets $rxok; $(grep -E '^(WROTE|READ)' "$g" | awk '{print $4, $5}' | tr '\n' ' ')"
}

# case_vm_ktls CIPHER [VERSION]: autonic tls connect -> the guest's kernel TLS echo (kTLS TX by
# OpenSSL, TLS_RX by ktls_peer, or by OpenSSL for TLS 1.2): what comes back is our own pattern,
# so --verify with our seed.
case_vm_ktls() {
    local cipher=$1 v=${2:-1.3} b=4M
    # shellcheck disable=SC2046,SC2086
    vm_autonic a tls connect "$IO_PEER_IP:4433" $VM_WIRE --offload on --cipher "$cipher" --tls-version "$v" \
        --seed 1 --send $b --recv $b --verify --time-limit $((IO_CASE_LIMIT - 5)) $(ca_args)
    sleep 0.5
    local why; why=$(ok_report "$CASE_DIR/a.json") || fail "autonic: $why; guest: $(tail -n 2 "$IO_SHARE/ktls.log" | tr '\n' ' ')"
    local want; want=$(md5sum < "$(pattern_file 1 $b)" | cut -d' ' -f1)
    tail -n 2 "$IO_SHARE/ktls.log" > "$CASE_DIR/ktls.log"
    grep -q "md5=$want" "$CASE_DIR/ktls.log" || fail "verified, but the guest's kernel saw other bytes (want md5 $want)"
    grep -q 'ktls_tx=1 tls_rx=0' "$CASE_DIR/ktls.log" || fail "guest kTLS not on both directions"
    pass "verified; the guest kernel decrypted and re-encrypted $b with TLS $v $cipher (md5 $want), $(c "$CASE_DIR/a.json" rx_tls_msgs_full) records fully offloaded"
}
