#!/bin/bash
# vm/stop.sh - stop the guest vm/start.sh booted (only the qemu whose PID file we wrote and
# whose command line is ours).
set -euo pipefail
. "$(dirname "$0")/../common.sh"
D=$IO_RUN/vm
if pid=$(io_pid_alive "$D/qemu.pid" "$IO_VM/initrd.gz"); then io_kill_pid "$pid"; echo "guest pid $pid stopped"; fi
rm -f "$D/qemu.pid" "$D/qemu.sock"
