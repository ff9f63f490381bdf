#!/usr/bin/python3
"""inject.py IFACE SECONDS [RATE] - write hostile frames into a TAP from its kernel side
(AF_PACKET on the namespace's end of the TAP: what we send there comes out of the TAP's fd, i.e.
reaches autonic as received frames). Kinds, round robin: random garbage, IPv6 (ICMPv6 echo to
all-nodes), IPv4/TCP unicast to a foreign MAC, broadcast non-IP, and truncated frames (short
Ethernet, IPv4 header cut, IPv4 total length beyond the frame, TCP header cut) addressed to
autonic's MAC and IP. About RATE frames/s (default 200). Prints the count on exit (stderr)."""
import os, random, signal, socket, struct, sys, time

OUR = bytes.fromhex("525400770001")     # autonic
PEER = bytes.fromhex("525400770002")    # the namespace's side of the TAP
FOREIGN = bytes.fromhex("525400770099")


def ipv4(payload, total=None, proto=6, dst="192.168.77.1"):
    tl = total if total is not None else 20 + len(payload)
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, tl, random.getrandbits(16), 0, 64, proto, 0,
                    socket.inet_aton("192.168.77.2"), socket.inet_aton(dst))
    s = sum(struct.unpack("!10H", h))
    s = (s & 0xFFFF) + (s >> 16)
    s = (s & 0xFFFF) + (s >> 16)
    return h[:10] + struct.pack("!H", ~s & 0xFFFF) + h[12:] + payload


def tcp(sport=4433, dport=4433):
    return struct.pack("!HHIIBBHHH", sport, dport, random.getrandbits(32), 0, 0x50, 0x10, 512, 0, 0)


def kinds():
    return [
        lambda: os.urandom(random.randint(1, 1514)),                                   # garbage
        lambda: OUR + PEER + b"\x86\xdd" + os.urandom(60),                             # IPv6
        lambda: FOREIGN + PEER + b"\x08\x00" + ipv4(tcp() + os.urandom(100)),          # other MAC
        lambda: b"\xff" * 6 + PEER + b"\x88\xb5" + os.urandom(46),                     # broadcast
        lambda: OUR + PEER[:4],                                                        # runt
        lambda: OUR + PEER + b"\x08\x00" + ipv4(b"")[:12],                             # IPv4 cut
        lambda: OUR + PEER + b"\x08\x00" + ipv4(tcp(), total=1400),                    # length lie
        lambda: OUR + PEER + b"\x08\x00" + ipv4(tcp())[:30],                           # TCP cut
    ]


def main():
    iface, secs = sys.argv[1], float(sys.argv[2])
    rate = float(sys.argv[3]) if len(sys.argv) > 3 else 200
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    ks, n, end = kinds(), 0, time.time() + secs
    try:
        while time.time() < end:
            try:
                s.send(ks[n % len(ks)]())
            except OSError:
                pass  # e.g. the TAP's carrier is down before autonic attaches
            n += 1
            time.sleep(1 / rate)
    finally:
        print(f"inject: sent {n} hostile frames on {iface}", file=sys.stderr)


if __name__ == "__main__":
    main()
