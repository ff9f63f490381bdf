#!/bin/bash
# vm/guest.sh [-t SECONDS] 'commands' | -f FILE [ARGS...] - run busybox sh commands in the
# running guest through the 9p share (the guest's /init polls for cmd.sh every 0.2 s); prints
# their output and exits with their status (124 on timeout). -f runs a script from the
# guest's /etc/interop (e.g. -f nvme_host.sh 192.168.77.1 NQN 8) or a host file.
set -euo pipefail
. "$(dirname "$0")/../common.sh"
TIMEOUT=60
[ "${1:-}" = -t ] && { TIMEOUT=$2; shift 2; }
io_pid_alive "$IO_RUN/vm/qemu.pid" "$IO_VM/initrd.gz" >/dev/null || io_die "guest not running (vm/start.sh)"
S=$IO_SHARE
rm -f "$S/cmd.out" "$S/cmd.done"
echo "$TIMEOUT" > "$S/cmd.limit"
if [ "${1:-}" = -f ]; then
    f=$2; shift 2
    if [ -f "$f" ]; then cp "$f" "$S/.cmd.body"; printf 'sh /host/.cmd.body %s\n' "$*" > "$S/.cmd.tmp"
    else printf 'sh /etc/interop/%s %s\n' "$f" "$*" > "$S/.cmd.tmp"; fi
else
    printf '%s\n' "$*" > "$S/.cmd.tmp"
fi
mv -f "$S/.cmd.tmp" "$S/cmd.sh"          # one rename: the guest never sees half a command
end=$(($(date +%s) + TIMEOUT))
until [ -e "$S/cmd.done" ]; do
    [ "$(date +%s)" -lt $((end + 3)) ] || { rm -f "$S/cmd.sh"; echo "guest.sh: timed out after ${TIMEOUT}s" >&2; exit 124; }
    sleep 0.1
done
cat "$S/cmd.out"
exit "$(cat "$S/cmd.done")"
