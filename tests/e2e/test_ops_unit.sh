#!/usr/bin/env bash
# The shipped systemd unit and what it relies on (issue 15, ops): its
# systemd-analyze security rating stays at or below 1.5 and `verify` passes;
# the binaries are built hardened; keys reach the daemon as systemd
# credentials ($CREDENTIALS_DIRECTORY/keys_<file>, LoadCredential=keys:DIR);
# without "state =" the daemon uses the unit's $STATE_DIRECTORY; a state
# directory it cannot write is refused at start with a message naming the fix.
# Every daemon here runs without systemd, with the environment systemd would set.
. "$(dirname "$0")/lib.sh"

UNIT="$ROOT/deploy/seinpostd@.service"
e2e_setup --org police:politie-limburg --org youthcare:jeugdzorg-mh

# --- the unit -------------------------------------------------------------------
if command -v systemd-analyze >/dev/null; then
	sec=$(systemd-analyze security --offline=yes "$UNIT" 2>&1)
	score=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' <<<"$sec")
	check "systemd-analyze security rates the unit ${score:-?} (at most 1.5)" \
		awk -v s="${score:-99}" 'BEGIN { exit !(s <= 1.5) }'
	for want in PrivateMounts=yes ProtectProc=invisible ProcSubset=pid RemoveIPC=yes \
	            "LoadCredential=keys:/etc/seinpost/%i/keys" "StateDirectory=seinpost/%i"; do
		check "unit sets $want" grep -qx "$want" "$UNIT"
	done
	# verify resolves ExecStart: point it at the binary under test.
	sed "s|/usr/local/bin/seinpostd|$SEINPOSTD|" "$UNIT" >"$E2E_DIR/seinpostd@.service"
	out=$(cd "$E2E_DIR" && systemd-analyze verify --man=no "$E2E_DIR/seinpostd@.service" 2>&1)
	check "systemd-analyze verify passes${out:+: $out}" test -z "$out"
else
	fail "systemd-analyze not found: install the Debian package systemd (make deps)"
fi

# --- hardened binaries ---------------------------------------------------------------
for b in "$SEINPOSTD" "$SEINPOST"; do
	n=$(basename "$b")
	check "$n is a position-independent executable" bash -c "readelf -h '$b' | grep -q 'DYN'"
	check "$n has full RELRO (BIND_NOW)" bash -c "readelf -d '$b' | grep -q BIND_NOW && readelf -lW '$b' | grep -q GNU_RELRO"
	check "$n uses the stack protector" bash -c "nm -D '$b' | grep -q __stack_chk_fail"
done
check "seinpostd is built with _FORTIFY_SOURCE (fortified calls)" bash -c "nm -D '$SEINPOSTD' | grep -q '__[a-z]*_chk@'"

# --- make install ---------------------------------------------------------------------
dest="$E2E_DIR/dest"
san=0; case $BUILD in *-san) san=1 ;; esac   # the same build, never a rebuild with other flags
out=$(cd "$ROOT" && make -s install SAN=$san BUILD="$BUILD" DESTDIR="$dest" PREFIX=/usr 2>&1); rc=$?
check "make install DESTDIR=... PREFIX=/usr succeeds (rc=$rc)" test $rc -eq 0 || echo "$out"
for f in usr/bin/seinpostd usr/bin/seinpost usr/lib/systemd/system/seinpostd@.service \
         usr/lib/sysusers.d/seinpost.conf usr/lib/tmpfiles.d/seinpost.conf \
         usr/share/man/man1/seinpost.1 usr/share/man/man5/seinpost.conf.5 usr/share/man/man5/seinpost-policy.5 \
         usr/share/man/man8/seinpostd.8 usr/share/doc/seinpost/LICENSE usr/share/doc/seinpost/README.md \
         usr/share/doc/seinpost/examples/broker.conf usr/share/doc/seinpost/examples/node.conf \
         usr/share/doc/seinpost/examples/policy.example; do
	check "make install puts $f" test -f "$dest/$f"
