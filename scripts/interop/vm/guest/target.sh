# target.sh NQN MIB - (guest) an nvmet-tcp port on 0.0.0.0:4420 exporting one namespace: a
# memory-backed null_blk of MIB MiB (pages allocated on write, so reads of unwritten blocks
# return zeroes). Any host may connect; header and data digests are the host's choice
# (nvmet-tcp accepts whatever the ICReq asks).
NQN=$1 MB=$2
modprobe null_blk nr_devices=0 && modprobe nvmet && modprobe nvmet-tcp || exit 1
NB=/sys/kernel/config/nullb/nullb0
mkdir $NB && echo "$MB" > $NB/size && echo 512 > $NB/blocksize && echo 1 > $NB/memory_backed &&
    echo 1 > $NB/power || exit 1
S=/sys/kernel/config/nvmet/subsystems/$NQN P=/sys/kernel/config/nvmet/ports/1
mkdir "$S" && echo 1 > "$S/attr_allow_any_host" && mkdir "$S/namespaces/1" &&
    echo -n /dev/nullb0 > "$S/namespaces/1/device_path" && echo 1 > "$S/namespaces/1/enable" &&
    mkdir $P && echo tcp > $P/addr_trtype && echo ipv4 > $P/addr_adrfam &&
    echo 0.0.0.0 > $P/addr_traddr && echo 4420 > $P/addr_trsvcid && ln -s "$S" $P/subsystems/
