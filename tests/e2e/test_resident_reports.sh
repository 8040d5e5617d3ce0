#!/usr/bin/env bash
# Anonymous resident reports (issue 16): the municipality enters what a
# resident reported (Meld Misdaad Anoniem, conversations with residents)
# about a place or a business, never about a person. A report without a
# subject (kind none) counts only in the figures: never shared, never
# escalated. Everything through real nodes; the hostile cases through the
# municipality's and the police's own outbox (sp_forge outbox), so the broker
# answers a real node. The network runs 100 days back (test clock) so that
# `stats` can count the reports in a complete month.
. "$(dirname "$0")/lib.sh"

e2e_setup --org police:politie-limburg --org municipality:gemeente-maastricht --org zvh:zvh-mh \
          --org youthcare:jeugdzorg-mh --org privacy-officer:fg-mh
echo $((-100 * 86400)) >"$E2E_DIR/clock"
export SEINPOST_TEST_CLOCK_FILE="$E2E_DIR/clock"
for p in broker politie-limburg gemeente-maastricht zvh-mh jeugdzorg-mh fg-mh; do e2e_start "$p" || exit 1; done
FORGE="$BUILD/tools/sp_forge"
M=gemeente-maastricht P=politie-limburg BAG=0935010000654321 BSN=111222333
inbox_has() { sp "$1" inbox | grep -q "$2"; }

# --- about a place: shared as the policy's location rules say ----------------
loc=$(sp $M submit --resident-report --category drug-premises --weight 2 --bag $BAG \
	--summary "bewoner meldt veel aanloop 's nachts" --wait=15); rc=$?
