# nvme_host.sh TRADDR NQN MIB - (guest) the kernel's nvme-tcp host against a target at
# TRADDR:4420 with header and data digests (what `nvme connect -t tcp -g -G` writes to
# /dev/nvme-fabrics), then an O_DIRECT write of MIB MiB of random data and an O_DIRECT
# read-back. Prints WROTE_MD5 / READ_MD5 (with dd's status) and RESULT PASS|FAIL; the harness
# judges a tampered run from those lines (errors expected, nothing wrong read back).
ADDR=$1 NQN=$2 MB=$3
dmesg -c > /dev/null
t() { cut -d' ' -f1 /proc/uptime; }
exec 3<> /dev/nvme-fabrics || { echo "RESULT FAIL no /dev/nvme-fabrics"; exit 1; }
# busybox echo reports the write error (errno of the connect); printf would not. A digest
# error makes the host reconnect and retry (nvme_core max_retries): 1 s between reconnects
# (default 10) keeps a tampered run's failure well inside the harness's time limit.
if ! echo -n "nqn=$NQN,transport=tcp,traddr=$ADDR,trsvcid=4420,hdr_digest,data_digest,reconnect_delay=1,ctrl_loss_tmo=5" >&3; then
    dmesg | tail -n 5; echo "RESULT FAIL connect $ADDR:4420"; exit 1
fi
read -r info <&3; exec 3>&-
inst=$(echo "$info" | sed -n 's/.*instance=\([0-9]*\).*/\1/p')
echo "connected: $info"
dev=
for i in $(seq 100); do
    for b in /sys/class/nvme/nvme$inst/nvme*n1 /sys/block/nvme${inst}n1; do [ -e "$b" ] && dev=/dev/${b##*/}; done
    [ -n "$dev" ] && [ -b "$dev" ] && break; dev=; sleep 0.1
done
disc() { echo 1 > /sys/class/nvme/nvme$inst/delete_controller 2>/dev/null; }
[ -n "$dev" ] || { dmesg | tail; disc; echo "RESULT FAIL no namespace"; exit 1; }
dd if=/dev/urandom of=/tmp/w bs=1M count="$MB" 2>/dev/null
t0=$(t)
dd if=/tmp/w of="$dev" bs=1M count="$MB" oflag=direct 2>/tmp/dd.err; wrc=$?
t1=$(t)
dd if="$dev" of=/tmp/r bs=1M count="$MB" iflag=direct 2>>/tmp/dd.err; rrc=$?
t2=$(t)
a=$(md5sum < /tmp/w | cut -d' ' -f1); b=$(md5sum < /tmp/r | cut -d' ' -f1)
echo "WROTE_MD5 $a rc=$wrc ${MB}MiB $(awk "BEGIN{print $t1-$t0}")s"
echo "READ_MD5 $b rc=$rrc $(awk "BEGIN{print $t2-$t1}")s"
cat /tmp/dd.err; dmesg | grep -iE 'nvme|digest' | tail -n 8
disc
[ $wrc = 0 ] && [ $rrc = 0 ] && [ "$a" = "$b" ] && { echo "RESULT PASS"; exit 0; }
echo "RESULT FAIL"; exit 1
