#!/usr/bin/env bash
# Enrolment as an operator and the organisations do it (docs/enrolment.md):
# a network built with only `network create`, `keygen --org --role`,
# `roster add` and `node config`; a signal exchanged; keygen refusing to
# overwrite keys; a school revoked with `roster remove` + SIGHUP and its very
# next submit refused ("organisation revoked") on the connection it already
# has, with no broker restart; every step in the broker's audit log.
. "$(dirname "$0")/lib.sh"

E2E_DIR=$(mktemp -d "${TMPDIR:-/tmp}/sp-e2e-XXXXXX")
E2E_PORT=$(e2e_free_port)
trap e2e_teardown EXIT
NET="$E2E_DIR/net"
EP="tcp://127.0.0.1:$E2E_PORT"

out=$("$SEINPOST" network create "$NET" --name e2e-region --listen "$EP" --policy "$ROOT/deploy/policy.example" \
	--state "$NET/broker/state" 2>&1); rc=$?
check "network create (rc=$rc)" test $rc -eq 0
check "the operator key is apart from the broker's sign key" \
	bash -c "[ \"\$(cat '$NET/operator.pub')\" != \"\$(cat '$NET/broker/keys/sign.pub')\" ]"
check "operator secret key is 0600" test "$(stat -c %a "$NET/operator/sign.key")" = 600
check "the empty roster verifies" bash -c "'$SEINPOST' roster show '$NET/roster.bin' --json | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d[\"organisations\"]==[] and d[\"serial\"]>=1'"

