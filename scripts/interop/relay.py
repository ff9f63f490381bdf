#!/usr/bin/python3
"""relay.py TAP DIR [SECONDS] - carry Ethernet frames between a TAP device and QEMU's
`-netdev dgram` Unix sockets in DIR (we bind DIR/host.sock and connect to DIR/qemu.sock: the
same end autonic's `--wire qemu:DIR` takes). It lets the kernel behind the TAP talk to the guest
without autonic: the harness's self-check of the guest over the real wire path, and a way to
measure what TCG, not autonic, allows. One read() on a TAP (IFF_NO_PI) = one frame = one
datagram. QEMU's socket queue holds only ~10 datagrams, so frames are queued on EAGAIN and sent
on POLLOUT (a plain sendto() loop loses frames). Stops after SECONDS (default 600) or SIGTERM."""
import collections, fcntl, os, select, signal, socket, struct, sys, time

TUNSETIFF, IFF_TAP, IFF_NO_PI = 0x400454CA, 0x0002, 0x1000


def open_tap(name):
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TAP | IFF_NO_PI))
    return fd


def main():
    tap, d = sys.argv[1], sys.argv[2]
    limit = time.time() + (float(sys.argv[3]) if len(sys.argv) > 3 else 600)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    tfd = open_tap(tap)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        os.unlink(d + "/host.sock")
    except FileNotFoundError:
        pass
    s.bind(d + "/host.sock")
    s.connect(d + "/qemu.sock")
    s.setblocking(False)
    to_qemu, to_tap = collections.deque(), collections.deque()
    p = select.poll()
    counts = [0, 0]
    while time.time() < limit:
        p.register(tfd, select.POLLIN | (select.POLLOUT if to_tap else 0))
        p.register(s, select.POLLIN | (select.POLLOUT if to_qemu else 0))
        for fd, ev in p.poll(500):
            if fd == tfd and ev & select.POLLIN and len(to_qemu) < 4096:
                to_qemu.append(os.read(tfd, 65536))
            if fd != tfd and ev & select.POLLIN and len(to_tap) < 4096:
                to_tap.append(s.recv(65536))
        while to_qemu:
            try:
                s.send(to_qemu[0])
            except (BlockingIOError, ConnectionRefusedError, FileNotFoundError):
                break  # QEMU's queue is full (or QEMU not up yet): wait for POLLOUT
            to_qemu.popleft(); counts[0] += 1
        while to_tap:
            try:
                os.write(tfd, to_tap[0])
            except BlockingIOError:
                break
            to_tap.popleft(); counts[1] += 1
    print(f"relay: {counts[0]} frames to the guest, {counts[1]} from it", file=sys.stderr)


if __name__ == "__main__":
    main()
