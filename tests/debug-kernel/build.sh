#!/bin/bash
# Build (or reuse) the modalfs debug kernel: Debian's linux-source-6.1 with
# KASAN, lockdep (PROVE_LOCKING), kmemleak and the VM's drivers built in.
#
#   tests/debug-kernel/build.sh          build or reuse; print the cache dir
#   tests/debug-kernel/build.sh --key    print the cache dir only
#
# The build lives OUTSIDE the repository, keyed by the source package's
# version and a hash of the configuration inputs:
#   ${MODALFS_DEBUG_CACHE:-/var/cache/modalfs/debug-kernel}/<srcver>-<confighash>/
#     bzImage      the kernel vm.sh boots (--kernel)
#     src/         the configured, built tree (make -C src M=... for modules)
#     build.log    the last build's output; build.time its duration
# A finished build is marked by src/.modalfs-built and is never rebuilt.
# make -j${DEBUG_KERNEL_JOBS:-2}, under nice -n 19 unless already niced.
set -eu

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC_TAR=${SRC_TAR:-/usr/src/linux-source-6.1.tar.xz}
CACHE_ROOT=${MODALFS_DEBUG_CACHE:-/var/cache/modalfs/debug-kernel}
JOBS=${DEBUG_KERNEL_JOBS:-2}

[ -r "$SRC_TAR" ] || { echo "build.sh: $SRC_TAR missing (apt-get install linux-source-6.1)" >&2; exit 2; }
srcver=$(dpkg-query -W -f '${Version}' linux-source-6.1 2>/dev/null || true)
[ -n "$srcver" ] || srcver=$(stat -c %s-%Y "$SRC_TAR")
# The key covers everything that decides the configuration.
confighash=$( { cat "$HERE/debug.config"; sed -n '/^# ---- config ----/,/^# ---- end config ----/p' "$0"; } \
	| sha256sum | cut -c1-12)
DIR=$CACHE_ROOT/$srcver-$confighash
if [ "${1:-}" = --key ]; then echo "$DIR"; exit 0; fi

if [ -e "$DIR/src/.modalfs-built" ] && [ -s "$DIR/bzImage" ]; then
	echo "$DIR"
	exit 0
fi

mkdir -p "$DIR"
exec 9>"$DIR/.lock"
if ! flock -n 9; then
	echo "build.sh: another build of $DIR is running; waiting" >&2
	flock 9
fi
if [ -e "$DIR/src/.modalfs-built" ] && [ -s "$DIR/bzImage" ]; then echo "$DIR"; exit 0; fi

NICE=()
[ "$(nice)" -ge 19 ] || NICE=(nice -n 19)
start=$(date +%s)
{
echo "build.sh: building the debug kernel in $DIR/src (started $(date -u))"
if [ ! -e "$DIR/src/.modalfs-extracted" ]; then
	rm -rf "$DIR/src"
	mkdir -p "$DIR/src"
	"${NICE[@]}" tar -xJf "$SRC_TAR" -C "$DIR/src" --strip-components=1
	touch "$DIR/src/.modalfs-extracted"
fi
cd "$DIR/src"
# ---- config ----
"${NICE[@]}" make -s x86_64_defconfig
"${NICE[@]}" ./scripts/kconfig/merge_config.sh -m .config kernel/configs/kvm_guest.config "$HERE/debug.config"
"${NICE[@]}" make -s olddefconfig
# ---- end config ----
# merge_config only warns when Kconfig drops a value: insist on the ones
# the tests rely on.
missing=
for o in KASAN PROVE_LOCKING DEBUG_KMEMLEAK DEBUG_FS KUNIT PRINTK_TIME VIRTIO_PCI VIRTIO_BLK \
	NET_9P_VIRTIO 9P_FS OVERLAY_FS EXT4_FS TMPFS DEVTMPFS BLK_DEV_INITRD MODULE_UNLOAD; do
	grep -qx "CONFIG_$o=y" .config || missing="$missing $o"
done
[ -z "$missing" ] || { echo "build.sh: the configuration lacks:$missing" >&2; exit 1; }
"${NICE[@]}" make -j"$JOBS" bzImage modules
cp arch/x86/boot/bzImage "$DIR/bzImage.tmp"
mv -f "$DIR/bzImage.tmp" "$DIR/bzImage"
touch .modalfs-built
end=$(date +%s)
echo "build.sh: done in $((end - start)) s"
echo "$((end - start))" > "$DIR/build.time"
} > "$DIR/build.log" 2>&1 || { rc=$?; echo "build.sh: failed, see $DIR/build.log" >&2; tail -n 30 "$DIR/build.log" >&2; exit $rc; }
echo "$DIR"