done
check "the installed unit names the installed binary" grep -q "^ExecStart=/usr/bin/seinpostd " "$dest/usr/lib/systemd/system/seinpostd@.service"
# The examples pass --check-config once they sit beside real keys, roster
# and policy (the operator key and state adjusted, a node of this network).
opk=$(sed -n 's/^operator_key = //p' "$NET/broker/seinpost.conf")
for c in broker:broker node:jeugdzorg-mh; do
	ex=${c%%:*} org=${c#*:}
	mkdir -p "$E2E_DIR/ex-$ex"
	cp -r "$NET/$org/keys" "$E2E_DIR/ex-$ex/"
	# roster and policy where the configuration names them (network create
	# keeps the broker's next to its folder)
	for k in roster:roster.bin policy:policy.ini; do
		v=$(sed -n "s/^${k%%:*} *= *//p" "$NET/$org/seinpost.conf")
		case $v in /*) ;; *) v="$NET/$org/$v" ;; esac
		cp "$v" "$E2E_DIR/ex-$ex/${k#*:}"
	done
	[ -f "$NET/$org/pseudo.key" ] && cp -p "$NET/$org/pseudo.key" "$E2E_DIR/ex-$ex/"
	sed -e "s/^operator_key .*/operator_key = $opk/" -e "s|^state .*|state = $E2E_DIR/ex-$ex/state|" \
	    -e "s/^org  *= .*/org = $org/" "$dest/usr/share/doc/seinpost/examples/$ex.conf" >"$E2E_DIR/ex-$ex/seinpost.conf"
	check "examples/$ex.conf is a valid configuration" "$SEINPOSTD" --config "$E2E_DIR/ex-$ex/seinpost.conf" --check-config
done
(cd "$ROOT" && make -s uninstall SAN=$san BUILD="$BUILD" DESTDIR="$dest" PREFIX=/usr >/dev/null 2>&1)
check "make uninstall leaves no file behind" test -z "$(find "$dest" -type f)"

# --- keys as credentials ---------------------------------------------------------------
# The secret key files leave the key directory: only the public halves stay.
# The daemon must then find the secrets in $CREDENTIALS_DIRECTORY.
for p in broker politie-limburg jeugdzorg-mh; do
	mkdir -m 0700 "$E2E_DIR/cred-$p"
	for f in "$NET/$p/keys"/*; do
		cp -p "$f" "$E2E_DIR/cred-$p/keys_$(basename "$f")"
	done
	chmod 0400 "$E2E_DIR/cred-$p"/keys_*.key
	rm -f "$NET/$p/keys"/*.key
done
check "without credentials, the node refuses to start (no secret key)" \
	bash -c "! timeout 20 '$SEINPOSTD' --config '$NET/politie-limburg/seinpost.conf' >'$E2E_DIR/nocred.log' 2>&1"
start_cred() { # name
	CREDENTIALS_DIRECTORY="$E2E_DIR/cred-$1" "$SEINPOSTD" --config "$NET/$1/seinpost.conf" --verbose \
		>>"$E2E_DIR/$1.log" 2>&1 &
	eval "PID_${1//[-.]/_}=$!"
	E2E_PIDS+=($!)
}
start_cred broker
check "broker starts with its keys from \$CREDENTIALS_DIRECTORY" \
	e2e_wait_for 20 grep -q "listening on" "$E2E_DIR/broker.log"
start_cred politie-limburg
start_cred jeugdzorg-mh
check "nodes start with their keys from \$CREDENTIALS_DIRECTORY" \
	e2e_wait_for 20 test -S "$NET/politie-limburg/state/submit.sock" -a -S "$NET/jeugdzorg-mh/state/submit.sock"
id=$(sp politie-limburg submit --category drug-recruitment --weight 2 --bsn 111222333 \
	--summary "Signaal via credentials" --wait=20 2>"$E2E_DIR/submit.err")
check "a signal signed with a credential key is accepted (${id:-none})" test ${#id} -eq 32
e2e_wait_for 20 bash -c "'$SEINPOST' --config '$NET/jeugdzorg-mh/seinpost.conf' inbox | grep -q '$id'"
# `show` runs in the CLI, which reads the keys as the daemon does.
check "and youth care opens it with its box key from credentials" bash -c \
	"CREDENTIALS_DIRECTORY='$E2E_DIR/cred-jeugdzorg-mh' '$SEINPOST' --config '$NET/jeugdzorg-mh/seinpost.conf' show '$id' --user hv.a | grep -q 'Signaal via credentials'"
e2e_stop_all
# The broker must never hold a box key, even one arriving as a credential.
cp -p "$E2E_DIR/cred-jeugdzorg-mh/keys_box.key" "$E2E_DIR/cred-broker/keys_box.key"
cp -p "$E2E_DIR/cred-jeugdzorg-mh/keys_box.pub" "$E2E_DIR/cred-broker/keys_box.pub"
out=$(CREDENTIALS_DIRECTORY="$E2E_DIR/cred-broker" timeout 20 "$SEINPOSTD" --config "$NET/broker/seinpost.conf" 2>&1); rc=$?
check "a broker given a box key as a credential refuses to start (rc=$rc)" \
	bash -c "[ $rc -ne 0 ] && grep -q 'must never hold a content key' <<<'$out'"
rm -f "$E2E_DIR/cred-broker"/keys_box.*

# --- state directory ---------------------------------------------------------------------
# No "state =": the unit's StateDirectory= ($STATE_DIRECTORY) holds the store.
# the broker's roster and policy, as its configuration names them (network
# create puts them next to the broker's folder)
conf_path() { local v; v=$(sed -n "s/^$2 *= *//p" "$NET/$1/seinpost.conf"); case $v in /*) echo "$v" ;; *) echo "$NET/$1/$v" ;; esac; }
BROSTER=$(conf_path broker roster) BPOLICY=$(conf_path broker policy)
sed '/^state = /d' "$NET/broker/seinpost.conf" >"$E2E_DIR/nostate.conf"
sed -i "s|^keys = keys|keys = $NET/broker/keys|; s|^roster = .*|roster = $BROSTER|; s|^policy = .*|policy = $BPOLICY|" \
	"$E2E_DIR/nostate.conf"
mkdir -p "$E2E_DIR/var-lib/broker"
CREDENTIALS_DIRECTORY="$E2E_DIR/cred-broker" STATE_DIRECTORY="$E2E_DIR/var-lib/broker" \
	"$SEINPOSTD" --config "$E2E_DIR/nostate.conf" >"$E2E_DIR/nostate.log" 2>&1 &
pid=$!
E2E_PIDS+=($pid)
check "without 'state =' the broker keeps its store in \$STATE_DIRECTORY" \
	e2e_wait_for 20 test -s "$E2E_DIR/var-lib/broker/data.mdb"
e2e_stop_all

# A state directory the daemon cannot write: refused before start-up, with the
# fix in the message (the unit's /etc is read-only; here: a directory of root's).
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	ro="$E2E_DIR/ro"
	mkdir -m 0755 "$ro" "$ro/etc-seinpost"
	chmod 0755 "$E2E_DIR"
	# A valid broker configuration (keys readable by the user it runs as),
	# with net init's relative "state = state" in a directory of root's.
	cp -r "$NET/broker/keys" "$NET/broker/seinpost.conf" "$ro/etc-seinpost/"
	cp "$BROSTER" "$ro/etc-seinpost/roster.bin"
	cp "$BPOLICY" "$ro/etc-seinpost/policy.ini"
	sed -i "s|^roster = .*|roster = roster.bin|; s|^policy = .*|policy = policy.ini|" "$ro/etc-seinpost/seinpost.conf"
	for f in "$E2E_DIR/cred-broker"/keys_*; do   # the secrets went to credentials above
		b=$(basename "$f"); cp "$f" "$ro/etc-seinpost/keys/${b#keys_}"
	done
	chmod 0600 "$ro/etc-seinpost/keys"/*
	chown -R 65534:65534 "$ro/etc-seinpost/keys"
	chmod 0644 "$ro/etc-seinpost/seinpost.conf" "$ro/etc-seinpost/roster.bin" "$ro/etc-seinpost/policy.ini"
	out=$(STATE_DIRECTORY=/var/lib/seinpost/x setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$SEINPOSTD" --config "$ro/etc-seinpost/seinpost.conf" 2>&1); rc=$?
	check "an unwritable state directory is refused (rc=$rc)" test $rc -eq 1
	check "the message says the state directory cannot be created" grep -q "state .*/etc-seinpost/state does not exist and cannot be created" <<<"$out"
	check "and names the unit's state directory as the fix" grep -q "state = /var/lib/seinpost/x" <<<"$out"
	chmod 0700 "$E2E_DIR"
else
	echo "skip - unwritable state directory (needs root and setpriv)"
fi

e2e_done
