#!/bin/bash
# Issue 14's "done when", in a guest booted with systemd as PID 1
# (tests/install/check-install.sh starts it with tests/vm/vm.sh --systemd):
# dpkg -i of the built packages, DKMS building the module for the guest's
# kernel, modalfsd.service active, modalfsctl for the modalfs group and a
# refusal for everyone else, two volumes mounted from fstab with mount -a,
# data intact across `systemctl restart modalfsd`, /metrics (switched on
# by a drop-in) scraped and parsed, an upgrade with dpkg -i to the next
# version ($DEB_UP_DIR) while both volumes are mounted, a file is held open
# and data is only in the page cache, then the documented module switch
# (Documentation/install.md, Upgrade), then remove (the volumes stay) and
# purge (nothing stays).
. "$(dirname "$0")/../lib.sh"
plan 70

DEB_DIR=${DEB_DIR:-$BUILD/deb}
V1=install-a
V2=install-b
M1=/mnt/modalfs-a
M2=/mnt/modalfs-b
PORT=9101
DROPIN=/etc/systemd/system/modalfsd.service.d/metrics.conf
UNIT=modalfsd.service
BINARIES="/usr/sbin/modalfsd /usr/bin/modalfsctl /sbin/mount.modalfs /usr/sbin/modalfs-dashboard /usr/lib/python3/dist-packages/modalfs"
tstep() { step "$* (at ${SECONDS}s)"; }

require_root
# The host is a Docker image whose policy-rc.d (exit 101) forbids
# maintainer scripts to start or stop services; a real Debian host has
# none. The guest's root is a throw-away overlay: take it away there.
rm -f /usr/sbin/policy-rc.d
# Everything here runs as an operator would: the installed binaries only.
CTL=/usr/bin/modalfsctl

outsider() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
member() {
	setpriv --reuid="$(id -u mfs-member)" --regid="$(id -g mfs-member)" --init-groups "$@"
}
show_journal() { journalctl -b -u "$UNIT" --no-pager -n 30 | sed 's/^/    | journal: /'; }

tstep "the guest"
expect_eq "PID 1 is systemd" systemd "$(cat /proc/1/comm)"
expect_eq "the guest runs the target kernel" "$KVER" "$(cat /proc/sys/kernel/osrelease)"

tstep "dpkg -i (DKMS compiles the module under TCG: minutes)"
debs=("$DEB_DIR"/modalfs-dkms_*_all.deb "$DEB_DIR"/modalfs_*_amd64.deb "$DEB_DIR"/python3-modalfs_*_all.deb)
ls -l "${debs[@]}" | sed 's/^/    | /'
check "dpkg -i modalfs-dkms modalfs python3-modalfs" dpkg -i "${debs[@]}" || show_journal
echo "    | dpkg -i done at ${SECONDS}s"
expect_match "dkms status: built and installed for $KVER" \
	"^modalfs/[^,]+, $KVER, [^:]+: installed" "$(dkms status modalfs 2>&1)"
expect_match "modprobe finds DKMS's module for $KVER" "^/lib/modules/$KVER/updates/dkms/modalfs\.ko" \
	"$(modinfo -k "$KVER" -n modalfs 2>&1)"
check "the module is loaded" module_loaded

tstep "the service"
check "$UNIT is active" systemctl is-active --quiet "$UNIT" || show_journal
check "$UNIT is enabled" systemctl is-enabled --quiet "$UNIT"
expect_eq "the modalfs group exists and owns the socket (0660 root modalfs)" "660 root modalfs" \
	"$(stat -c '%a %U %G' /run/modalfs/modalfsd.sock 2>&1)"

tstep "who may use modalfsctl"
check "useradd a member of modalfs" useradd --system --no-create-home --groups modalfs mfs-member
check "modalfsctl persisted $V1 as a member of modalfs" member "$CTL" persisted "$V1"
check "modalfsctl persisted $V2 as a member of modalfs" member "$CTL" persisted "$V2"
ERR=$(outsider "$CTL" list 2>&1)
expect_eq "an ordinary user is refused (exit 1)" 1 "$?"
expect_match "... with \"permission denied\" naming the group" "permission denied.*'modalfs' group" "$ERR"

