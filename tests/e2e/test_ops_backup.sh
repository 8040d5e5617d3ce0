#!/usr/bin/env bash
# Backup, restore and store layout versions (issue 15, ops).
#   - `seinpost backup` of the broker's and a node's store while signals flow;
#   - `seinpost restore` into a new state directory, a daemon started from it,
#     `audit verify` OK there, nothing of the backup missing;
#   - restore refuses a damaged backup, an occupied state directory, a store
#     still open by a process; nothing changes when it refuses;
#   - layout versions: a store from before versions (no key) is migrated at
#     start; a store from a newer release is refused, by the daemon, by the
#     CLI and by restore, with a message that says what to do.
. "$(dirname "$0")/lib.sh"

LOAD="$BUILD/tools/sp_load"
SCHEMA="$BUILD/tools/sp_schema_set"
e2e_setup --org police:politie-limburg --org youthcare:jeugdzorg-mh
for p in broker politie-limburg jeugdzorg-mh; do e2e_start "$p" || exit 1; done

# --- backup under load ------------------------------------------------------------
"$LOAD" --config "$NET/politie-limburg/seinpost.conf" -n 400 --rate 40 --category drug-recruitment \
	--weight 2 --quiet --out "$E2E_DIR/load.ids" 2>"$E2E_DIR/load.err" &
load=$!
# Let some signals through first, so that the backup lands mid-flow.
e2e_wait_for 60 bash -c "[ \$(wc -l <'$E2E_DIR/load.ids') -ge 60 ]"
before=$(wc -l <"$E2E_DIR/load.ids")
out=$(sp broker backup "$E2E_DIR/bk-broker" 2>&1); rc=$?
echo "$out"
check "broker backup while signals flow succeeds (rc=$rc)" test $rc -eq 0
check "it reports a verified audit log with signed tree heads" grep -q "backup OK: .*signed tree heads verified" <<<"$out"
out=$(sp jeugdzorg-mh backup "$E2E_DIR/bk-yc" 2>&1); rc=$?
echo "$out"
check "youth care node backup while signals arrive succeeds (rc=$rc)" test $rc -eq 0
out=$("$SEINPOST" backup --state "$NET/politie-limburg/state" "$E2E_DIR/bk-police" 2>&1); rc=$?
check "backup --state DIR of the sending node succeeds (rc=$rc)" test $rc -eq 0
after=$(wc -l <"$E2E_DIR/load.ids")
check "signals kept flowing during the backups ($before before, $after after)" test "$after" -gt "$before"
check "the backup holds only data.mdb and its manifest" \
	test "$(ls "$E2E_DIR/bk-broker" | tr '\n' ' ')" = "backup.json data.mdb "
check "backup files are private (0600, directory 0700)" \
	test "$(stat -c %a "$E2E_DIR/bk-broker" "$E2E_DIR/bk-broker/data.mdb" "$E2E_DIR/bk-broker/backup.json" | tr '\n' ' ')" = "700 600 600 "
check "no partial directory left behind" bash -c "! ls -d '$E2E_DIR'/bk-*.partial-* 2>/dev/null"
records=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["audit_records"])' "$E2E_DIR/bk-broker/backup.json")
check "the manifest names the layout version and audit size ($records records)" \
	python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); sys.exit(not (m["schema_version"]==2 and m["audit_records"]>0 and len(m["data_sha256"])==64 and m["created_at"].endswith("Z")))' "$E2E_DIR/bk-broker/backup.json"
check "backup refuses an existing destination" bash -c "! '$SEINPOST' --config '$NET/broker/seinpost.conf' backup '$E2E_DIR/bk-broker' 2>/dev/null"
wait $load
check "the load finished: 400 signals submitted" test "$(wc -l <"$E2E_DIR/load.ids")" -eq 400
e2e_stop_all

