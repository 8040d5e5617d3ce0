#!/usr/bin/env bash
# Withdrawal by the signaller (issue 16, as in the Verwijsindex): the police
# withdraw an unjustified signal with a reason. A withdrawal removes access
# everywhere: the broker drops the grants it holds and never releases them,
# every recipient's node deletes its copy and refuses to open it (a hook gets
# a `withdrawn` item), an escalation the signal alone carried is closed and
# the coordinator and the other signallers learn it, one that still holds
# stays. Audited (who, when, why); the outbox and feedback say withdrawn.
# Twice, someone else's, unknown ids, a BSN in the reason: refused, nothing
# changes. An offline recipient gets the withdrawal when it comes back.
. "$(dirname "$0")/lib.sh"

e2e_setup --org police:politie-limburg --org school:school-bonnefanten --org youthcare:jeugdzorg-mh \
          --org zvh:zvh-mh --org privacy-officer:fg-mh
mkdir -p "$E2E_DIR/out" && chmod 0750 "$E2E_DIR/out"
printf '\n[hook]\nout = %s\n' "$E2E_DIR/out" >>"$NET/school-bonnefanten/seinpost.conf"
for p in broker politie-limburg school-bonnefanten jeugdzorg-mh zvh-mh fg-mh; do e2e_start "$p" || exit 1; done
FORGE="$BUILD/tools/sp_forge"
BSN=111222333 BSN2=123456782 BSN3=999990019

conf() { echo "$NET/$1/seinpost.conf"; }
in_inbox() { "$SEINPOST" --config "$(conf "$1")" inbox | grep -q "$2"; }
withdrawn_at() { # org id -> the tombstone's withdrawn_at, or nothing
	"$SEINPOST" --config "$(conf "$1")" inbox --json | python3 -c "
import json, sys
for e in json.load(sys.stdin):
    if e['id'] == '$2': print(e.get('withdrawn_at', ''))"
}
is_withdrawn() { [ -n "$(withdrawn_at "$1" "$2")" ]; }

# --- one subject, two signallers: a referral to the ZVH ---------------------
check "the school registers its pupil" sp school-bonnefanten involve --bsn $BSN --ref LL-1
pol=$(sp politie-limburg submit --category drug-recruitment --weight 2 --bsn $BSN --summary "koerier bij station" \
	--contact "wijkagent" --wait=15)
