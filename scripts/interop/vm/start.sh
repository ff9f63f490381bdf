#!/bin/bash
# vm/start.sh [--target] [--ktls] [--mtu N] [--ns-mb N] [--timeout S] - boot the peer guest
# under QEMU/TCG in the background and wait for IO_READY on its console.
# Network: one virtio-net NIC (MAC 52:54:00:77:00:02) on `-netdev dgram` over Unix datagram
# sockets in $IO_RUN/vm: QEMU binds qemu.sock and sends to host.sock, so the autonic side
# is `--wire qemu:$IO_RUN/vm` (it binds host.sock and connects to qemu.sock). One datagram =
# one Ethernet frame, no FCS. The guest is 192.168.77.2/24 with a permanent neighbour entry for
# autonic (192.168.77.1 at 52:54:00:77:00:01).
# Prints "VM_BOOT_SECONDS s"; the qemu PID is in $IO_RUN/vm/qemu.pid (vm/stop.sh).
set -euo pipefail
. "$(dirname "$0")/../common.sh"
TARGET=0 KTLS=0 MTU=1500 NS_MB=256 TIMEOUT=120
while [ $# -gt 0 ]; do
    case "$1" in
        --target) TARGET=1 ;; --ktls) KTLS=1 ;;
        --mtu) MTU=$2; shift ;; --ns-mb) NS_MB=$2; shift ;; --timeout) TIMEOUT=$2; shift ;;
        *) io_die "start.sh: unknown argument $1" ;;
    esac
    shift
done
D=$IO_RUN/vm
[ -s "$IO_VM/initrd.gz" ] && [ -s "$IO_VM/vmlinuz" ] || io_die "guest not built (vm/build.sh)"
if pid=$(io_pid_alive "$D/qemu.pid" "$IO_VM/initrd.gz"); then io_die "guest already running (pid $pid)"; fi
mkdir -p "$D" "$IO_SHARE"
rm -f "$D"/qemu.sock "$D"/console.log "$D"/qemu.pid "$IO_SHARE"/cmd.* "$IO_SHARE"/ktls.log
APPEND="console=ttyS0 panic=-1 loglevel=4 io_ip=$IO_PEER_IP/24 io_peer=$IO_OUR_IP io_peer_mac=$IO_OUR_MAC"
APPEND="$APPEND io_mtu=$MTU io_target=$TARGET io_nqn=$IO_NQN io_ns_mb=$NS_MB io_ktls=$KTLS"
T0=$(date +%s%N)
# -cpu max: TCG exposes AES-NI/PCLMUL/SSE4.2, so aesni-intel, ghash-clmulni and crc32c-intel
# load (emulated); there is no usable KVM here. -daemonize reports start-up errors first.
qemu-system-x86_64 -accel tcg -cpu max -smp "$IO_VM_SMP" -m "$IO_VM_MEM" -no-reboot \
    -kernel "$IO_VM/vmlinuz" -initrd "$IO_VM/initrd.gz" -append "$APPEND" \
    -display none -monitor none -serial "file:$D/console.log" \
    -netdev "dgram,id=n0,local.type=unix,local.path=$D/qemu.sock,remote.type=unix,remote.path=$D/host.sock" \
    -device "virtio-net-pci,netdev=n0,mac=$IO_PEER_MAC,host_mtu=$MTU" \
    -virtfs "local,path=$IO_SHARE,mount_tag=host,security_model=none,id=host" \
    -pidfile "$D/qemu.pid" -daemonize > "$D/qemu.out" 2>&1 || { cat "$D/qemu.out" >&2; io_die "qemu failed"; }
PID=$(cat "$D/qemu.pid")
deadline=$(($(date +%s) + TIMEOUT))
until grep -q '^IO_READY' "$D/console.log" 2>/dev/null; do
    if [ ! -d "/proc/$PID" ] || [ "$(date +%s)" -ge $deadline ]; then
        tail -n 20 "$D/console.log" >&2; io_kill_pid "$PID"; io_die "guest did not boot (console $D/console.log)"
    fi
    sleep 0.2
done
ms=$((($(date +%s%N) - T0) / 1000000))
if grep '^IO_FAIL' "$D/console.log" >&2; then io_kill_pid "$PID"; io_die "guest set-up failed (console $D/console.log)"; fi
echo "VM_BOOT_SECONDS $((ms / 1000)).$(printf %03d $((ms % 1000))) (pid $PID, console $D/console.log, wire qemu:$D)"
