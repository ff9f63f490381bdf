#!/bin/bash
# run.sh [CASE|GROUP...] - autonic against real Linux peers (`make interop`; issue #10).
#   host group (this kernel in a namespace behind a TAP, openssl 3.0):
#     tls-connect        openssl s_server <-> autonic tls connect, AES-128-GCM, clean, pcap+tshark
#     tls-connect-loss   the same, AES-256-GCM, --loss 1% --reorder 1%
#     tls-serve          autonic tls serve <-> openssl s_client, AES-256-GCM, clean, pcap+tshark
#     tls-serve-loss     the same, AES-128-GCM, --loss 1% --reorder 1%
#     inject             hostile frames into the TAP during a transfer
#     bridge             two autonic processes on two TAPs joined by a bridge (tls, nvme)
#   vm group (Linux 6.1 guest under QEMU/TCG, built by vm/build.sh):
#     vm-wire            (by name only) the guest alone over relay.py: ICReq, kTLS echo, throughput
#     vm-nvme-randread, vm-nvme-randwrite, vm-nvme-randread-loss, vm-nvme-randwrite-loss
#     vm-host, vm-host-tamper   the guest's nvme-tcp host -> autonic nvme target
#     vm-ktls            autonic tls connect <-> the guest's kernel TLS (vm-ktls12, vm-ktls-chacha,
#                        vm-ktls12-chacha: TLS 1.2 / ChaCha20-Poly1305)
#   bench (not in all): autonic -> kernel over the TAP, TLS offload vs plain TCP throughput
# No arguments: every case. Prints PASS/FAIL/SKIP per case with its log directory; exit 1 if
# any case failed. SKIPs (exit 0) when not root, no /dev/net/tun, or no autonic binary.
# Environment: AUTONIC (build/autonic), IO_TLS_BYTES (64M), IO_VM_NVME_BYTES (32M).
set -uo pipefail
. "$(dirname "$0")/common.sh"
. "$IO_SRC/netns.sh"
set +e
. "$IO_SRC/lib.sh"
. "$IO_SRC/cases_host.sh"
. "$IO_SRC/cases_vm.sh"
IO_TLS_BYTES=${IO_TLS_BYTES:-64M}
IO_VM_NVME_BYTES=${IO_VM_NVME_BYTES:-32M}
IO_CASE_LIMIT=${IO_CASE_LIMIT:-150}

HOST_CASES="tls-connect tls-connect-loss tls-serve tls-serve-loss tls12-connect tls12-serve-loss chacha-connect-ku chacha-serve-ku-loss inject bridge"
# vm-wire (the guest checked on its own through relay.py, no autonic) is a diagnostic, run by
# name: its python kTLS echo can leave the guest's one-connection kTLS peer busy.
VM_CASES="vm-ktls vm-ktls12 vm-ktls-chacha vm-ktls12-chacha vm-nvme-randread vm-nvme-randwrite vm-nvme-randread-loss vm-nvme-randwrite-loss vm-host vm-host-tamper"
dispatch() {
    case "$1" in
        tls-connect) case_tls connect aes128gcm 0 ;;       tls-connect-loss) case_tls connect aes256gcm 1 ;;
        tls-serve) case_tls serve aes256gcm 0 ;;           tls-serve-loss) case_tls serve aes128gcm 1 ;;
        tls12-connect) case_tls connect aes128gcm 0 1.2 ;; tls12-serve-loss) case_tls serve chacha20poly1305 1 1.2 ;;
        chacha-connect-ku) case_tls connect chacha20poly1305 0 1.3 64 ;;
        chacha-serve-ku-loss) case_tls serve chacha20poly1305 1 1.3 64 ;;
        inject) case_inject ;;                              bridge) case_bridge ;;
        vm-wire) case_vm_wire ;;
        vm-nvme-randread) case_vm_nvme randread 0 ;;        vm-nvme-randwrite) case_vm_nvme randwrite 0 ;;
        vm-nvme-randread-loss) case_vm_nvme randread 1 ;;   vm-nvme-randwrite-loss) case_vm_nvme randwrite 1 ;;
        vm-host) case_vm_host 0 ;;                          vm-host-tamper) case_vm_host 1 ;;
        vm-ktls) case_vm_ktls aes256gcm ;;                  bench) case_bench ;;
        vm-ktls12) case_vm_ktls aes128gcm 1.2 ;;            vm-ktls-chacha) case_vm_ktls chacha20poly1305 ;;
        vm-ktls12-chacha) case_vm_ktls chacha20poly1305 1.2 ;;
        *) echo "FAIL $1: unknown case"; exit 1 ;;
    esac
}

