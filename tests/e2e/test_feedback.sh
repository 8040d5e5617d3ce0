#!/usr/bin/env bash
# Feedback to the signaller (issue 16, "terugkoppeling"): after delivery,
# read and escalation the police outbox says what happened with its signal —
# by role, at the existence tier — and the case system gets a `feedback`
# hand-over. Nobody else hears of it: a curious partner asking the broker
# for feedback gets nothing about others' signals.
. "$(dirname "$0")/lib.sh"

e2e_setup --org police:politie-limburg --org school:school-bonnefanten --org youthcare:jeugdzorg-mh \
          --org zvh:zvh-mh
mkdir -p "$E2E_DIR/out" && chmod 0750 "$E2E_DIR/out"
printf '\n[hook]\nout = %s\n' "$E2E_DIR/out" >>"$NET/politie-limburg/seinpost.conf"
for p in broker politie-limburg school-bonnefanten jeugdzorg-mh zvh-mh; do e2e_start "$p" || exit 1; done
FORGE="$BUILD/tools/sp_forge"
BSN=111222333

check "the school registers its pupil" sp school-bonnefanten involve --bsn $BSN --ref LL-1
pol=$(sp politie-limburg submit --category drug-recruitment --weight 2 --bsn $BSN --summary "benaderd bij station" \
	--contact "wijkagent" --wait=15); rc=$?
check "police signal accepted" test $rc -eq 0 -a ${#pol} -eq 32
check "the school receives it" e2e_wait_for 15 bash -c "'$SEINPOST' --config '$NET/school-bonnefanten/seinpost.conf' inbox | grep -q ${pol:0:8}"
check "the school's mentor opens it" bash -c "'$SEINPOST' --config '$NET/school-bonnefanten/seinpost.conf' show $pol --user mentor.a >/dev/null"

fb() { sp politie-limburg outbox --json | python3 -c "
import json, sys
for e in json.load(sys.stdin):
    if e['id'] == '$pol':
        print(' '.join(f['event'] + ':' + f['role'] for f in e.get('feedback', [])))"; }
has() { fb | grep -q "$1"; }
check "police learn: delivered to a school" e2e_wait_for 20 has "delivered:school"
check "police learn: opened at a school" e2e_wait_for 20 has "opened:school"

# a second organisation signals: two organisations, weight 4 -> ZVH referral
yc=$(sp jeugdzorg-mh submit --category gia --weight 2 --bsn $BSN --summary "zorgen thuis" --wait=15); rc=$?
check "youth care signal accepted" test $rc -eq 0
check "the ZVH gets a referral" e2e_wait_for 20 bash -c "'$SEINPOST' --config '$NET/zvh-mh/seinpost.conf' referrals | grep -qi referral"
check "police learn: part of a referral to the ZVH" e2e_wait_for 20 has "escalated:zvh"
check "youth care learns the same of its own signal" e2e_wait_for 20 bash -c "'$SEINPOST' --config '$NET/jeugdzorg-mh/seinpost.conf' outbox --json | grep -q '\"escalated\"'"

out=$(sp politie-limburg outbox --json)
check "feedback names roles, not organisations or users" bash -c "! grep -Eq 'school-bonnefanten|zvh-mh|jeugdzorg-mh|mentor.a' <<<\"\$1\"" _ "$out"
check "feedback instants are RFC 3339 UTC" python3 -c "
import json, re, sys
for e in json.loads(sys.argv[1]):
    for f in e.get('feedback', []):
        assert re.fullmatch(r'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ', f['at']), f" "$out"
text=$(sp politie-limburg outbox)
check "text outbox tells it in words" grep -q "part of a referral to role zvh" <<<"$text"

# the case system got feedback hand-overs (spool-out), with no content
check "a feedback hand-over was written" e2e_wait_for 15 bash -c "grep -l '\"kind\": \"feedback\"' '$E2E_DIR'/out/*.json"
f=$(grep -l '"escalated"' "$E2E_DIR"/out/*.json 2>/dev/null | head -1)
check "a later hand-over carries the escalation" test -n "$f"
check "hand-overs hold no content of the signal" bash -c "! grep -Eq 'benaderd|wijkagent|$BSN' '$E2E_DIR'/out/*.json"

# nobody else hears of it: ask the broker as the school (a curious partner)
s=$("$FORGE" feedback "$NET/school-bonnefanten/seinpost.conf")
check "the broker answers the school" grep -q END <<<"$s"
check "the school is told nothing about the police's or youth care's signals" \
	bash -c "! grep -Eq '$pol|$yc' <<<\"\$1\"" _ "$s"
p=$("$FORGE" feedback "$NET/politie-limburg/seinpost.conf")
check "asked as the police, every item is about the police's own signal" \
	bash -c "grep -v END <<<\"\$1\" | grep -q . && ! grep -v END <<<\"\$1\" | grep -vq '^$pol '" _ "$p"

# a restart loses nothing and repeats nothing: the cursor survives
n1=$(fb | wc -w)
e2e_stop politie-limburg && e2e_start politie-limburg
sleep 5
check "after a restart the feedback is the same, not doubled ($n1)" test "$(fb | wc -w)" -eq "$n1"

e2e_done
