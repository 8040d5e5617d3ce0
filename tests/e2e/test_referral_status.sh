#!/usr/bin/env bash
# Referral status (issue 16, op- en afschalen): the ZVH's coordinator records
# what happens with a referral, with a reason; the broker audits who, when,
# what and why; each original signaller learns the status — not the reason —
# and nobody else does. Everyone but the coordinator is refused.
. "$(dirname "$0")/lib.sh"

e2e_setup --org police:politie-limburg --org school:school-bonnefanten --org youthcare:jeugdzorg-mh \
          --org zvh:zvh-mh
for p in broker politie-limburg school-bonnefanten jeugdzorg-mh zvh-mh; do e2e_start "$p" || exit 1; done
FORGE="$BUILD/tools/sp_forge"
BSN=111222333

pol=$(sp politie-limburg submit --category drug-recruitment --weight 2 --bsn $BSN --summary "koerier" --wait=15)
yc=$(sp jeugdzorg-mh submit --category gia --weight 2 --bsn $BSN --summary "thuis" --wait=15)
check "two signals accepted" test ${#pol} -eq 32 -a ${#yc} -eq 32
refid() { sp zvh-mh referrals --json | python3 -c 'import json,sys; r=json.load(sys.stdin); print(r[0]["id"] if r else "")'; }
check "the ZVH gets a referral" e2e_wait_for 20 bash -c "[ -n \"\$('$SEINPOST' --config '$NET/zvh-mh/seinpost.conf' referrals --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0][\"id\"])' 2>/dev/null)\" ]"
REF=$(refid)

out=$(sp zvh-mh referral status "$REF" accepted --reason "casus besproken in het netwerkoverleg" --user coordinator.a); rc=$?
check "the coordinator accepts the referral (rc=$rc: $out)" test $rc -eq 0
status_of() { # org signal -> the statuses its outbox learned
	sp "$1" outbox --json | python3 -c "
import json, sys
for e in json.load(sys.stdin):
    if e['id'] == '$2':
        print(' '.join(f.get('status', '') for f in e.get('feedback', []) if f['event'] == 'referral'))"
}
check "the police learn: accepted" e2e_wait_for 20 bash -c "$(declare -f status_of sp); SEINPOST='$SEINPOST' NET='$NET' status_of politie-limburg $pol | grep -qw accepted"
check "youth care learns: accepted" e2e_wait_for 20 bash -c "$(declare -f status_of sp); SEINPOST='$SEINPOST' NET='$NET' status_of jeugdzorg-mh $yc | grep -qw accepted"
check "the police's outbox says it in words" bash -c "'$SEINPOST' --config '$NET/politie-limburg/seinpost.conf' outbox | grep -q 'part of a referral that the zvh accepted'"
check "the reason does not reach the signallers" bash -c "! '$SEINPOST' --config '$NET/politie-limburg/seinpost.conf' outbox --json | grep -q netwerkoverleg"
s=$("$FORGE" feedback "$NET/school-bonnefanten/seinpost.conf")
check "a school that did not signal learns nothing" bash -c "grep -q END <<<\"\$1\" && ! grep -q referral <<<\"\$1\"" _ "$s"

log=$(sp broker audit log --json)
check "the broker audits who, what and why" python3 -c "
import json, sys
rs = [r for r in json.loads(sys.argv[1]) if r['event'] == 'referral-status']
assert len(rs) == 1, rs
r = rs[0]
assert r['actor'] == 'zvh-mh' and r['user'] == 'coordinator.a', r
assert r['reason'].startswith('accepted: casus besproken'), r
assert r['rule'] and r['subject'], r" "$log"

out=$(sp zvh-mh referral status "$REF" intervention family-coaching --reason "gezinscoach ingezet"); rc=$?
check "an intervention from the policy's list is recorded" test $rc -eq 0
check "the police learn: intervention" e2e_wait_for 20 bash -c "$(declare -f status_of sp); SEINPOST='$SEINPOST' NET='$NET' status_of politie-limburg $pol | grep -qw intervention"

# refusals change nothing
n0=$(sp broker audit log --json | grep -c '"referral-status"')
out=$(sp politie-limburg referral status "$REF" closed --reason "wij sluiten" 2>&1); rc=$?
check "the police cannot set the status (rc=$rc)" bash -c "[ $rc -eq 1 ] && grep -q 'only the coordinator' <<<'$out'"
out=$(sp zvh-mh referral status "$REF" intervention astrology --reason "x" 2>&1); rc=$?
check "an intervention type outside the policy is refused" bash -c "[ $rc -eq 1 ] && grep -q 'not in the policy' <<<\"\$1\"" _ "$out"
out=$(sp zvh-mh referral status "$REF" intervention --reason "geen type" 2>&1); rc=$?
check "intervention without a type is refused" test $rc -ne 0
out=$(sp zvh-mh referral status "$REF" maybe --reason "x" 2>&1); rc=$?
check "an unknown status is refused" bash -c "[ $rc -eq 1 ] && grep -q 'unknown status' <<<'$out'"
out=$(sp zvh-mh referral status "$REF" accepted --reason "BSN $BSN besproken" 2>&1); rc=$?
check "a reason with a BSN is refused, and not echoed" bash -c "[ $rc -eq 1 ] && ! grep -q $BSN <<<'$out'"
out=$(sp zvh-mh referral status "$REF" accepted 2>&1); rc=$?
check "no reason: usage error (exit 2)" test $rc -eq 2
out=$(sp zvh-mh referral status 00000000000000000000000000000000 accepted --reason x 2>&1); rc=$?
check "an unknown referral is refused" test $rc -eq 1
check "no refusal was audited as a status" test "$(sp broker audit log --json | grep -c '"referral-status"')" -eq "$n0"

out=$(sp zvh-mh referral status "$REF" closed --reason "traject afgerond"); rc=$?
check "the coordinator closes the referral" test $rc -eq 0
out=$(sp zvh-mh referral status "$REF" accepted --reason "toch weer" 2>&1); rc=$?
check "a closed referral takes no further status" bash -c "[ $rc -eq 1 ] && grep -q closed <<<'$out'"

e2e_stop broker
out=$(sp zvh-mh referral status "$REF" accepted --reason "x" 2>&1); rc=$?
check "with the broker down: no verdict, exit 3" test $rc -eq 3

e2e_done