ORGS="police:politie-limburg school:school-bonnefanten youthcare:jeugdzorg-mh"
for ro in $ORGS; do
	role=${ro%%:*} id=${ro#*:}
	# on the organisation's own machine
	check "keygen $id" "$SEINPOST" keygen "$NET/$id/keys" --org "$id" --role "$role"
	# the operator receives enrol.json only
	check "roster add $id" "$SEINPOST" roster add "$NET/roster.bin" "$NET/$id/keys/enrol.json"
done

# keygen never silently replaces an identity
before=$(sha256sum "$NET/school-bonnefanten/keys/sign.key")
out=$("$SEINPOST" keygen "$NET/school-bonnefanten/keys" --org school-bonnefanten --role school 2>&1); rc=$?
check "keygen over existing keys is refused (rc=$rc)" bash -c "[ $rc -eq 1 ] && grep -q 'refusing to overwrite' <<<\"\$1\"" _ "$out"
check "the refused keygen left the keys alone" test "$before" = "$(sha256sum "$NET/school-bonnefanten/keys/sign.key")"
out=$("$SEINPOST" roster add "$NET/roster.bin" "$NET/school-bonnefanten/keys/enrol.json" 2>&1); rc=$?
check "a second enrolment of the same organisation is refused" bash -c "[ $rc -eq 1 ] && grep -q 'already on the roster' <<<\"\$1\"" _ "$out"
# a tampered enrol.json (role changed) does not verify
sed 's/"role": "school"/"role": "police"/' "$NET/school-bonnefanten/keys/enrol.json" >"$E2E_DIR/forged.json"
sed -i 's/"org": "school-bonnefanten"/"org": "school-forged"/' "$E2E_DIR/forged.json"
out=$("$SEINPOST" roster add "$NET/roster.bin" "$E2E_DIR/forged.json" 2>&1); rc=$?
check "an altered enrol.json is refused (signature)" bash -c "[ $rc -eq 1 ] && grep -q 'does not verify' <<<\"\$1\"" _ "$out"

show=$("$SEINPOST" roster show "$NET/roster.bin" --json)
check "roster show lists the three organisations" python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert sorted(o["id"] for o in d["organisations"])==["jeugdzorg-mh","politie-limburg","school-bonnefanten"], d' "$show"

for ro in $ORGS; do
	id=${ro#*:}
	check "node config $id" "$SEINPOST" node config "$NET/$id" --network "$NET/roster.bin" --broker "$EP" \
		--state "$NET/$id/state"
done
check "node config writes a production state path by default" bash -c \
	"'$SEINPOST' node config '$E2E_DIR/prod' --network '$NET/roster.bin' --broker '$EP' --keys '$NET/politie-limburg/keys' >/dev/null && grep -q '^state = /var/lib/seinpost/politie-limburg$' '$E2E_DIR/prod/seinpost.conf'"

for p in broker politie-limburg school-bonnefanten jeugdzorg-mh; do
	e2e_start "$p" || exit 1
done
BPID=$(e2e_pid broker)

# --- a fourth organisation enrols while the network runs ---------------------
check "keygen gemeente-maastricht" "$SEINPOST" keygen "$NET/gemeente-maastricht/keys" --org gemeente-maastricht --role municipality
check "roster add gemeente-maastricht" "$SEINPOST" roster add "$NET/roster.bin" "$NET/gemeente-maastricht/keys/enrol.json"
check "node config gemeente-maastricht" "$SEINPOST" node config "$NET/gemeente-maastricht" --network "$NET/roster.bin" \
	--broker "$EP" --state "$NET/gemeente-maastricht/state"
kill -HUP "$BPID"
check "the broker takes the new roster on SIGHUP" e2e_wait_for 10 grep -q "roster reloaded: serial" "$E2E_DIR/broker.log"
e2e_start gemeente-maastricht || exit 1
check "the new organisation is admitted without a broker restart" \
	e2e_wait_for 10 grep -q "org=gemeente-maastricht.*connected\|connected.*org=gemeente-maastricht" "$E2E_DIR/broker.log"

BSN=111222333
id=$(sp politie-limburg submit --category drug-recruitment --weight 2 --bsn $BSN --summary "Benaderd" --contact "wijkagent" --wait=15)
rc=$?
check "police signal accepted on the enrolled network (rc=$rc)" test $rc -eq 0 -a ${#id} -eq 32
check "youth care receives it" e2e_wait_for 15 bash -c "'$SEINPOST' --config '$NET/jeugdzorg-mh/seinpost.conf' inbox | grep -q $id"
sid=$(sp school-bonnefanten submit --category school-absence --weight 1 --bsn $BSN --summary "absent" --contact "mentor" --wait=15)
rc=$?
check "school signal accepted before revocation (rc=$rc)" test $rc -eq 0

# --- revocation: the operator removes the school; the broker reloads ---------
check "roster remove" "$SEINPOST" roster remove "$NET/roster.bin" school-bonnefanten --reason "e2e: board left the network"
kill -HUP "$BPID"
check "the broker reloads the roster without a restart" e2e_wait_for 10 bash -c "[ \$(grep -c 'roster reloaded: serial' '$E2E_DIR/broker.log') -ge 2 ]"
rid=$(sp school-bonnefanten submit --category school-absence --weight 1 --bsn $BSN --summary "again" --contact "mentor")
check "the school's node still stores the submit locally" test ${#rid} -eq 32
check "the school's outbox shows 'organisation revoked'" e2e_wait_for 10 bash -c \
	"'$SEINPOST' --config '$NET/school-bonnefanten/seinpost.conf' outbox | grep '$rid' | grep -q 'organisation revoked'"
# From "queued" (durable in the outbox) to the verdict stored in it, by the
# school node's own log clock: the CLI's polling speed is not measured.
ms=$(python3 - "$E2E_DIR/school-bonnefanten.log" "$rid" <<'PY'
import sys, datetime
t = {}
for line in open(sys.argv[1]):
    if sys.argv[2] not in line:
        continue
    ts = datetime.datetime.strptime(line.split()[0], "%Y-%m-%dT%H:%M:%S.%fZ")
    if "queued" in line: t["q"] = ts
    if "organisation revoked" in line: t["r"] = ts
print(int((t["r"] - t["q"]).total_seconds() * 1000) if len(t) == 2 else 999999)
PY
)
echo "# revoked submit: outbox verdict $ms ms after the submit was queued"
check "refused within a second of the submit ($ms ms)" test "$ms" -lt 1000
check "same broker process (no restart)" kill -0 "$BPID"
check "the refusal came on the school's existing connection (no new handshake refused)" \
	bash -c "! grep -q 'not on the roster' '$E2E_DIR/broker.log' || grep -q 'rejected: organisation revoked' '$E2E_DIR/broker.log'"
id2=$(sp politie-limburg submit --category drug-recruitment --weight 2 --bsn $BSN --summary "x" --contact "y" --wait=15)
check "other organisations carry on" test $? -eq 0
check "the node learnt the new roster from the broker" e2e_wait_for 10 grep -q "roster serial .* in force" "$E2E_DIR/politie-limburg.log"

log=$(sp broker audit log 2>&1)
check "audit: org-added for the late organisation" grep -q "org-added.*gemeente-maastricht" <<<"$log"
check "audit: org-revoked for the school" grep -q "org-revoked.*school-bonnefanten" <<<"$log"
check "audit: grants-dropped for the school" grep -q "grants-dropped" <<<"$log"
check "audit: roster-loaded" grep -q "roster-loaded" <<<"$log"
check "audit: the refused submit" grep -q "rejected.*school-bonnefanten" <<<"$log"
check "broker audit verify OK" sp broker audit verify
e2e_done
