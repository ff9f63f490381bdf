#!/bin/bash
# vm/build.sh - build the Linux 6.1 peer guest from Debian packages: the kernel package that
# linux-image-amd64 depends on, the module closure autonic's interop cases need, and a
# busybox-static initramfs with the host's openssl, our kTLS peer (ktls_peer.c) and a cert.
# Idempotent and cached under $IO_BUILD/vm (kernel .deb downloaded and extracted once; the
# initramfs is repacked only when one of its inputs is newer). Prints the build.info path.
# Environment: IO_KPKG=linux-image-6.1.0-NN-amd64 pins the kernel package.
set -euo pipefail
. "$(dirname "$0")/../common.sh"
VMSRC=$IO_SRC/vm
io_need_pkgs qemu-system-x86 busybox-static cpio kmod gzip xz-utils zstd openssl gcc libssl-dev ||
    io_die "cannot install the guest's build dependencies"

# --- the kernel: the 6.1 image linux-image-amd64 points at (or the one already cached) ----
KDIR=$IO_VM/kernel
mkdir -p "$KDIR"
KPKG=${IO_KPKG:-}
[ -n "$KPKG" ] || KPKG=$(ls "$KDIR"/linux-image-6.1.*-amd64_*.deb 2>/dev/null | sort -V | tail -1 | xargs -r basename | cut -d_ -f1 || true)
pick() { apt-cache depends linux-image-amd64 2>/dev/null | awk '$1 == "Depends:" && $2 ~ /^linux-image-6\.1\./ {print $2; exit}'; }
[ -n "$KPKG" ] || KPKG=$(pick)
[ -n "$KPKG" ] || { apt-get update -qq; KPKG=$(pick); }
[ -n "$KPKG" ] || io_die "apt knows no linux-image-6.1.*-amd64 behind linux-image-amd64"
KVER=${KPKG#linux-image-}
DEB=$(ls "$KDIR/${KPKG}"_*.deb 2>/dev/null | sort -V | tail -1 || true)
if [ -z "$DEB" ]; then
    io_log "apt-get download $KPKG"
    (cd "$KDIR" && apt-get download -q "$KPKG" >/dev/null 2>&1) || io_die "apt-get download $KPKG failed"
    DEB=$(ls "$KDIR/${KPKG}"_*.deb | sort -V | tail -1)
fi
KROOT=$KDIR/root MODDIR=$KDIR/root/lib/modules/$KVER
if [ ! -f "$KROOT/boot/vmlinuz-$KVER" ] || [ ! -s "$MODDIR/modules.dep" ]; then
    io_log "extracting $(basename "$DEB")"
    rm -rf "$KROOT"; dpkg-deb -x "$DEB" "$KROOT"; depmod -b "$KROOT" "$KVER"
fi

# --- our kTLS peer, linked against the host's libssl (the guest runs the host's libraries) --
KTLS=$IO_VM/ktls_peer
if [ ! -x "$KTLS" ] || [ "$VMSRC/ktls_peer.c" -nt "$KTLS" ]; then
    gcc -O2 -Wall -Werror -o "$KTLS" "$VMSRC/ktls_peer.c" -lssl -lcrypto
fi
io_certs

# --- repack the initramfs only when an input changed --------------------------------------
INITRD=$IO_VM/initrd.gz
inputs=("$DEB" "$VMSRC"/init "$VMSRC"/guest/*.sh "$KTLS" "$IO_CERTS/cert.pem" "$(command -v openssl)" "$0" "$VMSRC/modules.sh")
fresh=1
for f in "${inputs[@]}"; do [ -f "$INITRD" ] && [ ! "$f" -nt "$INITRD" ] || fresh=0; done
if [ $fresh = 1 ]; then echo "$IO_VM/build.info"; exit 0; fi

STAGE=$IO_VM/stage
rm -rf "$STAGE"
mkdir -p "$STAGE"/{bin,sbin,dev,etc/interop,proc,sys,tmp,host,root,lib/modules/"$KVER"}
if ldd /bin/busybox >/dev/null 2>&1; then io_die "/bin/busybox is not static (busybox-static)"; fi
cp /bin/busybox "$STAGE/bin/"
install -m 755 "$VMSRC/init" "$STAGE/init"
install -m 755 "$VMSRC"/guest/*.sh "$STAGE/etc/interop/"
# shellcheck source=modules.sh
. "$VMSRC/modules.sh"
NMOD=$(io_module_closure "$MODDIR" "$STAGE/lib/modules/$KVER")
depmod -b "$STAGE" "$KVER"
for bin in "$(command -v openssl)" "$KTLS"; do
    cp "$bin" "$STAGE/bin/"
    for lib in $(ldd "$bin" | grep -o '/[^ ]*'); do
        mkdir -p "$STAGE$(dirname "$lib")"; cp -L "$lib" "$STAGE$lib"
    done
done
cp "$IO_CERTS/cert.pem" "$IO_CERTS/key.pem" "$STAGE/root/"
(cd "$STAGE" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) | gzip -6 > "$INITRD.tmp"
mv -f "$INITRD.tmp" "$INITRD"
cp "$KROOT/boot/vmlinuz-$KVER" "$IO_VM/vmlinuz"
rm -rf "$STAGE"
{
    echo "kpkg=$KPKG"; echo "kversion=$(dpkg-deb -f "$DEB" Version)"; echo "modules=$NMOD"
    echo "initrd_bytes=$(stat -c %s "$INITRD")"; echo "openssl=$(openssl version)"
} > "$IO_VM/build.info"
io_log "initramfs $(($(stat -c %s "$INITRD") / 1024)) KiB, $NMOD modules, kernel $KVER"
echo "$IO_VM/build.info"
