# shellcheck shell=bash
# common.sh - settings and helpers shared by the interop scripts (sourced, never executed).
# Every setting can be overridden from the environment. Addresses and MACs follow the CLI
# spec: autonic is 192.168.77.1 / 52:54:00:77:00:01, its peer 192.168.77.2 / 52:54:00:77:00:02.
IO_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
IO_ROOT=$(cd "$IO_SRC/../.." && pwd)
IO_BUILD=${IO_BUILD:-$IO_ROOT/build-interop}        # cache: kernel, initramfs, certs, logs
IO_VM=$IO_BUILD/vm                                     # vmlinuz, initrd.gz, build.info
IO_RUN=${IO_RUN:-$IO_BUILD/run}                        # sockets, pid files, consoles
IO_SHARE=$IO_RUN/share                                 # 9p share = /host in the guest
IO_CERTS=$IO_BUILD/certs
AUTONIC=${AUTONIC:-$IO_ROOT/build/autonic}

IO_NET=${IO_NET:-192.168.77}
IO_OUR_IP=$IO_NET.1 IO_PEER_IP=$IO_NET.2
IO_OUR_MAC=52:54:00:77:00:01 IO_PEER_MAC=52:54:00:77:00:02
IO_NQN=${IO_NQN:-nqn.2026-11.io.autonic:peer}         # the guest's nvmet subsystem
IO_NETNS=${IO_NETNS:-autonic-peer}                      # host-kernel peer namespace
IO_TAP=${IO_TAP:-an0}
IO_VM_MEM=${IO_VM_MEM:-1024} IO_VM_SMP=${IO_VM_SMP:-2}

io_log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }
io_die() { echo "interop: $*" >&2; exit 2; }

# io_need_pkgs PKG...: install the Debian packages that are missing (the project installs
# its own dependencies, like scripts/deps.sh). Root only; returns 1 otherwise.
io_need_pkgs() {
    local p missing=""
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing="$missing $p"
    done
    [ -z "$missing" ] && return 0
    [ "$(id -u)" = 0 ] || { echo "interop: missing packages:$missing (run as root)" >&2; return 1; }
    io_log "installing:$missing"
    echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections 2>/dev/null || true
    export DEBIAN_FRONTEND=noninteractive
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >/dev/null 2>&1 ||
        { apt-get update -qq && apt-get install -y -qq --no-install-recommends $missing >/dev/null; }
}

# io_pid_alive PIDFILE PATTERN: print the PID in PIDFILE if that process still exists and its
# command line matches PATTERN (guards against PID reuse).
io_pid_alive() {
    local pid
    [ -s "$1" ] || return 1
    pid=$(cat "$1")
    [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' < "/proc/$pid/cmdline" | grep -q -- "$2" || return 1
    echo "$pid"
}

# io_kill_pid PID: SIGTERM, then SIGKILL after 5 s. Only the given process.
io_kill_pid() {
    local pid=$1 i
    kill -TERM "$pid" 2>/dev/null || return 0
    for i in $(seq 25); do [ -d "/proc/$pid" ] || return 0; sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null || true
}

# io_certs: a self-signed P-256 server certificate (CN=peer.test, SAN also both IPs),
# generated once; used by openssl s_server, the guest and autonic tls serve.
io_certs() {
    mkdir -p "$IO_CERTS"
    [ -s "$IO_CERTS/cert.pem" ] && [ -s "$IO_CERTS/key.pem" ] && return 0
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
        -subj /CN=peer.test -addext "subjectAltName=DNS:peer.test,IP:$IO_OUR_IP,IP:$IO_PEER_IP" \
        -keyout "$IO_CERTS/key.pem" -out "$IO_CERTS/cert.pem" 2>/dev/null
}
IO_PY=${IO_PY:-/usr/bin/python3}     # the system python: a pyenv shim costs 1.5 s per start

# io_icreq HOST [PORT]: send an NVMe/TCP ICReq (NVMe/TCP 1.0 sec. 3.6.2.2: PFV 0, both digests
# asked) and print the ICResp fields; fails when nothing answers in 10 s.
io_icreq() {
    "$IO_PY" - "$1" "${2:-4420}" <<'PYEOF'
import socket, struct, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
s.sendall(struct.pack('<BBBBIHBBI', 0, 0, 128, 0, 128, 0, 0, 3, 0).ljust(128, b'\0'))
r = b''
while len(r) < 128:
    d = s.recv(128 - len(r))
    if not d: sys.exit('closed before ICResp')
    r += d
t, _, hlen, _, plen, pfv, cpda, dgst, maxh2c = struct.unpack_from('<BBBBIHBBI', r)
print(f'ICResp type={t} plen={plen} pfv={pfv} cpda={cpda} dgst={dgst} maxh2cdata={maxh2c}')
PYEOF
}