check "a resident report about an address is accepted (rc=$rc)" test $rc -eq 0 -a ${#loc} -eq 32
check "the police receive it (premises rule, kind location)" e2e_wait_for 15 inbox_has $P "${loc:0:8}"
check "youth care does not" bash -c "! '$SEINPOST' --config '$NET/jeugdzorg-mh/seinpost.conf' inbox | grep -q ${loc:0:8}"

# who-saw for an address (the privacy officer's node pseudonymises the BAG id)
check "who-saw --bag lists the police's receipt of the report" \
	e2e_wait_for 20 bash -c "'$SEINPOST' --config '$NET/fg-mh/seinpost.conf' audit who-saw --bag $BAG | grep -q 'politie-limburg'"
out=$(sp fg-mh audit who-saw --bag $BAG 2>&1)
check "... naming the address by a masked number only" bash -c "grep -q 'BAG \*\*\*\*\*' <<<\"\$1\" || ! grep -q $BAG <<<\"\$1\"" _ "$out"
out=$(sp fg-mh audit who-saw --kvk 12ab 2>&1); rc=$?
check "who-saw --kvk with a malformed number is a usage error" bash -c "[ $rc -eq 2 ] && grep -q 'KvK' <<<\"\$1\"" _ "$out"

# --- without a subject: counted, nothing else --------------------------------
ids=()
for i in 1 2 3 4 5 6; do
	id=$(sp $M submit --resident-report --category weapon --weight 3 --summary "gesprek met bewoners, wijk $i" \
		--wait=15) && ids+=("$id")
done
check "six reports without a subject are accepted (${#ids[@]})" test ${#ids[@]} -eq 6
sleep 2
for p in $P zvh-mh jeugdzorg-mh; do
	check "$p receives none of them" bash -c "! '$SEINPOST' --config '$NET/$p/seinpost.conf' inbox | grep -q ${ids[0]:0:8}"
done
check "no referral (weight 3, six times: kind none never escalates)" \
	bash -c "! '$SEINPOST' --config '$NET/zvh-mh/seinpost.conf' referrals --json | grep -q '${ids[0]}'"
log=$(sp broker audit log --signal "${ids[0]}" --json)
check "the broker audited the submission, marked as a resident report" \
	python3 -c "import json,sys; r=json.loads(sys.argv[1]); r=r if isinstance(r,list) else r['records']; \
assert any(x['event']=='submitted' and x.get('reason')=='resident report' for x in r), r" "$log"
check "... with no pseudonym and nothing queued, released or delivered" \
	python3 -c "import json,sys; r=json.loads(sys.argv[1]); r=r if isinstance(r,list) else r['records']; \
assert all(not x.get('subject') and not x.get('pseudonym') for x in r), r; \
assert not [x for x in r if x['event'] in ('queued','released','delivered','escalated')], r" "$log"
out=$(sp $M outbox)
check "the municipality's outbox shows them accepted" bash -c "grep '${ids[0]:0:8}' <<<\"\$1\" | grep -q accepted" _ "$out"

# --- never about a person ------------------------------------------------------
out=$(sp $M submit --resident-report --category weapon --weight 2 --bsn $BSN --summary x 2>&1); rc=$?
check "--resident-report with --bsn is a usage error (exit 2)" bash -c "[ $rc -eq 2 ] && grep -q 'never about a person' <<<\"\$1\"" _ "$out"
check "... without echoing the BSN" bash -c "! grep -q $BSN <<<\"\$1\"" _ "$out"
out=$(sp $M submit --resident-report --category weapon --weight 2 --name "Jan Jansen" --summary x 2>&1); rc=$?
check "a resident report naming a person is refused (exit 1)" bash -c "[ $rc -eq 1 ] && grep -q 'names no person' <<<\"\$1\"" _ "$out"
printf '{"type":"signal","category":"weapon","weight":2,"bsn":"%s","resident_report":true,"summary":"x"}' $BSN >"$E2E_DIR/resident-person.json"
out=$("$SEINPOST" spool check --policy "$ROOT/deploy/policy.example" "$E2E_DIR/resident-person.json" 2>&1); rc=$?
check "a spool file with a resident report about a person is refused (spool parser)" \
	bash -c "[ $rc -eq 1 ] && grep -q 'never about a person' <<<\"\$1\"" _ "$out"
printf '{"type":"signal","category":"weapon","weight":2,"resident_report":true,"summary":"gesprek"}' >"$E2E_DIR/resident-none.json"
check "... one without a subject passes" "$SEINPOST" spool check --policy "$ROOT/deploy/policy.example" "$E2E_DIR/resident-none.json"

# --- only the roles the policy names -------------------------------------------
out=$(sp $P submit --resident-report --category drug-premises --weight 2 --bag $BAG --summary x 2>&1); rc=$?
check "the police may not enter resident reports (exit 1, the policy named)" \
	bash -c "[ $rc -eq 1 ] && grep -q 'resident_reports' <<<\"\$1\"" _ "$out"
# the same through a node that skips its own check: the broker refuses it
id=$("$FORGE" outbox "$NET/$P/seinpost.conf" resident-role)
check "a resident report from the police's own outbox is rejected by the broker" \
	e2e_wait_for 15 bash -c "'$SEINPOST' --config '$NET/$P/seinpost.conf' outbox | grep '${id:0:8}' | grep -q rejected"
reason_of() { # org id — the outbox's rejection reason
	"$SEINPOST" --config "$NET/$1/seinpost.conf" outbox --json |
		python3 -c "import json,sys; print(*[e.get('reason','') for e in json.load(sys.stdin) if e['id']=='$2'])"
}
check "... with the role named" bash -c "grep -q 'role police may not send anonymous resident reports' <<<\"\$1\"" _ "$(reason_of $P $id)"
id=$("$FORGE" outbox "$NET/$M/seinpost.conf" none-grant politie-limburg)
check "a report without a subject that grants a tier is rejected" \
	e2e_wait_for 15 bash -c "'$SEINPOST' --config '$NET/$M/seinpost.conf' outbox | grep '${id:0:8}' | grep -q rejected"
check "... because it carries grants" bash -c "grep -q 'carries no grants' <<<\"\$1\"" _ "$(reason_of $M $id)"
check "... and the police never receive it" bash -c "! '$SEINPOST' --config '$NET/$P/seinpost.conf' inbox | grep -q ${id:0:8}"
check "the municipality's node is still running" kill -0 "$PID_gemeente_maastricht"
check "the police's node is still running" kill -0 "$PID_politie_limburg"

# --- the policy -----------------------------------------------------------------
sed '0,/^kind     = location, business$/s//kind     = none/' "$ROOT/deploy/policy.example" >"$E2E_DIR/none-rule.policy"
out=$("$SEINPOST" policy check "$E2E_DIR/none-rule.policy" 2>&1); rc=$?
check "a rule sharing reports without a subject is refused" bash -c "[ $rc -ne 0 ] && grep -q 'never shared' <<<\"\$1\"" _ "$out"
sed 's/^resident_reports = municipality$/resident_reports = municipality, planet/' "$ROOT/deploy/policy.example" >"$E2E_DIR/role.policy"
out=$("$SEINPOST" policy check "$E2E_DIR/role.policy" 2>&1); rc=$?
check "resident_reports with an unknown role is refused" bash -c "[ $rc -ne 0 ] && grep -q 'resident_reports' <<<\"\$1\"" _ "$out"

# --- the figures: stats on today's clock, the reports 100 days back ----------------
unset SEINPOST_TEST_CLOCK_FILE
json=$(sp broker stats --by source --json)
check "stats --by source counts the resident reports (7) apart from partner signals" \
	python3 -c "import json,sys; d=json.loads(sys.argv[1]); g=d['groups']; i=g.index('resident-report'); \
assert d['group_totals'][i]==7, d" "$json"
check "... and never prints a pseudonym or id" bash -c "! grep -Eq '[0-9a-f]{16}' <<<\"\$1\"" _ "$json"

e2e_done
