# shellcheck shell=bash
# modules.sh - the guest's kernel modules: what the interop roles need, closed over
# modules.dep and modules.softdep (sourced by build.sh).
# Crypto algorithms (gcm, ghash, rfc7539 = ChaCha20-Poly1305, crc32c) are requested by name at run time, invisible to
# modules.dep, so they are listed explicitly; under TCG `-cpu max` the *-intel ones load.
IO_GUEST_MODULES="virtio_pci virtio_net configfs null_blk nvmet nvmet-tcp nvme-tcp nvme-fabrics
    tls 9pnet_virtio 9p crc32c-intel crc32c_generic libcrc32c aesni-intel gcm ctr ghash-generic
    ghash-clmulni-intel chacha20poly1305 chacha_generic chacha-x86_64 poly1305_generic poly1305-x86_64
    af_packet"

# io_module_closure MODDIR DEST: copy the closure (decompressed) to DEST; prints its size.
io_module_closure() {
    local moddir=$1 dest=$2 line path name m n p d s
    declare -A path_of deps_of soft_of chosen
    while IFS= read -r line; do
        path=${line%%:*}; name=${path##*/}; name=${name%%.ko*}; name=${name//-/_}
        path_of[$name]=$path; deps_of[$path]=${line#*:}
    done < "$moddir/modules.dep"
    if [ -f "$moddir/modules.softdep" ]; then
        while read -r kw m line; do
            [ "$kw" = softdep ] && soft_of[${m//-/_}]=$(echo "$line" | sed 's/pre://g; s/post://g')
        done < "$moddir/modules.softdep"
    fi
    local queue=()
    for m in $IO_GUEST_MODULES; do
        n=${m//-/_}
        if [ -n "${path_of[$n]:-}" ]; then queue+=("$n")
        elif ! grep -qE "/($m|$n)\.ko" "$moddir/modules.builtin"; then
            echo "module $m neither loadable nor built in" >&2; return 1
        fi
    done
    while [ ${#queue[@]} -gt 0 ]; do
        n=${queue[0]}; queue=("${queue[@]:1}")
        p=${path_of[$n]:-}
        [ -n "$p" ] && [ -z "${chosen[$p]:-}" ] || continue
        chosen[$p]=1
        for d in ${deps_of[$p]}; do d=${d##*/}; d=${d%%.ko*}; queue+=("${d//-/_}"); done
        for s in ${soft_of[$n]:-}; do queue+=("${s//-/_}"); done
    done
    for p in "${!chosen[@]}"; do
        mkdir -p "$dest/$(dirname "$p")"
        case "$p" in
            *.ko.xz)  xz -dc "$moddir/$p" > "$dest/${p%.xz}" ;;
            *.ko.zst) zstd -qdc "$moddir/$p" > "$dest/${p%.zst}" ;;
            *)        cp "$moddir/$p" "$dest/$p" ;;
        esac
    done
    for m in modules.builtin modules.builtin.modinfo modules.order; do
        [ -f "$moddir/$m" ] && cp "$moddir/$m" "$dest/"
    done
    echo "${#chosen[@]}"
}
