# shellcheck shell=bash
# lib.sh - the harness's helpers (sourced by run.sh): case bookkeeping, background processes
# we own, and checks on autonic's --json report.

# Each case runs in a subshell with its own log directory $CASE_DIR; it calls pass/fail once.
pass() { echo "PASS $CASE: $*  [logs $CASE_DIR]"; exit 0; }
fail() { echo "FAIL $CASE: $*  [logs $CASE_DIR]"; exit 1; }
skip() { echo "SKIP $CASE: $*"; exit 0; }

# bg_ns NAME CMD...: start CMD (a program, not a function) in the namespace in the background,
# stdin from /dev/null unless redirected, output to $CASE_DIR/NAME.{out,err}. `ip netns exec`
# and `timeout` exec/forward, so the remembered PID gets our signals (INT ends autonic cleanly)
# and case_cleanup ends exactly the processes this case started.
bg_ns() {
    local name=$1; shift
    # <&0: an explicit stdin, else bash gives a background command /dev/null
    ip netns exec "$IO_NETNS" timeout "$IO_CASE_LIMIT" "$@" <&0 > "$CASE_DIR/$name.out" 2> "$CASE_DIR/$name.err" &
    echo $! >> "$CASE_DIR/.pids"
}
case_cleanup() {
    local pid
    [ -f "$CASE_DIR/.pids" ] || return 0
    for pid in $(cat "$CASE_DIR/.pids"); do io_kill_pid "$pid"; done
    rm -f "$CASE_DIR/.pids"
}
# wait_pid PID SECONDS: wait for a background process to end by itself.
wait_pid() {
    local end=$(($(date +%s) + $2))
    while [ -d "/proc/$1" ] && [ "$(date +%s)" -lt $end ]; do sleep 0.2; done
    ! [ -d "/proc/$1" ]
}
last_pid() { tail -n 1 "$CASE_DIR/.pids"; }

# autonic_ns NAME ARGS...: autonic inside the namespace (it only uses the TAP's fd, never the
# namespace's IP stack); report in $CASE_DIR/NAME.json, stderr in NAME.err. autonic_bg: the
# same in the background (PID remembered, see bg_ns).
autonic_ns() {
    local name=$1; shift
    ip netns exec "$IO_NETNS" timeout "$IO_CASE_LIMIT" "$AUTONIC" "$@" --json \
        > "$CASE_DIR/$name.json" 2> "$CASE_DIR/$name.err"
}
autonic_bg() {
    local name=$1; shift
    ip netns exec "$IO_NETNS" timeout "$IO_CASE_LIMIT" "$AUTONIC" "$@" --json \
        > "$CASE_DIR/$name.json" 2> "$CASE_DIR/$name.err" < /dev/null &
    echo $! >> "$CASE_DIR/.pids"
}

# c FILE COUNTER: a counter from the report, summed over the hosts in it (one host per process).
c() { jq -r --arg k "$2" '[.stats[]? | .[$k]? // empty] | add // 0' "$1" 2>/dev/null || echo 0; }
# ok_report FILE: outcome ok and verified, else the reason (outcome text).
ok_report() {
    [ -s "$1" ] || { echo "no JSON report ($1)"; return 1; }
    local o v
    o=$(jq -r '.outcome' "$1"); v=$(jq -r '.verified' "$1")
    [ "$o" = ok ] && [ "$v" = true ] && return 0
    echo "outcome=$o verified=$v"; return 1
}
# ratio A B: A/B with 3 decimals (0 when B is 0).
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }'; }
# ge X Y: X >= Y, numbers with decimals.
ge() { awk -v x="$1" -v y="$2" 'BEGIN { exit !(x >= y) }'; }

# tls_full_share FILE: share of received records the NIC fully decrypted.
tls_full_share() {
    local f n p
    f=$(c "$1" rx_tls_msgs_full); n=$(c "$1" rx_tls_msgs_none); p=$(c "$1" rx_tls_msgs_partial)
    ratio "$f" $((f + n + p))
}
# tls_loss_counters FILE: "resync=R txrec=T" (RX resync requests/answers, TX recoveries:
# out-of-order sends that made the NIC rebuild its state from the dumped record prefix).
tls_loss_counters() {
    local r t
    r=$(($(c "$1" rx_tls_resync_req_start) + $(c "$1" rx_tls_resync_res_ok) + $(c "$1" rx_tls_resync_jump)))
    t=$(($(c "$1" tx_tls_ooo) + $(c "$1" tx_tls_dump_packets)))
    echo "resync=$r txrec=$t"
}
# tshark_decrypts PCAP KEYLOG: frames whose TLS application data tshark decrypted (shown as
# `data`; `tls.app_data` would also match ciphertext it cannot read). First 4000 frames only:
# enough to prove the keys, cheap on a 64 MiB capture.
tshark_decrypts() {
    tshark -r "$1" -c 4000 -o "tls.keylog_file:$2" -Y 'data' -T fields -e frame.number \
        2>/dev/null | wc -l
}
