#!/usr/bin/env bash
# Installs the Debian package and runs a broker and two nodes from the
# installed files, without systemd, the way the unit would run them.
#   tests/package/test_package.sh DIR_WITH_DEB
# As root (CI): dpkg -i, then the unit's layout: configurations in
# /etc/seinpost/NAME/ (read by the seinpost user), keys root-only and handed
# over as credentials ($CREDENTIALS_DIRECTORY/keys_*), state in
# $STATE_DIRECTORY=/var/lib/seinpost/NAME, processes running as the seinpost
# user the package's sysusers file created; dpkg --purge at the end.
# Not root: the package is unpacked into a scratch root (dpkg -x) and run
# from there as the calling user.
. "$(dirname "$0")/../e2e/lib.sh"

DEBDIR=${1:?usage: test_package.sh DIR_WITH_DEB}
case $DEBDIR in /*) ;; *) DEBDIR="$ROOT/$DEBDIR" ;; esac
DEB=$(ls "$DEBDIR"/seinpost_*.deb 2>/dev/null | head -n 1)
[ -n "$DEB" ] || { echo "no seinpost_*.deb in $DEBDIR (make package)"; exit 1; }
E2E_DIR=$(mktemp -d "${TMPDIR:-/tmp}/sp-pkgtest-XXXXXX")
PREFIX_TAG=sp-pkgtest-$$
NAMES=(broker politie-limburg jeugdzorg-mh)
ASROOT=0
[ "$(id -u)" = 0 ] && command -v setpriv >/dev/null && ASROOT=1

cleanup() {
	e2e_stop_all
	if [ "$ASROOT" = 1 ]; then
		for n in "${NAMES[@]}"; do rm -rf "/etc/seinpost/$PREFIX_TAG-$n" "/var/lib/seinpost/$PREFIX_TAG-$n"; done
		[ "${INSTALLED:-0}" = 1 ] && dpkg --purge seinpost >/dev/null 2>&1
	fi
	if [ "${KEEP:-0}" = 1 ]; then echo "kept $E2E_DIR"; else rm -rf "$E2E_DIR"; fi
}
trap cleanup EXIT

echo "package: $DEB"
check "the package is named seinpost_VERSION_ARCH.deb" bash -c "basename '$DEB' | grep -Eq '^seinpost_[0-9][^_]*_[a-z0-9]+\.deb$'"
contents=$(dpkg-deb -c "$DEB" | awk '{print $6}')
for f in ./usr/bin/seinpostd ./usr/bin/seinpost ./lib/systemd/system/seinpostd@.service \
         ./usr/lib/sysusers.d/seinpost.conf ./usr/lib/tmpfiles.d/seinpost.conf \
         ./usr/share/man/man1/seinpost.1.gz ./usr/share/man/man5/seinpost.conf.5.gz \
         ./usr/share/man/man8/seinpostd.8.gz ./usr/share/doc/seinpost/copyright \
         ./usr/share/doc/seinpost/examples/node.conf ./usr/share/doc/seinpost/examples/broker.conf; do
	check "the package holds $f" grep -qx "$f" <<<"$contents"
done
check "the unit runs /usr/bin/seinpostd" bash -c \
	"dpkg-deb --fsys-tarfile '$DEB' | tar -xOf - ./lib/systemd/system/seinpostd@.service | grep -q '^ExecStart=/usr/bin/seinpostd '"
check "the postinst creates the user (systemd-sysusers)" bash -c "dpkg-deb -I '$DEB' postinst | grep -q systemd-sysusers"

if [ "$ASROOT" = 1 ]; then
	# --- dpkg -i, and the unit's layout --------------------------------------------
	out=$(dpkg -i "$DEB" 2>&1); rc=$?
	[ $rc -eq 0 ] && INSTALLED=1
	check "dpkg -i installs the package (rc=$rc)" test $rc -eq 0 || echo "$out"
	BIN=/usr/bin
	check "the seinpost system user exists (sysusers)" getent passwd seinpost
	check "/etc/seinpost exists, root:seinpost 0750 (tmpfiles)" \
		test "$(stat -c '%U:%G %a' /etc/seinpost 2>/dev/null)" = "root:seinpost 750"
	if command -v systemd-analyze >/dev/null; then
		man=--man=no; command -v man >/dev/null && man --version >/dev/null 2>&1 && man=--man=yes
		out=$(systemd-analyze verify $man "seinpostd@$PREFIX_TAG-broker.service" 2>&1)
		check "systemd-analyze verify passes on the installed unit${out:+: $out}" test -z "$out"
	fi
	ETC=/etc/seinpost
	VAR=/var/lib/seinpost
else
	# --- a scratch root ---------------------------------------------------------------
	dpkg-deb -x "$DEB" "$E2E_DIR/root"
	BIN="$E2E_DIR/root/usr/bin"
	check "the package unpacks into a scratch root" test -x "$BIN/seinpostd"
	ETC="$E2E_DIR/root/etc/seinpost"
	VAR="$E2E_DIR/root/var/lib/seinpost"
	mkdir -p "$ETC" "$VAR"
fi
check "the installed seinpostd answers --version" "$BIN/seinpostd" --version

# --- a network from the installed binaries, in the unit's layout ---------------------------
PORT=$(e2e_free_port)
"$BIN/seinpost" net init "$E2E_DIR/net" --port "$PORT" --policy "$ROOT/deploy/policy.example" \
	--org police:politie-limburg --org youthcare:jeugdzorg-mh >"$E2E_DIR/netinit.log" || { cat "$E2E_DIR/netinit.log"; exit 1; }
for n in "${NAMES[@]}"; do
	d="$ETC/$PREFIX_TAG-$n"
	cp -r "$E2E_DIR/net/$n" "$d"
	rm -rf "$d/state"
	# the roster and policy into the instance's folder, as the unit's layout
	# has them (network create keeps the broker's next to its folder)
	for k in roster:roster.bin policy:policy.ini; do
		v=$(sed -n "s/^${k%%:*} *= *//p" "$d/seinpost.conf")
		case $v in /*) ;; *) v="$E2E_DIR/net/$n/$v" ;; esac
		[ -f "$d/${k#*:}" ] || cp "$v" "$d/${k#*:}"
		sed -i "s|^${k%%:*} *=.*|${k%%:*} = ${k#*:}|" "$d/seinpost.conf"
	done
	# Production configuration: no relative state (the unit's /etc is read-only).
	sed -i '/^state = /d' "$d/seinpost.conf"
	mkdir -p "$E2E_DIR/cred-$n"
	for f in "$d/keys"/*; do cp "$f" "$E2E_DIR/cred-$n/keys_$(basename "$f")"; done
	chmod 0400 "$E2E_DIR/cred-$n"/keys_*
	if [ "$ASROOT" = 1 ]; then
		# What systemd does: StateDirectory= owned by the service user, the
		# credentials readable by it alone; the key directory stays root's.
		chown -R root:seinpost "$d"; chmod -R g+rX,o-rwx "$d"
		chown -R root:root "$d/keys"; chmod 0700 "$d/keys"
		[ -f "$d/pseudo.key" ] && chown seinpost "$d/pseudo.key" && chmod 0600 "$d/pseudo.key"
		chmod 0500 "$E2E_DIR/cred-$n"; chown -R seinpost:seinpost "$E2E_DIR/cred-$n"
		install -d -o seinpost -g seinpost -m 0700 "$VAR/$PREFIX_TAG-$n"
		chmod 0711 "$E2E_DIR"
	else
		mkdir -m 0700 "$VAR/$PREFIX_TAG-$n"
	fi
done

run_as() { # name
	local n=$1 d="$ETC/$PREFIX_TAG-$1"
	if [ "$ASROOT" = 1 ]; then
		setpriv --reuid=seinpost --regid=seinpost --init-groups \
			env STATE_DIRECTORY="$VAR/$PREFIX_TAG-$n" CREDENTIALS_DIRECTORY="$E2E_DIR/cred-$n" \
			"$BIN/seinpostd" --config "$d/seinpost.conf" --verbose >>"$E2E_DIR/$n.log" 2>&1 &
	else
		STATE_DIRECTORY="$VAR/$PREFIX_TAG-$n" CREDENTIALS_DIRECTORY="$E2E_DIR/cred-$n" \
			"$BIN/seinpostd" --config "$d/seinpost.conf" --verbose >>"$E2E_DIR/$n.log" 2>&1 &
	fi
	E2E_PIDS+=($!)
}
cli() { # name args...
	local n=$1; shift
	if [ "$ASROOT" = 1 ]; then
		setpriv --reuid=seinpost --regid=seinpost --init-groups \
			env STATE_DIRECTORY="$VAR/$PREFIX_TAG-$n" CREDENTIALS_DIRECTORY="$E2E_DIR/cred-$n" \
			"$BIN/seinpost" --config "$ETC/$PREFIX_TAG-$n/seinpost.conf" "$@"
	else
		STATE_DIRECTORY="$VAR/$PREFIX_TAG-$n" CREDENTIALS_DIRECTORY="$E2E_DIR/cred-$n" \
			"$BIN/seinpost" --config "$ETC/$PREFIX_TAG-$n/seinpost.conf" "$@"
	fi
}

run_as broker
check "the installed broker starts" e2e_wait_for 30 grep -q "listening on" "$E2E_DIR/broker.log"
run_as politie-limburg
run_as jeugdzorg-mh
check "the installed nodes start (submit sockets in \$STATE_DIRECTORY)" e2e_wait_for 30 \
	test -S "$VAR/$PREFIX_TAG-politie-limburg/submit.sock" -a -S "$VAR/$PREFIX_TAG-jeugdzorg-mh/submit.sock"
id=$(cli politie-limburg submit --category drug-recruitment --weight 2 --bsn 111222333 \
	--summary "Signaal uit het pakket" --wait=30 2>"$E2E_DIR/submit.err")
check "a signal goes through the installed broker (${id:-none})" test ${#id} -eq 32 || cat "$E2E_DIR/submit.err"
check "youth care receives and opens it" e2e_wait_for 30 bash -c \
	"$(declare -f cli); ASROOT=$ASROOT BIN='$BIN' ETC='$ETC' VAR='$VAR' PREFIX_TAG='$PREFIX_TAG' E2E_DIR='$E2E_DIR'; cli jeugdzorg-mh show '$id' --user hv.a 2>/dev/null | grep -q 'Signaal uit het pakket'"
if [ "$ASROOT" = 1 ]; then
	check "the store belongs to the seinpost user" \
		test "$(stat -c %U "$VAR/$PREFIX_TAG-broker/data.mdb")" = seinpost
fi
check "audit verify OK on the installed broker" bash -c \
	"$(declare -f cli); ASROOT=$ASROOT BIN='$BIN' ETC='$ETC' VAR='$VAR' PREFIX_TAG='$PREFIX_TAG' E2E_DIR='$E2E_DIR'; cli broker audit verify | grep -q 'audit log OK'"
e2e_stop_all

if [ "$ASROOT" = 1 ]; then
	out=$(dpkg --purge seinpost 2>&1); rc=$?
	check "dpkg --purge removes the package (rc=$rc)" test $rc -eq 0
	INSTALLED=0
	check "and its unit" test ! -e /lib/systemd/system/seinpostd@.service
fi
e2e_done
