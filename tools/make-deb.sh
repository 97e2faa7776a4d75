#!/bin/bash
# make deb: build the Debian packages modalfs and modalfs-dkms from the
# files git knows (committed or not), in a scratch copy under $BUILD/deb,
# then run lintian on them. The .deb files land in $BUILD/deb.
#   DEB_BUILD_OPTIONS=nocheck make deb   skips the unit tests
#   DEB_OUT=DIR        the scratch copy and the .deb files go to DIR
#   DEB_PREPARE=CMD    CMD runs in the scratch copy before the build
#                      (make check-install's newer version for the upgrade)
#   DEB_LINTIAN=no     skips lintian
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
out=${DEB_OUT:-${BUILD:-$top/build}/deb}
src=$out/modalfs

for t in dpkg-buildpackage dh dh_dkms lintian; do
	command -v "$t" >/dev/null || {
		echo "make-deb.sh: $t is missing; run 'make deps'" >&2
		exit 1
	}
done
rm -rf "$out"
mkdir -p "$src"
# A copy, so that the build never leaves objects in the work tree.
git -C "$top" ls-files -z --cached --others --exclude-standard |
	(cd "$top" && xargs -0 cp --parents -t "$src")
[ -z "${DEB_PREPARE:-}" ] || (cd "$src" && sh -ec "$DEB_PREPARE")
(cd "$src" && dpkg-buildpackage -us -uc -b)
[ "${DEB_LINTIAN:-yes}" != no ] || { ls -l "$out"/*.deb; exit 0; }
# Lintian tags that are not fixed are listed with their reasons in
# debian/*.lintian-overrides; any other warning or error fails the build.
lintian --fail-on warning,error "$out"/*.changes
ls -l "$out"/*.deb
