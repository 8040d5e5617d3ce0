#!/usr/bin/env bash
# --json everywhere (issue 17 item 4): each command's --json output is
# validated against its schema in docs/json/<command>.schema.json (draft
# 2020-12, python3-jsonschema) and against the shared conventions (instants
# RFC 3339 in *_at keys, numbers with the unit in the key); every schema in
# docs/json/ is exercised by some command here (status only when its schema
# exists: it belongs to the status work).
. "$(dirname "$0")/lib.sh"

PY=python3
$PY -c 'import jsonschema' 2>/dev/null || PY=/usr/bin/python3
$PY -c 'import jsonschema' 2>/dev/null || { echo "python3-jsonschema is missing (make deps)"; exit 1; }
e2e_setup --org police:politie-limburg --org school:school-bonnefanten --org youthcare:jeugdzorg-mh \
          --org zvh:zvh-mh --org privacy-officer:fg-mh
for p in broker politie-limburg school-bonnefanten jeugdzorg-mh zvh-mh fg-mh; do e2e_start "$p" || exit 1; done
SCHEMAS="$ROOT/docs/json"
declare -A used=()
MANIFEST="$E2E_DIR/manifest" nout=0
: >"$MANIFEST"
valid() { # schema-name description cmd... — run it; its stdout is validated at the end
	local name=$1 d=$2; shift 2
	used[$name]=1
	nout=$((nout + 1))
	"$@" >"$E2E_DIR/out-$nout.json" 2>"$E2E_DIR/out-$nout.err"
	printf '%s\t%s\t%s\n' "$SCHEMAS/$name.schema.json" "$E2E_DIR/out-$nout.json" "$d: $name JSON (rc=$?)" >>"$MANIFEST"
	cp "$E2E_DIR/out-$nout.json" "$E2E_DIR/out.json"
}
n() { sp "$@"; }
BSN=111222333

valid keygen "keygen" "$SEINPOST" keygen "$E2E_DIR/k" --org school-x --role school --json
valid roster-show "roster show" "$SEINPOST" roster show "$NET/roster.bin" --json
"$SEINPOST" network create "$E2E_DIR/tnet" --name tnet --policy "$ROOT/deploy/policy.example" \
	--pseudonymisers 3 --threshold 2 --oprf-port 7801 >/dev/null
valid roster-show "roster show, 2-of-3 pseudonymisers" "$SEINPOST" roster show "$E2E_DIR/tnet/roster.bin" --json
valid keygen "keygen --role pseudonymiser" "$SEINPOST" keygen "$E2E_DIR/kp" --org pseudo-x --role pseudonymiser --json
valid keygen "keygen --broker" "$SEINPOST" keygen "$E2E_DIR/kb" --broker --json
valid policy-check "policy check" "$SEINPOST" policy check "$ROOT/deploy/policy.example" --json
printf '[x]\n' >"$E2E_DIR/bad.policy"
valid policy-check "policy check of a bad file" "$SEINPOST" policy check "$E2E_DIR/bad.policy" --json
valid spool-check "spool check" "$SEINPOST" spool check --json "$ROOT"/tests/fuzz/corpus/spool/*.json
valid involve "involve --bsn" n school-bonnefanten involve --bsn $BSN --ref LL-1 --json
printf '%s,LL-2,2030-01-01\n' 123456782 >"$E2E_DIR/list.csv"
valid involve "involve --file" n school-bonnefanten involve --file "$E2E_DIR/list.csv" --json
printf '123456789\n' >"$E2E_DIR/badlist.csv"
valid involve "involve --file with a bad line" n school-bonnefanten involve --file "$E2E_DIR/badlist.csv" --json
valid submit "submit --wait" n politie-limburg submit --category drug-recruitment --weight 2 --bsn $BSN \
	--summary "Benaderd" --contact "wijkagent" --wait=20 --json
id=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$E2E_DIR/out.json")
valid submit "a refused submit" n politie-limburg submit --category knitting --bsn $BSN --json
n jeugdzorg-mh submit --category drug-recruitment --weight 2 --bsn $BSN --summary "Ook gezien" --wait=20 >/dev/null 2>&1
valid outbox "outbox" n politie-limburg outbox --json
e2e_wait_for 20 bash -c "'$SEINPOST' --config '$NET/school-bonnefanten/seinpost.conf' inbox | grep -q $id"
valid inbox "inbox (with ref)" n school-bonnefanten inbox --json
valid show "show" n school-bonnefanten show "$id" --user mentor --json
e2e_wait_for 20 bash -c "'$SEINPOST' --config '$NET/zvh-mh/seinpost.conf' referrals | grep -q '^referral '"
valid referrals "referrals" n zvh-mh referrals --json
valid alarms "alarms (a network without the service: none)" n fg-mh alarms --json
zid=$(sp zvh-mh inbox --json | $PY -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])' 2>/dev/null)
valid show "show with a referral" n zvh-mh show "$zid" --user coordinator --json
valid uninvolve "uninvolve" n school-bonnefanten uninvolve --bsn $BSN --json
for who in broker politie-limburg; do
	valid audit-verify "audit verify ($who)" n $who audit verify --json
	valid audit-log "audit log ($who)" n $who audit log --json
	valid audit-export "audit export ($who)" n $who audit export --json
done
e2e_wait_for 30 bash -c "'$SEINPOST' --config '$NET/school-bonnefanten/seinpost.conf' audit witness --json | grep -q '\"have_head\": true'"
valid audit-witness "audit witness" n school-bonnefanten audit witness --json
valid audit-log "audit log through the privacy officer's node" n fg-mh audit log --json
valid audit-who-saw "audit who-saw" n fg-mh audit who-saw --bsn $BSN --json
valid audit-report "audit report" n fg-mh audit report --bsn $BSN --format json
valid stats "stats (broker)" n broker stats --json
valid stats "stats by quarter, category and role" n broker stats --period quarter --by category,role --json
if [ -f "$SCHEMAS/status.schema.json" ]; then
	valid status "status (broker)" n broker status --json
	valid status "status (node)" n politie-limburg status --json
fi
$PY "$ROOT/tests/tools/validate_json.py" --manifest "$MANIFEST" >"$E2E_DIR/validation" 2>&1
cat "$E2E_DIR/validation"
E2E_PASSES=$((E2E_PASSES + $(grep -c '^ok ' "$E2E_DIR/validation")))
E2E_FAILS=$((E2E_FAILS + $(grep -c '^FAIL' "$E2E_DIR/validation")))
check "the validator ran" grep -q '^ok ' "$E2E_DIR/validation"
printf '{"state": "stored", "id": "%s", "queued": "2026-12-02 02:18:34 UTC", "size_bytes": "12"}' "$id" >"$E2E_DIR/old.json"
check "the validator refuses the old time format and numbers as strings" \
	bash -c "! $PY '$ROOT/tests/tools/validate_json.py' '$SCHEMAS/submit.schema.json' '$E2E_DIR/old.json' 2>/dev/null"
for f in "$SCHEMAS"/*.schema.json; do
	name=$(basename "$f" .schema.json)
	check "schema $name is exercised by this test" test -n "${used[$name]:-}"
done
check "docs/json.md names every schema" bash -c "for f in '$SCHEMAS'/*.schema.json; do grep -q \"json/\$(basename \$f)\" '$ROOT/docs/json.md' || { echo \"missing \$f\"; exit 1; }; done"
e2e_done