[ "$(id -u)" = 0 ] || { echo "SKIP: interop needs root (TAP devices, network namespaces)"; exit 0; }
[ -c /dev/net/tun ] || { echo "SKIP: no /dev/net/tun"; exit 0; }
[ -x "$AUTONIC" ] || { echo "SKIP: no autonic binary at $AUTONIC (make build)"; exit 0; }
io_need_pkgs openssl tshark jq iproute2 || { echo "SKIP: cannot install openssl/tshark/jq"; exit 0; }

CASES=()
for a in "${@:-all}"; do
    case "$a" in
        all) read -ra x <<< "$HOST_CASES $VM_CASES"; CASES+=("${x[@]}") ;;
        host) read -ra x <<< "$HOST_CASES"; CASES+=("${x[@]}") ;;
        vm) read -ra x <<< "$VM_CASES"; CASES+=("${x[@]}") ;;
        *) CASES+=("$a") ;;
    esac
done
LOGS=$IO_BUILD/logs/$(date +%Y%m%d-%H%M%S)
mkdir -p "$LOGS"
# keep the last 3 runs' logs (the clean TLS cases leave ~140 MB captures each)
ls -1d "$IO_BUILD"/logs/*/ | head -n -3 | xargs -r rm -rf
T_START=$(date +%s)
VM_STATE=none   # none | up | failed: the guest boots once, on the first vm case
cleanup() {
    [ "$VM_STATE" = up ] && "$IO_SRC/vm/stop.sh" > /dev/null 2>&1
    ns_down 2>/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT TERM
io_certs

vm_up() {
    [ "$VM_STATE" = none ] || [ "$VM_STATE" = up ] || [ "$VM_STATE" = reused ] || return 1
    [ "$VM_STATE" = none ] || return 0
    if io_pid_alive "$IO_RUN/vm/qemu.pid" "$IO_VM/initrd.gz" > /dev/null; then
        echo "guest: reusing the running guest (vm/stop.sh stops it)"; VM_STATE=reused; return 0
    fi
    VM_STATE=failed
    io_need_pkgs qemu-system-x86 busybox-static cpio || { VM_WHY="cannot install qemu"; return 1; }
    "$IO_SRC/vm/build.sh" > "$LOGS/vm-build.log" 2>&1 || { VM_WHY="vm/build.sh failed ($LOGS/vm-build.log)"; return 1; }
    "$IO_SRC/vm/start.sh" --target --ktls > "$LOGS/vm-boot.log" 2>&1 || { VM_WHY="guest did not boot ($LOGS/vm-boot.log)"; return 1; }
    echo "guest: $(grep VM_BOOT "$LOGS/vm-boot.log"), $(grep '^kpkg\|^kversion' "$IO_VM/build.info" | tr '\n' ' ')"
    VM_STATE=up
}

npass=0 nfail=0 nskip=0
for CASE in "${CASES[@]}"; do
    CASE_DIR=$LOGS/$CASE
    mkdir -p "$CASE_DIR"
    t0=$(date +%s)
    if [[ $CASE == vm-* ]] && ! vm_up; then
        line="SKIP $CASE: ${VM_WHY:-guest unavailable}"
    else
        # one subshell per case: pass/fail exit it; its own background processes end with it
        line=$( (trap case_cleanup EXIT; ns_down; dispatch "$CASE") 2> "$CASE_DIR/harness.err" |
            tee "$CASE_DIR/harness.out" | grep -E '^(PASS|FAIL|SKIP) ' | tail -n 1)
        [ -n "$line" ] || line="FAIL $CASE: the case ended without a verdict (see $CASE_DIR/harness.err)"
    fi
    echo "$line ($(( $(date +%s) - t0 )) s)"
    case "$line" in PASS*) npass=$((npass + 1)) ;; SKIP*) nskip=$((nskip + 1)) ;; *) nfail=$((nfail + 1)) ;; esac
done
echo "interop: $npass passed, $nfail failed, $nskip skipped in $(( $(date +%s) - T_START )) s; logs $LOGS"
[ $nfail = 0 ]