tstep "fstab and mount -a"
mkdir -p "$M1" "$M2"
cat >> /etc/fstab <<FSTAB
$V1:/ $M1 modalfs _netdev,x-systemd.requires=$UNIT 0 0
$V2:/ $M2 modalfs _netdev,x-systemd.requires=$UNIT 0 0
FSTAB
check "systemctl daemon-reload (fstab generator)" systemctl daemon-reload
check "mount -a" mount -a
expect_eq "both volumes are mounted" "$M1 $M2" "$(findmnt -n -t modalfs -o TARGET | sort | paste -sd' ')"
expect_eq "systemd tracks both as active mount units" "active active" \
	"$(systemctl is-active "$(systemd-escape -p --suffix=mount "$M1")" "$(systemd-escape -p --suffix=mount "$M2")" | paste -sd' ')"

tstep "data across systemctl restart (with /metrics switched on by a drop-in)"
# mfs_sha FILE: FILE's sha256, only if it is on a modalfs mount (so that a
# failed mount cannot pass for one through the bare directory below it).
mfs_sha() {
	findmnt -n -t modalfs -T "$1" >/dev/null || { echo "not on a modalfs mount"; return; }
	sha256sum < "$1"
}
head -c 3M /dev/urandom > "$M1/blob"
mkdir -p "$M2/dir" && seq 1 50000 > "$M2/dir/seq"
sync
SUM1=$(sha256sum < "$M1/blob")
SUM2=$(sha256sum < "$M2/dir/seq")
mkdir -p "$(dirname "$DROPIN")"
printf '[Service]\nEnvironment="MODALFSD_OPTS=--metrics-listen 127.0.0.1:%s"\n' "$PORT" > "$DROPIN"
check "systemctl daemon-reload (drop-in)" systemctl daemon-reload
PID0=$(systemctl show -p MainPID --value "$UNIT")
check "systemctl restart $UNIT" systemctl restart "$UNIT" || show_journal
check "$UNIT is active again" systemctl is-active --quiet "$UNIT"
PID1=$(systemctl show -p MainPID --value "$UNIT")
check "... with a new daemon (pid $PID0 -> $PID1)" test "$PID0" != "$PID1" -a "$PID1" != 0
drop_caches
expect_eq "$V1: the 3 MiB file is intact" "$SUM1" "$(mfs_sha "$M1/blob")"
expect_eq "$V2: the file in a directory is intact" "$SUM2" "$(mfs_sha "$M2/dir/seq")"
expect_eq "both volumes are still mounted" "$M1 $M2" "$(findmnt -n -t modalfs -o TARGET | sort | paste -sd' ')"
check "writing to $V1 works after the restart" sh -c "echo after > '$M1/after' && sync"
check "writing to $V2 works after the restart" sh -c "cp '$M1/after' '$M2/dir/after' && sync"
drop_caches
expect_eq "... and both read back from modalfs" "$(echo after | sha256sum) $(echo after | sha256sum)" \
	"$(mfs_sha "$M1/after") $(mfs_sha "$M2/dir/after")"

tstep "scrape /metrics"
METRICS=$("$PYTHON" - "$PORT" <<'PY'
import sys, time, urllib.request
from prometheus_client.parser import text_string_to_metric_families
url = "http://127.0.0.1:%s/metrics" % sys.argv[1]
for _ in range(100):
    try:
        body = urllib.request.urlopen(url, timeout=5).read().decode()
        break
    except OSError:
        time.sleep(0.1)
else:
    sys.exit("no answer from " + url)
fams = {f.name: f for f in text_string_to_metric_families(body)}
def val(name, **labels):
    return sum(s.value for f in fams.values() for s in f.samples
               if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()))
print("families", len(fams))
print("requests", int(val("modalfsd_requests_total")))
print("persisted", int(val("modalfsd_volumes", kind="persisted")))
print("mounted", int(val("modalfsd_mounted_volumes")))
print("types", fams["modalfsd_requests"].type, fams["modalfsd_request_duration_seconds"].type)
PY
)
check_status "GET /metrics answers and prometheus_client parses it" "$?"
printf '%s\n' "$METRICS" | sed 's/^/    | /'
expect_match "... request counters and latency histogram by type" "^types counter histogram$" "$METRICS"
expect_match "... the new daemon answered requests" "^requests [1-9]" "$METRICS"
expect_eq "... two persisted volumes, two mounted" "2 2" \
	"$(printf '%s\n' "$METRICS" | awk '$1 == "persisted" { p = $2 } $1 == "mounted" { m = $2 } END { print p, m }')"

