#!/usr/bin/env python3
"""Sends hostile frames into an autonic host's QEMU dgram socket (argv[1]) for argv[2] seconds:
random bytes, runts, IPv6, broadcast, foreign-MAC unicast, truncated IPv4/TCP headers, bad
lengths, ARP with odd sizes. The host must drop and count them, never crash or hang."""
import os, random, socket, struct, sys, time

path, secs, mac = sys.argv[1], float(sys.argv[2]), bytes.fromhex(sys.argv[3].replace(':', ''))
rng = random.Random(int(sys.argv[4]) if len(sys.argv) > 4 else 1)
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
other = b'\x52\x54\x00\xee\xee\xee'

def frames():
    yield os.urandom(rng.randint(1, 13))                                    # runt
    yield os.urandom(rng.randint(14, 1514))                                 # noise
    yield mac + other + b'\x86\xdd' + os.urandom(rng.randint(0, 200))       # IPv6
    yield b'\xff' * 6 + other + b'\x08\x00' + os.urandom(60)                # broadcast IPv4
    yield other + other + b'\x08\x00' + os.urandom(100)                     # foreign MAC
    ip = bytearray(os.urandom(40)); ip[0] = 0x45; ip[9] = 6
    struct.pack_into('!H', ip, 2, rng.randint(0, 65535))                    # lying total length
    yield mac + other + b'\x08\x00' + bytes(ip[:rng.randint(0, 40)])        # truncated IPv4/TCP
    yield mac + other + b'\x08\x06' + os.urandom(rng.randint(0, 40))        # short / odd ARP
    yield b'\xff' * 6 + other + b'\x08\x06' + struct.pack('!HHBBH', 1, 0x800, 6, 4, 1) + os.urandom(20)

end = time.time() + secs
sent = 0
while time.time() < end:
    for f in frames():
        try:
            s.sendto(f, path)
            sent += 1
        except (BlockingIOError, ConnectionRefusedError, FileNotFoundError):
            time.sleep(0.001)
    time.sleep(0.0005)
print(f"garbage: {sent} frames sent", file=sys.stderr)
