#!/bin/sh
# Run by tools/make-deb.sh (DEB_PREPARE) in its scratch copy of the tree:
# turns the copy into the next package version, so that check-install can
# upgrade through dpkg as an operator would: the same source under a new
# changelog entry, hence new versions of all three packages, of the DKMS
# module (/usr/src/modalfs-VERSION) and of `modalfsd --version`.
#   UPGRADE_VERSION  the new version (default: the current one plus ".1")
#   UPGRADE_BREAK    a planted packaging fault, to see the test go red:
#     no-restart  the postinst leaves the old daemon running on upgrade
#                 (dh_installsystemd --no-stop-on-upgrade)
#     no-unit     the package ships no modalfsd.service
set -eu

old=$(dpkg-parsechangelog -S Version)
new=${UPGRADE_VERSION:-$old.1}
who=$(dpkg-parsechangelog -S Maintainer)
{
	printf 'modalfs (%s) unstable; urgency=medium\n\n' "$new"
	printf '  * make check-install'"'"'s upgrade: %s again as a newer version.\n\n' "$old"
	printf ' -- %s  %s\n\n' "$who" "$(date -R)"
	cat debian/changelog
} > debian/changelog.new
mv debian/changelog.new debian/changelog

case ${UPGRADE_BREAK:-} in
'') ;;
no-restart)
	printf '\noverride_dh_installsystemd:\n\tdh_installsystemd --no-stop-on-upgrade\n' >> debian/rules ;;
no-unit)
	sed -i '/systemd\/modalfsd.service/d; /debian\/modalfs\/lib\/systemd\/system\/modalfsd.service/d' debian/rules ;;
*)
	echo "prepare-upgrade.sh: unknown UPGRADE_BREAK '$UPGRADE_BREAK'" >&2
	exit 1 ;;
esac
echo "prepare-upgrade.sh: $old -> $new${UPGRADE_BREAK:+ (broken: $UPGRADE_BREAK)}"
