# shellcheck shell=bash
# cases_host.sh - cases against this machine's kernel in a network namespace behind a TAP
# (sourced by run.sh). Peer: openssl s_server / s_client (TLS 1.3 / 1.2) on the namespace's TCP.
# autonic runs in the namespace too (see netns.sh for why) and owns the TAP's fd.

suite_of() {
    case "$1" in
        aes256gcm) echo TLS_AES_256_GCM_SHA384 ;; chacha20poly1305) echo TLS_CHACHA20_POLY1305_SHA256 ;;
        *) echo TLS_AES_128_GCM_SHA256 ;;
    esac
}
# openssl's cipher options for CIPHER in TLS VERSION (1.2: the ECDSA suite, our P-256 cert).
ossl_cipher_args() {
    if [ "$2" = 1.2 ]; then
        case "$1" in
            aes256gcm) echo "-tls1_2 -cipher ECDHE-ECDSA-AES256-GCM-SHA384" ;;
            chacha20poly1305) echo "-tls1_2 -cipher ECDHE-ECDSA-CHACHA20-POLY1305" ;;
            *) echo "-tls1_2 -cipher ECDHE-ECDSA-AES128-GCM-SHA256" ;;
        esac
    else
        echo "-tls1_3 -ciphersuites $(suite_of "$1")"
    fi
}

# pattern_file SEED BYTES: `autonic pattern` output, cached (64 MiB takes a moment).
pattern_file() {
    local f=$IO_BUILD/patterns/s$1-$2
    mkdir -p "$IO_BUILD/patterns"
    if [ ! -s "$f" ]; then "$AUTONIC" pattern --seed "$1" --bytes "$2" > "$f.tmp" && mv -f "$f.tmp" "$f"; fi
    echo "$f"
}
# ns_listening PORT: a TCP listener on PORT in the namespace (state 0A in /proc/net/tcp or
# tcp6: openssl's -accept PORT binds the dual-stack ::).
ns_listening() {
    local hex end=$(($(date +%s) + 10))
    hex=$(printf '%04X' "$1")
    until ns_exec cat /proc/net/tcp /proc/net/tcp6 | awk -v p=":$hex" '$2 ~ p"$" && $4 == "0A" {f=1} END {exit !f}'; do
        [ "$(date +%s)" -lt $end ] || return 1; sleep 0.1
    done
}
# autonic's trust in openssl's certificate: the spec's --ca when the CLI has it.
ca_args() { "$AUTONIC" tls connect --help 2>&1 | grep -q -- ' --ca' && echo "--ca $IO_CERTS/cert.pem"; true; }
cert_args() { "$AUTONIC" tls serve --help 2>&1 | grep -q -- ' --cert' && echo "--cert $IO_CERTS/cert.pem --key $IO_CERTS/key.pem"; true; }

# tls_checks JSON GOT WANT LOSSY [PCAP KEYLOG]: the case's verdict from the report and data.
tls_checks() {
    local j=$1 why share
    why=$(ok_report "$j") || fail "autonic: $why"
    cmp -s "$2" "$3" || fail "openssl received $(stat -c %s "$2") bytes, not the $(stat -c %s "$3") autonic sent (cmp $2 $3)"
    share=$(tls_full_share "$j")
    if [ "$4" = 1 ]; then
        local lc; lc=$(tls_loss_counters "$j")
        case "$lc" in *resync=0*|*txrec=0*) fail "verified, but lossy run without resync/TX recovery: $lc" ;; esac
        pass "verified, data identical, $lc, full-offload share $share"
    fi
    ge "$share" 0.90 || fail "verified, but only $share of records fully offloaded (want >= 0.90)"
    local n; n=$(tshark_decrypts "$5" "$6")
    [ "$n" -gt 0 ] || fail "tshark decrypted no application data in $5 with $6"
    pass "verified, data identical, full-offload share $share, tshark decrypted $n frames"
}