# --- restore into a new state directory, start from it ----------------------------
# The broker's configuration with its state somewhere new.
restored_conf() { # name newstate
	sed "s|^state = .*|state = $2|" "$NET/$1/seinpost.conf" >"$NET/$1/restored.conf"
}
restored_conf broker "$E2E_DIR/new-broker"
out=$("$SEINPOST" --config "$NET/broker/restored.conf" restore "$E2E_DIR/bk-broker" 2>&1); rc=$?
echo "$out"
check "restore of the broker backup succeeds (rc=$rc)" test $rc -eq 0
check "restore reports the verified audit log" grep -q "restore OK: .*$records records" <<<"$out"
check "restore warns about witnesses of later tree heads" grep -q "rolled back" <<<"$out"
check "the restored store is private (0600)" test "$(stat -c %a "$E2E_DIR/new-broker/data.mdb")" = 600
"$SEINPOSTD" --config "$NET/broker/restored.conf" --verbose >"$E2E_DIR/broker-restored.log" 2>&1 &
E2E_PIDS+=($!)
check "the broker starts from the restored store" e2e_wait_for 30 grep -q "listening on" "$E2E_DIR/broker-restored.log"
out=$("$SEINPOST" --config "$NET/broker/restored.conf" audit verify 2>&1)
echo "$out"
check "audit verify OK on the restored broker" grep -q "audit log OK" <<<"$out"
n=$(sed -n 's/audit log OK: \([0-9]*\) records.*/\1/p' <<<"$out")
check "the restored log holds every record of the backup ($n >= $records)" test "${n:-0}" -ge "$records"
e2e_stop_all

restored_conf jeugdzorg-mh "$E2E_DIR/new-yc"
check "restore of the node backup succeeds" \
	"$SEINPOST" --config "$NET/jeugdzorg-mh/restored.conf" restore "$E2E_DIR/bk-yc"
check "audit verify OK on the restored node" bash -c \
	"'$SEINPOST' --config '$NET/jeugdzorg-mh/restored.conf' audit verify | grep -q 'audit log OK'"
inbox=$("$SEINPOST" --config "$NET/jeugdzorg-mh/restored.conf" inbox 2>/dev/null | grep -c '^ *[0-9a-f]\{32\}' )
check "the restored inbox holds signals ($inbox)" test "${inbox:-0}" -gt 0

# --- restore refuses, and changes nothing ----------------------------------------------
out=$("$SEINPOST" --config "$NET/broker/restored.conf" restore "$E2E_DIR/bk-broker" 2>&1); rc=$?
check "restore refuses a state directory that holds a store (rc=$rc)" test $rc -eq 1
check "and says to move it away" grep -q "already holds a store" <<<"$out"