tstep "upgrade with both volumes mounted, a file held open, data in the page cache"
OLDV=$(dpkg-query -W -f '${Version}' modalfs)
updebs=("$DEB_UP_DIR"/modalfs-dkms_*_all.deb "$DEB_UP_DIR"/modalfs_*_amd64.deb "$DEB_UP_DIR"/python3-modalfs_*_all.deb)
NEWV=$(dpkg-deb -f "${updebs[1]}" Version)
ls -l "${updebs[@]}" | sed 's/^/    | /'
# No periodic writeback until the module switch below: what is written
# without fsync stays dirty in the page cache through the daemon's
# restart, and only the new daemon can store it.
WB=$(sysctl -n vm.dirty_writeback_centisecs) EXPIRE=$(sysctl -n vm.dirty_expire_centisecs)
sysctl -q vm.dirty_writeback_centisecs=0 vm.dirty_expire_centisecs=360000
head -c 2M /dev/urandom > "$TEST_TMP/synced"
head -c 1M /dev/urandom > "$TEST_TMP/cached"
head -c 512K /dev/urandom > "$TEST_TMP/cached-b"
head -c 256K /dev/urandom > "$TEST_TMP/after"
cat "$TEST_TMP/synced" "$TEST_TMP/cached" "$TEST_TMP/after" > "$TEST_TMP/held"
check "$V1: 2 MiB written and fsync'd" dd if="$TEST_TMP/synced" of="$M1/held" bs=1M conv=fsync status=none
# This shell keeps the file open (fd 9) through the upgrade, as a job
# that uses the volume would; $M1 is busy until it closes it.
exec 9>>"$M1/held"
cat "$TEST_TMP/cached" >&9
cp "$TEST_TMP/cached-b" "$M2/dir/cached"
echo "    | before dpkg -i: $(grep '^Dirty:' /proc/meminfo | tr -s ' ') in the page cache, not yet written back"
CURSOR=$(journalctl -n 1 --show-cursor -o cat | sed -n 's/^-- cursor: //p')
PID2=$(systemctl show -p MainPID --value "$UNIT")
t0=$SECONDS
check "dpkg -i $OLDV -> $NEWV (the three packages, DKMS builds $NEWV)" dpkg -i "${updebs[@]}" 9>&- || show_journal
echo "    | dpkg -i (upgrade: dkms remove $OLDV, DKMS build of $NEWV, restart) took $((SECONDS - t0)) s"
expect_eq "dpkg: modalfs-dkms, modalfs and python3-modalfs at $NEWV" "$NEWV $NEWV $NEWV" \
	"$(dpkg-query -W -f '${Version} ' modalfs-dkms modalfs python3-modalfs | sed 's/ $//')"
expect_eq "dkms status: $NEWV installed for $KVER, $OLDV gone" "modalfs/$NEWV, $KVER: installed" \
	"$(dkms status modalfs 2>/dev/null | sed -E 's/^(modalfs\/[^,]+, [^,]+), [^:]+: installed.*/\1: installed/')"
check "$UNIT is active after the upgrade" systemctl is-active --quiet "$UNIT" || show_journal
PID3=$(systemctl show -p MainPID --value "$UNIT")
expect_eq "... and runs the new binary (pid $PID2 -> $PID3; /proc/PID/exe --version)" "modalfsd $NEWV" \
	"$(/proc/"$PID3"/exe --version 2>&1 | cut -d' ' -f1,2)"
expect_eq "... restarted once, by the postinst (journal: one 'Started')" 1 \
	"$(journalctl -u "$UNIT" --after-cursor "$CURSOR" -o cat | grep -c '^Started ')"
expect_eq "both volumes are still mounted" "$M1 $M2" "$(findmnt -n -t modalfs -o TARGET | sort | paste -sd' ')"
check "the file held open takes more data after the upgrade" sh -c "cat '$TEST_TMP/after' >&9"
drop_caches
expect_eq "every byte is there after drop_caches (held: fsync'd + page cache + after; $V2's unsynced file; the first files)" \
	"$(sha256sum < "$TEST_TMP/held") $(sha256sum < "$TEST_TMP/cached-b") $SUM1 $SUM2" \
	"$(mfs_sha "$M1/held") $(mfs_sha "$M2/dir/cached") $(mfs_sha "$M1/blob") $(mfs_sha "$M2/dir/seq")"