# case_tls DIRECTION CIPHER LOSSY [VERSION] [KU]: openssl s_server <-> autonic tls connect
# (DIRECTION=connect) or autonic tls serve <-> openssl s_client (serve), IO_TLS_BYTES each way,
# offload on; TLS VERSION (1.3); KU=N: autonic sends a KeyUpdate every N records (TLS 1.3).
case_tls() {
    local dir=$1 cipher=$2 lossy=$3 v=${4:-1.3} ku=${5:-0} b=$IO_TLS_BYTES ours theirs faults="" cap="" ossl
    ours=$(pattern_file 1 "$b"); theirs=$(pattern_file 7 "$b")
    [ "$lossy" = 1 ] && faults="--loss 1% --reorder 1%"
    [ "$lossy" = 1 ] || cap="--pcap $CASE_DIR/cap.pcap --keylog $CASE_DIR/keylog"
    ossl=$(ossl_cipher_args "$cipher" "$v")
    ns_tap_peer "$IO_TAP" 1500
    local common="--wire tap:$IO_TAP --ip $IO_OUR_IP/24 --offload on --cipher $cipher --seed 1
        --send $b --recv $b --peer-seed 7 --verify --time-limit $((IO_CASE_LIMIT - 5)) $faults $cap"
    [ "$v" = 1.3 ] || common="$common --tls-version $v"
    [ "$ku" = 0 ] || common="$common --key-update-every $ku"
    if [ "$dir" = connect ]; then
        # s_server sends close_notify and stops reading when its stdin ends (measured: with
        # -quiet too); what it had not read yet is lost with its socket. Keep stdin open: it
        # then ends when autonic's close_notify arrives (-naccept 1).
        # shellcheck disable=SC2086
        bg_ns s_server openssl s_server -accept 4433 $ossl -cert "$IO_CERTS/cert.pem" -key "$IO_CERTS/key.pem" \
            -quiet -naccept 1 < <(cat "$theirs"; sleep "$IO_CASE_LIMIT")
        ns_listening 4433 || fail "openssl s_server did not listen"
        # shellcheck disable=SC2046,SC2086
        autonic_ns autonic tls connect "$IO_PEER_IP:4433" $common $(ca_args) < /dev/null
        wait_pid "$(last_pid)" 20 || true
        mv "$CASE_DIR/s_server.out" "$CASE_DIR/openssl.got"
    else
        # shellcheck disable=SC2046,SC2086
        autonic_bg autonic tls serve --port 4433 $common $(cert_args)
        sleep 0.5
        # s_client's default under -quiet is ign_eof: it reads until autonic closes
        # shellcheck disable=SC2086
        ns_exec timeout "$IO_CASE_LIMIT" openssl s_client -connect "$IO_OUR_IP:4433" $ossl \
            -quiet -nocommands < "$theirs" > "$CASE_DIR/openssl.got" 2> "$CASE_DIR/s_client.err"
        wait_pid "$(last_pid)" 30 || fail "autonic tls serve did not finish"
    fi
    if [ "$ku" != 0 ]; then
        local k; k=$(c "$CASE_DIR/autonic.json" tx_tls_rekey_ok)
        [ "$k" -gt 0 ] || fail "no KeyUpdate sent (tx_tls_rekey_ok = 0)"
    fi
    tls_checks "$CASE_DIR/autonic.json" "$CASE_DIR/openssl.got" "$ours" "$lossy" \
        "$CASE_DIR/cap.pcap" "$CASE_DIR/keylog"
}

# case_inject: hostile frames written into the TAP from the namespace's side (AF_PACKET) while
# autonic serves a TLS transfer: the host must drop and count them and finish verified.
case_inject() {
    local b=16M ours theirs
    ours=$(pattern_file 1 $b); theirs=$(pattern_file 7 $b)
    ns_tap_peer "$IO_TAP" 1500
    autonic_bg autonic tls serve --port 4433 --wire "tap:$IO_TAP" --ip "$IO_OUR_IP/24" \
        --offload on --seed 1 --send $b --recv $b --peer-seed 7 --verify --time-limit 100
    local apid; apid=$(last_pid)
    sleep 0.5
    bg_ns inject "$IO_PY" "$IO_SRC/inject.py" "$IO_TAP" 30
    ns_exec timeout 120 openssl s_client -connect "$IO_OUR_IP:4433" -tls1_3 -quiet -nocommands \
        < "$theirs" > "$CASE_DIR/openssl.got" 2> "$CASE_DIR/s_client.err"
    wait_pid "$apid" 30 || fail "autonic did not finish (hung?)"
    local why; why=$(ok_report "$CASE_DIR/autonic.json") || fail "autonic: $why"
    cmp -s "$CASE_DIR/openssl.got" "$ours" || fail "openssl's data differs"
    io_kill_pid "$(sed -n 2p "$CASE_DIR/.pids")"    # the injector: report its count now
    local sent; sent=$(grep -o 'sent [0-9]*' "$CASE_DIR/inject.err" | tail -1)
    pass "verified under injection (${sent:-inject log missing} hostile frames; mac_filtered=$(c "$CASE_DIR/autonic.json" nic_rx_mac_filtered) nontcp=$(c "$CASE_DIR/autonic.json" drv_rx_nontcp) runts=$(c "$CASE_DIR/autonic.json" dev_rx_runts))"
}