yc=$(sp jeugdzorg-mh submit --category gia --weight 2 --bsn $BSN --summary "zorgen thuis" --wait=15)
check "two signals accepted" test ${#pol} -eq 32 -a ${#yc} -eq 32
check "the school receives the police signal" e2e_wait_for 20 in_inbox school-bonnefanten "$pol"
check "the ZVH receives the police signal with the referral" e2e_wait_for 20 in_inbox zvh-mh "$pol"
check "the school can open it before" bash -c "'$SEINPOST' --config '$(conf school-bonnefanten)' show $pol --user mentor.a | grep -q koerier"
check "the school's case system got it (hook)" e2e_wait_for 15 bash -c "grep -l '\"kind\": \"signal\"' '$E2E_DIR'/out/*.json"
refid=$(sp zvh-mh referrals --json | python3 -c 'import json,sys; r=json.load(sys.stdin); print(r[0]["id"] if r else "")')
check "the ZVH holds a referral" test ${#refid} -eq 32

# --- refusals change nothing -------------------------------------------------
nw() { sp broker audit log --json | grep -c '"withdrawn"'; }
n0=$(nw)
out=$(sp jeugdzorg-mh withdraw "$pol" --reason "niet van ons" 2>&1); rc=$?
check "another organisation cannot withdraw it (rc=$rc)" bash -c "[ $rc -eq 1 ] && grep -q 'only the organisation that sent' <<<\"\$1\"" _ "$out"
s=$("$FORGE" withdraw "$(conf jeugdzorg-mh)" "$pol")
check "the broker refuses it too, when a node skips its own check ($s)" grep -q "^REFUSED -28 .*only the organisation that sent" <<<"$s"
out=$(sp politie-limburg withdraw 0123456789abcdef0123456789abcdef --reason "bestaat niet" 2>&1); rc=$?
check "an unknown id is refused (rc=$rc)" bash -c "[ $rc -eq 1 ] && grep -q 'no signal' <<<\"\$1\"" _ "$out"
s=$("$FORGE" withdraw "$(conf politie-limburg)" 0123456789abcdef0123456789abcdef)
check "the broker says so for an unknown id ($s)" grep -q "^REFUSED -20 " <<<"$s"
out=$(sp politie-limburg withdraw "$pol" --reason "BSN $BSN was fout" 2>&1); rc=$?
check "a reason with a BSN is refused and not echoed (rc=$rc)" bash -c "[ $rc -eq 1 ] && ! grep -q $BSN <<<\"\$1\"" _ "$out"
out=$(sp politie-limburg withdraw "$pol" 2>&1); rc=$?
check "no reason: usage (exit 2)" test $rc -eq 2
out=$(sp politie-limburg withdraw xyz --reason "x" 2>&1); rc=$?
check "a malformed id: usage (exit 2)" test $rc -eq 2
check "no refusal was audited as a withdrawal" test "$(nw)" -eq "$n0"
check "the school still opens it after the refusals" bash -c "'$SEINPOST' --config '$(conf school-bonnefanten)' show $pol --user mentor.a >/dev/null"

# --- the withdrawal ------------------------------------------------------------
out=$(sp politie-limburg withdraw "$pol" --reason "onterecht: verkeerde persoon" --user agent.b); rc=$?
check "the police withdraw their signal (rc=$rc: $out)" test $rc -eq 0
check "the answer says how many are told and that the referral closed" bash -c "grep -Eq '[0-9]+ organisations? told' <<<\"\$1\" && grep -q closed <<<\"\$1\"" _ "$out"
check "the school's copy becomes a tombstone" e2e_wait_for 20 is_withdrawn school-bonnefanten "$pol"
check "the ZVH's copy becomes a tombstone" e2e_wait_for 20 is_withdrawn zvh-mh "$pol"
out=$(sp school-bonnefanten show "$pol" --user mentor.a 2>&1); rc=$?
check "the school may no longer open it: exit 1, says withdrawn (rc=$rc)" bash -c "[ $rc -eq 1 ] && grep -q withdrawn <<<\"\$1\" && ! grep -q koerier <<<\"\$1\"" _ "$out"
out=$(sp zvh-mh show "$pol" --user coordinator.a 2>&1); rc=$?
check "the ZVH may no longer open it (rc=$rc)" bash -c "[ $rc -eq 1 ] && grep -q withdrawn <<<\"\$1\"" _ "$out"
check "the school keeps no tier of it, only the tombstone" python3 -c "
import json, sys
e = [x for x in json.loads(sys.argv[1]) if x['id'] == '$pol'][0]
assert e['tiers'] == ['existence'] and e['withdrawn_at'], e" "$(sp school-bonnefanten inbox --json)"
check "the school's inbox says so in words" bash -c "'$SEINPOST' --config '$(conf school-bonnefanten)' inbox | grep $pol | grep -q WITHDRAWN"
check "the school's case system gets a withdrawn item" e2e_wait_for 15 bash -c "grep -l '\"kind\": \"withdrawn\"' '$E2E_DIR'/out/*.json"
wf=$(grep -l '"kind": "withdrawn"' "$E2E_DIR"/out/*.json 2>/dev/null | head -1)
check "the withdrawn item names the signal and holds no content" bash -c "grep -q $pol '$wf' && ! grep -Eq 'koerier|wijkagent|$BSN' '$wf'"

# the escalation it carried no longer holds: one organisation remains
refst() { sp zvh-mh referrals --json | python3 -c "
import json, sys
for r in json.load(sys.stdin):
    if r['id'] == '$refid': print(r.get('status', ''))"; }
refclosed() { refst | grep -qw closed; }
check "the coordinator sees the referral closed" e2e_wait_for 20 refclosed
fbst() { sp jeugdzorg-mh outbox --json | python3 -c "
import json, sys
for e in json.load(sys.stdin):
    if e['id'] == '$yc': print(' '.join(f.get('status', '') for f in e.get('feedback', []) if f['event'] == 'referral'))"; }
fbclosed() { fbst | grep -qw closed; }
check "the other signaller learns the referral closed" e2e_wait_for 30 fbclosed

# the signaller's outbox and feedback
ob=$(sp politie-limburg outbox --json)
check "the police outbox says withdrawn, with the reason and the feedback event" python3 -c "
import json, sys
e = [x for x in json.loads(sys.argv[1]) if x['id'] == '$pol'][0]
assert e['state'] == 'withdrawn', e
assert e['reason'] == 'onterecht: verkeerde persoon', e
assert any(f['event'] == 'withdrawn' for f in e['feedback']), e" "$ob"
check "text outbox tells it in words" bash -c "'$SEINPOST' --config '$(conf politie-limburg)' outbox | grep -q 'withdrawn by us'"

# audited: who, when, why; each recipient's deletion; the referral closing
log=$(sp broker audit log --json)
check "the broker audits the withdrawal: who, when, why" python3 -c "
import json, sys
recs = json.loads(sys.argv[1])
w = [r for r in recs if r['event'] == 'withdrawn']
assert len(w) == 1, w
w = w[0]
assert w['actor'] == 'politie-limburg' and w['user'] == 'agent.b', w
assert w['reason'] == 'onterecht: verkeerde persoon' and w['signal'] == '$pol' and w['recorded_at'], w
got = sorted(r['recipient'] for r in recs if r['event'] == 'delivered' and r['signal'] == '$pol')
gone = sorted(r['recipient'] for r in recs if r['event'] == 'withdrawal-delivered' and r['signal'] == '$pol')
assert 'school-bonnefanten' in got and 'zvh-mh' in got, got
assert gone == got, (got, gone)
c = [r for r in recs if r['event'] == 'referral-status' and r['actor'] == 'broker']
assert len(c) == 1 and c[0]['reason'].startswith('closed: a signal was withdrawn'), c" "$log"
ws=$(sp fg-mh audit who-saw --bsn $BSN 2>&1)
check "who-saw shows the withdrawal and each deletion" bash -c "grep -Eq 'withdrawn +politie-limburg' <<<\"\$1\" && grep -Eq 'withdrawal-delivered +school-bonnefanten' <<<\"\$1\"" _ "$ws"
rep=$(sp fg-mh audit report --bsn $BSN --format html 2>&1)
check "the art. 15 report tells the person the concern was withdrawn (Dutch)" grep -q "dit signaal ingetrokken" <<<"$rep"
check "the reason never reaches the recipients" bash -c "! '$SEINPOST' --config '$(conf school-bonnefanten)' inbox --json | grep -q verkeerde"

# the --json outputs that now carry withdrawal keep to their schemas
PY=python3; $PY -c 'import jsonschema' 2>/dev/null || PY=/usr/bin/python3
for pair in "outbox politie-limburg" "inbox school-bonnefanten" "referrals zvh-mh"; do
	set -- $pair
	sp "$2" "$1" --json >"$E2E_DIR/$1.json"
	check "$1 --json with a withdrawal matches docs/json/$1.schema.json" \
		$PY "$ROOT/tests/tools/validate_json.py" "$ROOT/docs/json/$1.schema.json" "$E2E_DIR/$1.json"
done

# withdrawing twice: refused, nothing changes
n1=$(nw)
out=$(sp politie-limburg withdraw "$pol" --reason "nog een keer" 2>&1); rc=$?
check "withdrawing twice is refused (rc=$rc)" bash -c "[ $rc -eq 1 ] && grep -q 'already withdrawn' <<<\"\$1\"" _ "$out"
s=$("$FORGE" withdraw "$(conf politie-limburg)" "$pol")
check "the broker refuses it too ($s)" grep -q "^REFUSED -24 .*already withdrawn" <<<"$s"
check "and audits nothing more" test "$(nw)" -eq "$n1"

# never released afterwards: a new signal escalates the subject again; the
# withdrawn one is no part of it and the ZVH gets nothing of it back
sc=$(sp school-bonnefanten submit --category school-absence --weight 3 --bsn $BSN --summary "verzuim" --wait=15); rc=$?
check "a new school signal about the subject (rc=$rc)" test $rc -eq 0 -a ${#sc} -eq 32
check "a new referral reaches the ZVH" e2e_wait_for 20 in_inbox zvh-mh "$sc"
newref=$(sp zvh-mh referrals --json | python3 -c "
import json, sys
for r in json.load(sys.stdin):
    if r['id'] != '$refid' and r.get('status', '') != 'closed': print(json.dumps(r))")
check "the new referral lists the remaining signals, not the withdrawn one" bash -c "grep -q $sc <<<\"\$1\" && ! grep -q $pol <<<\"\$1\"" _ "$newref"
out=$(sp zvh-mh show "$pol" --user coordinator.a 2>&1); rc=$?
check "the ZVH still cannot open the withdrawn signal (rc=$rc)" test $rc -eq 1

# --- a referral that still holds without the withdrawn signal stays -----------
p2=$(sp politie-limburg submit --category drug-recruitment --weight 2 --bsn $BSN2 --summary "b" --wait=15)
y2=$(sp jeugdzorg-mh submit --category gia --weight 2 --bsn $BSN2 --summary "b" --wait=15)
s2=$(sp school-bonnefanten submit --category school-absence --weight 2 --bsn $BSN2 --summary "b" --wait=15)
check "three signals about a second subject" test ${#p2} -eq 32 -a ${#y2} -eq 32 -a ${#s2} -eq 32
both2() { in_inbox zvh-mh "$p2" && in_inbox zvh-mh "$y2"; } # the school's weight-2 absence stays hidden from the ZVH
check "the ZVH gets them" e2e_wait_for 20 both2
nc=$(sp broker audit log --json | grep -c '"referral-status"')
out=$(sp politie-limburg withdraw "$p2" --reason "dubbel gemeld"); rc=$?
check "withdrawn (rc=$rc)" bash -c "[ $rc -eq 0 ] && ! grep -q closed <<<\"\$1\"" _ "$out"
check "the ZVH's copy goes" e2e_wait_for 20 is_withdrawn zvh-mh "$p2"
check "the referral is not closed: no status record" test "$(sp broker audit log --json | grep -c '"referral-status"')" -eq "$nc"
check "the ZVH still opens the remaining signals" bash -c "'$SEINPOST' --config '$(conf zvh-mh)' show $y2 --user coordinator.a >/dev/null"

# --- an offline recipient gets the withdrawal when it comes back -------------
check "the school registers a second pupil" sp school-bonnefanten involve --bsn $BSN3 --ref LL-3
e2e_stop school-bonnefanten
p3=$(sp politie-limburg submit --category drug-recruitment --weight 2 --bsn $BSN3 --summary "offline koerier" --wait=15); rc=$?
check "a signal while the school is down (rc=$rc)" test $rc -eq 0
out=$(sp politie-limburg withdraw "$p3" --reason "onterecht"); rc=$?
check "withdrawn while the school is down (rc=$rc: $out)" test $rc -eq 0
e2e_start school-bonnefanten
check "back online, the school gets the withdrawal" e2e_wait_for 30 is_withdrawn school-bonnefanten "$p3"
out=$(sp school-bonnefanten show "$p3" --user mentor.a 2>&1); rc=$?
check "and cannot open it (rc=$rc)" bash -c "[ $rc -eq 1 ] && grep -q withdrawn <<<\"\$1\"" _ "$out"
check "its content never reached the school" bash -c "! grep -l 'offline koerier' '$E2E_DIR'/out/*.json 2>/dev/null | grep -q ."

# --- the broker down: no verdict, exit 3 ------------------------------------------
p4=$(sp politie-limburg submit --category drug-recruitment --weight 1 --bsn $BSN3 --summary "x" --wait=15)
e2e_stop broker
out=$(sp politie-limburg withdraw "$p4" --reason "x" 2>&1); rc=$?
check "with the broker down: no verdict, exit 3 (rc=$rc)" test $rc -eq 3

e2e_done
