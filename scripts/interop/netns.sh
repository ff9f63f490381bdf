#!/bin/bash
# netns.sh - the host kernel as autonic's peer, in a network namespace behind a TAP.
# Sourced by run.sh (functions ns_*), or run: netns.sh up [TAP] [MTU] | bridge BR TAP... | down
#
# Who owns the TAP (measured on this machine's kernel):
# - TUNSETIFF looks the name up in the CALLER's namespace. A persistent TAP made with
#   `ip -n NS tuntap add dev an0 mode tap` (IFF_NO_PI is ip's default) lives in NS, and a process
#   started with `ip netns exec NS` attaches to it by name. So the harness runs autonic inside the
#   namespace: autonic never uses the namespace's IP stack (it only reads/writes the TAP fd), the
#   kernel side of the TAP is the peer's interface there, and nothing touches the root namespace.
# - The other order also works: a process in the root namespace creates the TAP (non-persistent),
#   then `ip link set an0 netns NS` moves the netdev while the process keeps its fd; frames still
#   flow. The TAP vanishes with the process's fd. Not used here (it races the process start).
# - A persistent TAP moved to NS is invisible to TUNSETIFF in the root namespace (it creates a
#   new, unrelated an0 there).
# The peer side: MAC 52:54:00:77:00:02, 192.168.77.2/24, a permanent neighbour entry for
# autonic (192.168.77.1 = 52:54:00:77:00:01) so no ARP is needed (autonic answers ARP anyway).
# The kernel also sends IPv6 (router solicitations, MLD) on the TAP: noise autonic must drop.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

ns_exec() { ip netns exec "$IO_NETNS" "$@"; }

# ns_up: the namespace with loopback up (idempotent).
ns_up() {
    ip netns list | grep -qw "^$IO_NETNS" || ip netns add "$IO_NETNS"
    ip -n "$IO_NETNS" link set lo up
}

# ns_tap TAP MTU MAC IP NEIGH_IP NEIGH_MAC: a persistent TAP in the namespace whose kernel side
# is a host at IP, with NEIGH as a permanent neighbour (no ARP needed either way).
ns_tap() {
    local tap=$1 mtu=$2 mac=$3 ip=$4 nip=$5 nmac=$6
    ns_up
    ip -n "$IO_NETNS" link del "$tap" 2>/dev/null || true
    ip -n "$IO_NETNS" tuntap add dev "$tap" mode tap
    ip -n "$IO_NETNS" link set "$tap" address "$mac" mtu "$mtu"
    ip -n "$IO_NETNS" addr add "$ip/24" dev "$tap"
    ip -n "$IO_NETNS" link set "$tap" up
    ip -n "$IO_NETNS" neigh replace "$nip" lladdr "$nmac" dev "$tap" nud permanent
}
# ns_tap_peer TAP MTU: the peer's interface, autonic its neighbour.
ns_tap_peer() { ns_tap "$1" "${2:-1500}" "$IO_PEER_MAC" "$IO_PEER_IP" "$IO_OUR_IP" "$IO_OUR_MAC"; }
# ns_tap_local TAP MTU MAC IP: a host at IP (e.g. autonic's address, for relay.py's guest
# self-check), the guest its neighbour.
ns_tap_local() { ns_tap "$1" "$2" "$3" "$4" "$IO_PEER_IP" "$IO_PEER_MAC"; }

# ns_bridge BR TAP...: persistent TAPs enslaved to a bridge with no address: two autonic
# processes, each on one TAP, see each other's frames (the shape that spans machines, with a
# VXLAN or physical port on the bridge instead).
ns_bridge() {
    local br=$1 tap; shift
    ns_up
    ip -n "$IO_NETNS" link del "$br" 2>/dev/null || true
    ip -n "$IO_NETNS" link add "$br" type bridge
    ip -n "$IO_NETNS" link set "$br" up
    for tap in "$@"; do
        ip -n "$IO_NETNS" link del "$tap" 2>/dev/null || true
        ip -n "$IO_NETNS" tuntap add dev "$tap" mode tap
        ip -n "$IO_NETNS" link set "$tap" master "$br" up
    done
}

# ns_down: delete the namespace and every TAP/bridge in it.
ns_down() {
    ip netns list | grep -qw "^$IO_NETNS" || return 0
    local dev
    for dev in $(ip -n "$IO_NETNS" -o link show | awk -F': ' '{print $2}' | cut -d@ -f1); do
        [ "$dev" = lo ] || ip -n "$IO_NETNS" link del "$dev" 2>/dev/null || true
    done
    ip netns del "$IO_NETNS"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    case "${1:-}" in
        up) ns_tap_peer "${2:-$IO_TAP}" "${3:-1500}"; ip -n "$IO_NETNS" addr show "${2:-$IO_TAP}" ;;
        bridge) shift; ns_bridge "$@" ;;
        down) ns_down ;;
        *) sed -n '2,3p' "$0"; exit 2 ;;
    esac
fi