# case_bridge: two autonic processes on two TAPs joined by a bridge: TLS both ways, then an
# NVMe/TCP host against an NVMe/TCP target (the shape that spans machines).
case_bridge() {
    ns_bridge br-an an1 an2
    local srv="--wire tap:an1 --ip $IO_OUR_IP/24 --mac $IO_OUR_MAC"
    local cli="--wire tap:an2 --ip $IO_NET.3/24 --mac 52:54:00:77:00:03"
    # shellcheck disable=SC2086
    autonic_bg tls_srv tls serve --port 4433 $srv --offload on --seed 1 --send 16M \
        --recv 16M --peer-seed 3 --verify --time-limit 100
    local spid; spid=$(last_pid)
    sleep 0.5
    # shellcheck disable=SC2086
    autonic_ns tls_cli tls connect "$IO_OUR_IP:4433" $cli --offload on --seed 3 --send 16M \
        --recv 16M --peer-seed 1 --verify --time-limit 100
    wait_pid "$spid" 20 || true
    local why bad=""   # both halves run, so one report names every failure
    why=$(ok_report "$CASE_DIR/tls_cli.json") || bad="tls connect: $why; "
    why=$(ok_report "$CASE_DIR/tls_srv.json") || bad="${bad}tls serve: $why; "
    # shellcheck disable=SC2086
    autonic_bg nvme_tgt nvme target --port 4420 --nqn "$IO_NQN" --ns-size 64M $srv \
        --offload on --time-limit 100
    local tpid; tpid=$(last_pid)
    sleep 0.5
    # shellcheck disable=SC2086
    autonic_ns nvme_host nvme connect --traddr "$IO_OUR_IP" --nqn "$IO_NQN" --rw randrw \
        --io-size 128K --depth 8 --bytes 16M $cli --offload on --time-limit 100
    kill -INT "$tpid" 2>/dev/null; wait_pid "$tpid" 10 || true
    local nv="nvme randrw 16M verified (ddp $(c "$CASE_DIR/nvme_host.json" nvme_ddp_skip_bytes) B placed)"
    why=$(ok_report "$CASE_DIR/nvme_host.json") || { bad="${bad}nvme connect: $why"; nv=""; }
    [ -z "$bad" ] || fail "$bad${nv:+ (but $nv)}"
    pass "tls 16M each way verified both ends; $nv"
}

# case_bench: autonic -> the namespace kernel over the TAP, 64 MiB one way, TLS offload on
# (openssl s_client receives) vs plain TCP (bash reads the socket) on the same path: the
# throughput ratio the issue's README benchmark asks for (goal >= 0.8). Not in `all`.
case_bench() {
    local b=64M
    ns_tap_peer "$IO_TAP" 1500
    autonic_bg tls tls serve --port 4433 --wire "tap:$IO_TAP" --ip "$IO_OUR_IP/24" --offload on \
        --seed 1 --send $b --time-limit 100
    sleep 0.5
    ns_exec timeout 100 openssl s_client -connect "$IO_OUR_IP:4433" -tls1_3 -quiet -nocommands \
        < /dev/null > /dev/null 2> "$CASE_DIR/s_client.err"
    wait_pid "$(last_pid)" 20 || fail "tls serve did not finish"
    autonic_bg tcp tcp serve --port 5001 --wire "tap:$IO_TAP" --ip "$IO_OUR_IP/24" --seed 1 --send $b \
        --time-limit 100
    sleep 0.5
    ns_exec timeout 100 bash -c "exec 3<>/dev/tcp/$IO_OUR_IP/5001; cat <&3 > /dev/null"
    wait_pid "$(last_pid)" 20 || fail "tcp serve did not finish"
    local t p why
    why=$(ok_report "$CASE_DIR/tls.json") || fail "tls: $why"
    why=$(ok_report "$CASE_DIR/tcp.json") || fail "tcp: $why"
    t=$(jq -r '.throughput_gbps' "$CASE_DIR/tls.json"); p=$(jq -r '.throughput_gbps' "$CASE_DIR/tcp.json")
    pass "TLS offload $t Gbps, plain TCP $p Gbps, ratio $(ratio "$t" "$p") (goal 0.8)"
}