tstep "switch to the new module (Documentation/install.md, Upgrade)"
check_fails "modprobe -r modalfs refuses while volumes are mounted" modprobe -r modalfs
ERR=$(umount -a -t modalfs 2>&1)
expect_match "umount -a -t modalfs: $M1 (held open) is refused as busy" "$M1: target is busy" "$ERR"
expect_eq "... $M1 stays mounted, $M2 is unmounted" "$M1" "$(findmnt -n -t modalfs -o TARGET | paste -sd' ')"
exec 9>&-
check "umount $M1 once nothing holds it" umount "$M1"
check "systemctl stop $UNIT" systemctl stop "$UNIT"
check "modprobe -r modalfs (unloads $OLDV's module)" modprobe -r modalfs
check "systemctl start $UNIT (loads $NEWV's, the only one on disk)" systemctl start "$UNIT" || show_journal
check "the module is loaded, from the only modalfs.ko for $KVER: DKMS's $NEWV build" sh -c '
	[ -d /sys/module/modalfs ] || { echo "not loaded"; exit 1; }
	ko=$(find "/lib/modules/$1" -name "modalfs.ko*")
	[ "$ko" = "/lib/modules/$1/updates/dkms/modalfs.ko" ] || { echo "$ko"; exit 1; }
	cmp "$ko" /var/lib/dkms/modalfs/"$2"/"$1"/*/module/modalfs.ko' - "$KVER" "$NEWV"
check "mount -a" mount -a
expect_eq "both volumes are mounted again" "$M1 $M2" "$(findmnt -n -t modalfs -o TARGET | sort | paste -sd' ')"
drop_caches
expect_eq "every byte is there after the remount" \
	"$(sha256sum < "$TEST_TMP/held") $(sha256sum < "$TEST_TMP/cached-b") $SUM1 $SUM2" \
	"$(mfs_sha "$M1/held") $(mfs_sha "$M2/dir/cached") $(mfs_sha "$M1/blob") $(mfs_sha "$M2/dir/seq")"
sysctl -q vm.dirty_writeback_centisecs="$WB" vm.dirty_expire_centisecs="$EXPIRE"
ERR=$(journalctl -u "$UNIT" --after-cursor "$CURSOR" -p err -o cat 2>&1)
expect_eq "nothing at error priority in the journal for $UNIT since the upgrade began" "" "$ERR"
journalctl -u "$UNIT" --after-cursor "$CURSOR" -p warning -o short-monotonic --no-pager | sed 's/^/    | journal (warning and up): /'
echo "    | upgrade and module switch done at ${SECONDS}s"

tstep "remove (the volumes stay)"
check "umount both volumes" umount "$M1" "$M2"
check "dpkg -r python3-modalfs modalfs modalfs-dkms" dpkg -r python3-modalfs modalfs modalfs-dkms
check_fails "$UNIT is no longer running" systemctl is-active --quiet "$UNIT"
check "rmmod modalfs (nothing holds the module)" rmmod modalfs
check "no binary is left ($BINARIES)" sh -c 'for f in '"$BINARIES"'; do [ ! -e "$f" ] || { echo "$f"; exit 1; }; done'
check "no module is left (dkms status, /usr/src, /lib/modules/$KVER)" sh -c '
	[ -z "$(dkms status modalfs)" ] || { dkms status modalfs; exit 1; }
	! ls -d /usr/src/modalfs-* /var/lib/dkms/modalfs 2>/dev/null || exit 1
	[ -z "$(find /lib/modules/'"$KVER"' -name "modalfs.ko*")" ] || { find /lib/modules/'"$KVER"' -name "modalfs.ko*"; exit 1; }'
check_fails "modprobe no longer finds modalfs" modinfo -k "$KVER" -n modalfs
check "the state directory with the volumes stays" test -n "$(ls -A /var/lib/modalfs 2>/dev/null)"

tstep "purge"
# The drop-in and the fstab lines are the administrator's, not the package's.
rm -rf "$(dirname "$DROPIN")"
sed -i "/^install-[ab]:/d" /etc/fstab
check "dpkg -P python3-modalfs modalfs modalfs-dkms" dpkg -P python3-modalfs modalfs modalfs-dkms
check "systemctl daemon-reload" systemctl daemon-reload
check_fails "dpkg knows none of the packages" dpkg-query -W modalfs modalfs-dkms python3-modalfs
check "no unit file or enablement link is left" sh -c '
	left=$(find /etc/systemd /lib/systemd/system /usr/lib/systemd/system -name "modalfsd*" 2>/dev/null)
	[ -z "$left" ] || { echo "$left"; exit 1; }'
expect_eq "systemd no longer knows $UNIT" not-found "$(systemctl show -p LoadState --value "$UNIT")"
check_fails "the state directory is gone after the purge" test -e /var/lib/modalfs
check_fails "the modalfs group is gone" getent group modalfs
check_dmesg_clean
echo "    | done at ${SECONDS}s"
finish
