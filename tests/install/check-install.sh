#!/bin/bash
# make check-install: boot the test VM with systemd as PID 1 and run
# tests/install/guest-install.sh in it against the packages in
# $BUILD/deb (make deb builds them; DEB_DIR=DIR tests others) and, for the
# upgrade, the same tree built again as the next version into
# $BUILD/deb-upgrade (tests/install/prepare-upgrade.sh; DEB_UP_DIR=DIR
# tests others; UPGRADE_BREAK=no-restart|no-unit plants a packaging
# fault in them). Slow (DKMS compiles the module twice under TCG), so not
# part of make check. The console log and the TAP results go to
# $BUILD/check-install/.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$top/build}
export DEB_DIR=${DEB_DIR:-$BUILD/deb}
out=$BUILD/check-install

if [ -z "${DEB_UP_DIR:-}" ]; then
	DEB_UP_DIR=$BUILD/deb-upgrade
	echo "check-install: building the next version's packages into $DEB_UP_DIR"
	DEB_OUT=$DEB_UP_DIR DEB_LINTIAN=no DEB_BUILD_OPTIONS=nocheck \
		DEB_PREPARE="$top/tests/install/prepare-upgrade.sh" \
		"$top/tools/make-deb.sh" > "$BUILD/deb-upgrade.log" 2>&1 || {
		tail -n 30 "$BUILD/deb-upgrade.log" >&2
		echo "check-install: building the upgrade packages failed ($BUILD/deb-upgrade.log)" >&2
		exit 1
	}
	grep '^prepare-upgrade.sh:' "$BUILD/deb-upgrade.log"
fi
export DEB_UP_DIR
for d in "$DEB_DIR" "$DEB_UP_DIR"; do
	for p in modalfs-dkms_*_all modalfs_*_amd64 python3-modalfs_*_all; do
		compgen -G "$d/$p.deb" >/dev/null || {
			echo "check-install: no $p.deb in $d (run make deb)" >&2
			exit 1
		}
	done
done
rm -rf "$out"
mkdir -p "$out"
start=$(date +%s)
VM_ENV="DEB_DIR DEB_UP_DIR ${VM_ENV:-}" "$top/tests/vm/vm.sh" --systemd \
	--timeout "${INSTALL_TIMEOUT:-2400}" --log "$out/console.log" --out "$out" \
	-- tests/install/guest-install.sh
rc=$?
echo "check-install: exit status $rc after $(($(date +%s) - start)) s; console log $out/console.log"
exit $rc
