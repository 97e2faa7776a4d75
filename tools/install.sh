#!/bin/sh
# Install modalfs: tools/install.sh [DESTDIR]
#   kmod/modalfs.ko  -> /lib/modules/$KVER/extra/   (if built)
#   userd/modalfsd   -> /usr/sbin/
#   tools/modalfsctl -> /usr/bin/
#   tools/mount.modalfs -> /sbin/  (mount -t modalfs and fstab use it)
#   Documentation/man/*.8 -> /usr/share/man/man8/
# KVER defaults to the newest kernel with headers under /lib/modules
# (same rule as the top-level Makefile), never the running kernel.
set -eu

DESTDIR=${1:-${DESTDIR:-}}
top=$(cd "$(dirname "$0")/.." && pwd)

if [ -z "${KVER:-}" ]; then
	KVER=$(for b in /lib/modules/*/build; do
		v=$(basename "$(dirname "$b")")
		[ -e "/boot/vmlinuz-$v" ] && echo "$v"
	done | sort -V | tail -n 1)
fi

for f in userd/modalfsd tools/modalfsctl tools/mount.modalfs; do
	if [ ! -x "$top/$f" ]; then
		echo "install.sh: $f is not built; run 'make' first" >&2
		exit 1
	fi
done

install -D -m 0755 "$top/userd/modalfsd" "$DESTDIR/usr/sbin/modalfsd"
install -D -m 0755 "$top/tools/modalfsctl" "$DESTDIR/usr/bin/modalfsctl"
install -D -m 0755 "$top/tools/mount.modalfs" "$DESTDIR/sbin/mount.modalfs"
for m in "$top"/Documentation/man/*.8; do
	[ -e "$m" ] || continue
	install -D -m 0644 "$m" "$DESTDIR/usr/share/man/man8/$(basename "$m")"
done

if [ -f "$top/kmod/modalfs.ko" ]; then
	if [ -z "$KVER" ]; then
		echo "install.sh: no kernel found under /lib/modules; set KVER" >&2
		exit 1
	fi
	install -D -m 0644 "$top/kmod/modalfs.ko" \
		"$DESTDIR/lib/modules/$KVER/extra/modalfs.ko"
	# Only refresh the module index of the real system.
	if [ -z "$DESTDIR" ] && command -v depmod >/dev/null 2>&1; then
		depmod -a "$KVER"
	fi
else
	echo "install.sh: kmod/modalfs.ko not built; skipping the module" >&2
fi
echo "installed modalfs into ${DESTDIR:-/}"