cp -r "$E2E_DIR/bk-broker" "$E2E_DIR/bk-bad"
python3 - "$E2E_DIR/bk-bad/data.mdb" <<'EOF'
import sys
p = sys.argv[1]
b = bytearray(open(p, 'rb').read())
b[len(b) // 2] ^= 0x5a
open(p, 'wb').write(bytes(b))
EOF
out=$("$SEINPOST" restore --state "$E2E_DIR/new-bad" "$E2E_DIR/bk-bad" 2>&1); rc=$?
check "restore refuses a damaged backup (rc=$rc)" test $rc -eq 1
check "naming the checksum" grep -q "does not match its manifest" <<<"$out"
check "and leaves no store behind" test ! -e "$E2E_DIR/new-bad/data.mdb"
# Without the manifest the store's own checks must catch a changed record:
# rewrite one audit record in a copy (sp_audit_tamper) and drop the manifest.
cp -r "$E2E_DIR/bk-broker" "$E2E_DIR/bk-tampered"
rm "$E2E_DIR/bk-tampered/backup.json"
check "an audit record of the copy is changed" "$BUILD/tools/sp_audit_tamper" "$E2E_DIR/bk-tampered" modify 2
rm -f "$E2E_DIR/bk-tampered/lock.mdb"
out=$("$SEINPOST" --config "$NET/broker/seinpost.conf" restore --state "$E2E_DIR/new-tampered" "$E2E_DIR/bk-tampered" 2>&1); rc=$?
check "restore refuses a backup whose audit log was changed (rc=$rc)" test $rc -eq 1
check "naming the audit log" grep -q "audit log broken" <<<"$out"
check "and leaves no store behind" test ! -e "$E2E_DIR/new-tampered/data.mdb"

# A running daemon on the target: refused even when data.mdb was moved away.
"$SEINPOSTD" --config "$NET/jeugdzorg-mh/restored.conf" >"$E2E_DIR/yc-restored.log" 2>&1 &
ycpid=$!
E2E_PIDS+=($ycpid)
e2e_wait_for 30 test -S "$E2E_DIR/new-yc/submit.sock"
mv "$E2E_DIR/new-yc/data.mdb" "$E2E_DIR/yc-moved.mdb"
out=$("$SEINPOST" --config "$NET/jeugdzorg-mh/restored.conf" restore "$E2E_DIR/bk-yc" 2>&1); rc=$?
check "restore refuses while a daemon has the store open (rc=$rc)" test $rc -eq 1
check "and says to stop it" grep -q "stop the daemon first" <<<"$out"
e2e_stop_all
mv "$E2E_DIR/yc-moved.mdb" "$E2E_DIR/new-yc/data.mdb"

# --- layout versions ---------------------------------------------------------------------
check "a new store carries layout version 2" test "$("$SCHEMA" "$NET/broker/state" get)" = 2
# A store as releases before versions left it: migrated when the daemon starts.
"$SCHEMA" "$NET/broker/state" 1
check "the version key is gone (a version 1 store)" test "$("$SCHEMA" "$NET/broker/state" get)" = 1
check "the CLI reads a version 1 store as it is" grep -q "audit log OK" <<<"$(sp broker audit verify 2>&1)"
e2e_start broker
check "the broker migrates it at start (logged)" \
	e2e_wait_for 10 grep -q "store layout migrated from version 1 to 2" "$E2E_DIR/broker.log"
e2e_stop broker
check "the store now carries version 2" test "$("$SCHEMA" "$NET/broker/state" get)" = 2
check "audit verify OK after the migration" grep -q "audit log OK" <<<"$(sp broker audit verify 2>&1)"

# A store from a newer release: every open refuses it.
"$SCHEMA" "$NET/broker/state" 3
out=$(timeout 30 "$SEINPOSTD" --config "$NET/broker/seinpost.conf" 2>&1); rc=$?
check "the daemon refuses a store from a newer release (rc=$rc)" test $rc -eq 1
check "saying why and what to do" grep -q "layout version 3, newer than this seinpost knows (2).*restore a backup" <<<"$out"
out=$(sp broker audit verify 2>&1); rc=$?
check "the CLI refuses it too (rc=$rc)" bash -c "[ $rc -ne 0 ] && grep -q 'layout version unknown' <<<'$out'"
out=$(sp broker backup "$E2E_DIR/bk-newer" 2>&1); rc=$?
check "backup refuses it (rc=$rc), leaving nothing" bash -c "[ $rc -eq 1 ] && [ ! -e '$E2E_DIR/bk-newer' ]"
"$SCHEMA" "$NET/broker/state" 2
cp -r "$E2E_DIR/bk-broker" "$E2E_DIR/bk-newer"
rm "$E2E_DIR/bk-newer/backup.json"
"$SCHEMA" "$E2E_DIR/bk-newer" 3 && rm -f "$E2E_DIR/bk-newer/lock.mdb"
out=$("$SEINPOST" restore --state "$E2E_DIR/new-newer" "$E2E_DIR/bk-newer" 2>&1); rc=$?
check "restore refuses a backup from a newer release (rc=$rc)" bash -c "[ $rc -eq 1 ] && grep -q 'does not open' <<<'$out'"
check "and leaves no store behind" test ! -e "$E2E_DIR/new-newer/data.mdb"

check "backup --help answers on stdout" bash -c "'$SEINPOST' backup --help | grep -q 'usage: seinpost'"
check "restore without a target is a usage error (2)" bash -c "'$SEINPOST' restore x >/dev/null 2>&1; [ \$? -eq 2 ]"

e2e_done
