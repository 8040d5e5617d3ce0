#!/usr/bin/env bash
# Tables (issue 16, op- en afschalen): a referral sits at one of the policy's
# tables; the coordinator moves it up (the new table's members receive the
# grants sealed for them at submit, up to their tier, nothing else) and down
# (roles no longer at the table get nothing of what joins later; what was
# delivered stays). Every move is audited and told to the signallers. A
# location follows LWO -> MOT (the MOT needs concrete facts) and never
# reaches a youth table. Bad moves are refused and change nothing.
. "$(dirname "$0")/lib.sh"

e2e_setup --org police:politie-limburg --org school:school-bonnefanten --org youthcare:jeugdzorg-mh \
          --org zvh:zvh-mh --org municipality:gemeente-maastricht --org privacy-officer:fg-mh
for p in broker politie-limburg school-bonnefanten jeugdzorg-mh zvh-mh gemeente-maastricht fg-mh; do
	e2e_start "$p" || exit 1
done
BSN=111222333 BAG=0935010000123456

inbox_has() { sp "$1" inbox | grep -q "$2"; }
not_in_inbox() { ! sp "$1" inbox | grep -q "$2"; }
ref_field() { # org field -> of its first referral
	sp "$1" referrals --json | python3 -c "import json,sys; r=json.load(sys.stdin); print(r[0].get('$2', '') if r else '')"
}
moves() { sp broker audit log --json | python3 -c "import json,sys; print(sum(r['event']=='referral-moved' for r in json.load(sys.stdin)))"; }
released_to() { # org signal -> count of releases of that signal to org under a table
	sp broker audit log --json | python3 -c "
import json, sys
print(sum(r['event'] == 'released' and r.get('recipient') == '$1' and r.get('signal') == '$2'
          and 'table ' in r.get('reason', '') for r in json.load(sys.stdin)))"
}

# --- a young person: two organisations -> referral at the netwerkoverleg ------
p1=$(sp politie-limburg submit --category drug-recruitment --weight 2 --bsn $BSN --summary "benaderd als koerier" \
	--contact "wijkagent" --wait=15)
y1=$(sp jeugdzorg-mh submit --category drug-recruitment --weight 2 --bsn $BSN --summary "vertelt over klusjes" \
	--contact "jeugdzorg mh" --wait=15)
check "two person signals accepted" test ${#p1} -eq 32 -a ${#y1} -eq 32
check "the ZVH gets the referral" e2e_wait_for 20 bash -c "'$SEINPOST' --config '$NET/zvh-mh/seinpost.conf' referrals | grep -q '^referral '"
REF=$(ref_field zvh-mh id)
check "it sits at the entry table netwerkoverleg" test "$(ref_field zvh-mh table)" = netwerkoverleg
check "referrals shows the table's display name" bash -c "'$SEINPOST' --config '$NET/zvh-mh/seinpost.conf' referrals | grep -q 'table: netwerkoverleg (Netwerkoverleg risicojeugd)'"
check "the police hold nothing of youth care's signal yet (sealed, held)" not_in_inbox politie-limburg "${y1:0:8}"
check "the municipality holds nothing" not_in_inbox gemeente-maastricht "${p1:0:8}"

# --- bad moves: clear errors, nothing changes -----------------------------------
n0=$(moves)
out=$(sp politie-limburg referral move "$REF" jonge-aanwas --reason "wij willen meer" 2>&1); rc=$?
check "the police cannot move it (rc=$rc)" bash -c "[ $rc -eq 1 ] && grep -q 'only the coordinator' <<<\"\$1\"" _ "$out"
out=$(sp zvh-mh referral move "$REF" stamtafel --reason "bestaat niet" 2>&1); rc=$?
check "an unknown table is refused" bash -c "[ $rc -eq 1 ] && grep -q \"no table 'stamtafel'\" <<<\"\$1\"" _ "$out"
out=$(sp zvh-mh referral move 00000000000000000000000000000000 jonge-aanwas --reason "x" 2>&1); rc=$?
check "an unknown referral is refused" bash -c "[ $rc -eq 1 ] && grep -q 'no open referral' <<<\"\$1\"" _ "$out"
out=$(sp zvh-mh referral move "$REF" lwo --reason "verkeerde tafel" 2>&1); rc=$?
check "a person referral cannot go to the LWO (kind mismatch)" bash -c "[ $rc -eq 1 ] && grep -q 'kind mismatch' <<<\"\$1\"" _ "$out"
out=$(sp zvh-mh referral move "$REF" netwerkoverleg --reason "al daar" 2>&1); rc=$?
check "a move to where it is is refused" bash -c "[ $rc -eq 1 ] && grep -q 'already at table' <<<\"\$1\"" _ "$out"
out=$(sp zvh-mh referral move "$REF" jonge-aanwas --reason "BSN $BSN" 2>&1); rc=$?
check "a reason with a BSN is refused and not echoed" bash -c "[ $rc -eq 1 ] && ! grep -q $BSN <<<\"\$1\"" _ "$out"
out=$(sp zvh-mh referral move "$REF" jonge-aanwas 2>&1); rc=$?
check "no reason: usage error (exit 2)" test $rc -eq 2
check "no refused move was audited" test "$(moves)" -eq "$n0"
check "... and the table did not change" test "$(ref_field zvh-mh table)" = netwerkoverleg

# --- scale-up: the police join at the overleg jonge aanwas ------------------------
out=$(sp zvh-mh referral move "$REF" jonge-aanwas --reason "patroon van ronselen, samen bespreken" --user coordinator.a); rc=$?
check "the coordinator scales up to jonge-aanwas (rc=$rc: $out)" test $rc -eq 0
check "the police now receive youth care's signal" e2e_wait_for 20 inbox_has politie-limburg "${y1:0:8}"
s=$(sp politie-limburg show "$y1" --user wijkagent.b 2>&1)
check "... and can open its summary (sealed for them at submit)" grep -q "vertelt over klusjes" <<<"$s"
check "the release is audited with the table" test "$(released_to politie-limburg "$y1")" -ge 1
check "the school (no member) still holds nothing of it" not_in_inbox school-bonnefanten "${y1:0:8}"
check "the municipality (not at this table) holds nothing" not_in_inbox gemeente-maastricht "${y1:0:8}"
check "the ZVH's referrals show jonge-aanwas" e2e_wait_for 20 bash -c "[ \"\$('$SEINPOST' --config '$NET/zvh-mh/seinpost.conf' referrals --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0].get(\"table\",\"\"))')\" = jonge-aanwas ]"
sp broker audit log --json >"$E2E_DIR/log.json"
check "the move is audited: who, user, reason, from and to" python3 -c "
import json, sys
ms = [r for r in json.load(open(sys.argv[1])) if r['event'] == 'referral-moved']
assert len(ms) == 1, ms
m = ms[0]
assert m['actor'] == 'zvh-mh' and m['user'] == 'coordinator.a', m
assert m['reason'].startswith('up netwerkoverleg -> jonge-aanwas: patroon van ronselen'), m
assert m['rule'] == 'ijam-multi' and m['subject'] and m['recorded_at'], m" "$E2E_DIR/log.json"
fb() { sp "$1" outbox --json | python3 -c "
import json, sys
for e in json.load(sys.stdin):
    if e['id'] == '$2':
        print(' | '.join(f.get('status', '') for f in e.get('feedback', []) if f['event'] == 'table'))"; }
check "the police (signallers) learn the move" e2e_wait_for 20 bash -c "$(declare -f fb sp); SEINPOST='$SEINPOST' NET='$NET' fb politie-limburg $p1 | grep -q 'up to jonge-aanwas'"
check "the signaller does not learn the reason" bash -c "! '$SEINPOST' --config '$NET/politie-limburg/seinpost.conf' outbox --json | grep -q ronselen"

# --- scale-up to the PGA: only grants that were sealed ----------------------------
out=$(sp zvh-mh referral move "$REF" pga --reason "doorgroeier, persoonsgerichte aanpak"); rc=$?
check "scale-up to pga (rc=$rc)" test $rc -eq 0
check "the municipality receives the police signal at the PGA" e2e_wait_for 20 inbox_has gemeente-maastricht "${p1:0:8}"
s=$(sp gemeente-maastricht show "$p1" --user pga.regisseur 2>&1)
check "... with its summary" grep -q "benaderd als koerier" <<<"$s"
z=$(sp zvh-mh show "$p1" --user coordinator.a 2>&1)
check "the ZVH is member up to full, but no rule sealed full at weight 2: no identity" bash -c "grep -q 'benaderd' <<<\"\$1\" && ! grep -q $BSN <<<\"\$1\"" _ "$z"
y2=$(sp jeugdzorg-mh submit --category drug-recruitment --weight 2 --bsn $BSN --summary "nieuwe zorg" --wait=15)
check "a signal joining at the PGA reaches the municipality (control)" e2e_wait_for 20 inbox_has gemeente-maastricht "${y2:0:8}"

# --- scale-down: the municipality leaves; new content does not reach it ------------
out=$(sp zvh-mh referral move "$REF" jonge-aanwas --reason "PGA niet langer nodig" --user coordinator.a); rc=$?
check "scale-down to jonge-aanwas (rc=$rc)" test $rc -eq 0
check "the answer says what stops and that deliveries stay" bash -c "grep -q 'municipality out' <<<\"\$1\" && grep -q 'cannot be recalled' <<<\"\$1\"" _ "$out"
p2=$(sp politie-limburg submit --category drug-recruitment --weight 2 --bsn $BSN --summary "weer gezien bij station" --wait=15)
check "a later signal joins the referral at the ZVH" e2e_wait_for 20 inbox_has zvh-mh "${p2:0:8}"
sleep 2
check "a scale-down removes the municipality's access to new content" not_in_inbox gemeente-maastricht "${p2:0:8}"
check "... and nothing of it was released to the municipality" test "$(released_to gemeente-maastricht "$p2")" -eq 0
check "what was delivered before stays (cannot be recalled)" inbox_has gemeente-maastricht "${p1:0:8}"
sp broker audit log --json >"$E2E_DIR/log.json"
check "the audit shows the scale-down and who it stops" python3 -c "
import json, sys
ms = [r for r in json.load(open(sys.argv[1])) if r['event'] == 'referral-moved']
assert len(ms) == 3, ms
assert ms[-1]['reason'].startswith('down pga -> jonge-aanwas (stops: zvh summary, municipality out): PGA niet'), ms[-1]" "$E2E_DIR/log.json"

# status scaled-down: one table down; the police leave
out=$(sp zvh-mh referral status "$REF" scaled-down --reason "terug naar netwerkoverleg"); rc=$?
check "status scaled-down moves one table down (rc=$rc)" bash -c "[ $rc -eq 0 ] && grep -q 'moved down to table netwerkoverleg' <<<\"\$1\"" _ "$out"
y3=$(sp jeugdzorg-mh submit --category drug-recruitment --weight 2 --bsn $BSN --summary "rustiger" --wait=15)
check "the ZVH gets the next signal" e2e_wait_for 20 inbox_has zvh-mh "${y3:0:8}"
sleep 2
check "the police (no longer at the table) do not" not_in_inbox politie-limburg "${y3:0:8}"
check "the ZVH's referrals show netwerkoverleg" e2e_wait_for 20 bash -c "[ \"\$('$SEINPOST' --config '$NET/zvh-mh/seinpost.conf' referrals --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0].get(\"table\",\"\"))')\" = netwerkoverleg ]"

ws=$(sp fg-mh audit who-saw --bsn $BSN 2>&1)
check "who-saw lists the moves" bash -c "[ \$(grep -c 'referral-moved' <<<\"\$1\") -eq 4 ] && grep -q 'ijam-multi: down pga -> jonge-aanwas' <<<\"\$1\"" _ "$ws"
html=$(sp fg-mh audit report --bsn $BSN --format html 2>&1)
check "the subject access report tells the moves" bash -c "[ \$(grep -o 'naar een ander overleg verplaatst' <<<\"\$1\" | wc -l) -eq 4 ]" _ "$html"
check "... naming each move in the Dutch report" grep -q "(down pga -&gt; jonge-aanwas)" <<<"$html"

# --- a location: LWO -> MOT, never a youth table --------------------------------------
l1=$(sp politie-limburg submit --category drug-premises --weight 2 --bag $BAG --summary "hennepgeur" \
	--narrative "bewoner bekend van eerdere teelt" --wait=15)
l2=$(sp gemeente-maastricht submit --category drug-premises --weight 2 --bag $BAG --summary "klachten buren" \
	--narrative "eigenaar staat op naam van stroman" --wait=15)
check "two location signals accepted" test ${#l1} -eq 32 -a ${#l2} -eq 32
check "the municipality (coordinator) gets a referral at the LWO" e2e_wait_for 20 bash -c "'$SEINPOST' --config '$NET/gemeente-maastricht/seinpost.conf' referrals | grep -q 'table: lwo'"
LREF=$(sp gemeente-maastricht referrals --json | python3 -c "import json,sys; print([r for r in json.load(sys.stdin) if r.get('table') == 'lwo'][0]['id'])")
s=$(sp politie-limburg show "$l2" --user wijkagent.b 2>&1)
check "at the LWO the police see the summary, not the closed narrative" bash -c "grep -q 'klachten buren' <<<\"\$1\" && ! grep -q stroman <<<\"\$1\"" _ "$s"
out=$(sp gemeente-maastricht referral move "$LREF" netwerkoverleg --reason "verkeerde tafel" 2>&1); rc=$?
check "a location never goes to a youth table (kind mismatch)" bash -c "[ $rc -eq 1 ] && grep -q 'kind mismatch' <<<\"\$1\"" _ "$out"
out=$(sp gemeente-maastricht referral move "$LREF" mot --reason "lijkt ernstig" 2>&1); rc=$?
check "the MOT needs concrete facts as the reason" bash -c "[ $rc -eq 1 ] && grep -q 'concrete facts' <<<\"\$1\"" _ "$out"
out=$(sp zvh-mh referral move "$LREF" mot --reason "facts: niet onze zaak" 2>&1); rc=$?
check "the ZVH is not this referral's coordinator" bash -c "[ $rc -eq 1 ] && grep -q 'role municipality' <<<\"\$1\"" _ "$out"
out=$(sp gemeente-maastricht referral move "$LREF" mot --reason "facts: stroomdiefstal vastgesteld door netbeheerder" --user bibob.adviseur); rc=$?
check "with concrete facts the LWO scales up to the MOT (rc=$rc)" test $rc -eq 0
check "the police now open the closed narrative" e2e_wait_for 20 bash -c "'$SEINPOST' --config '$NET/politie-limburg/seinpost.conf' show $l2 --user wijkagent.b | grep -q stroman"
check "the municipality opens the police's" e2e_wait_for 20 bash -c "'$SEINPOST' --config '$NET/gemeente-maastricht/seinpost.conf' show $l1 --user bibob.adviseur | grep -q 'eerdere teelt'"
for o in zvh-mh jeugdzorg-mh school-bonnefanten; do
	check "$o (youth tables) never holds the location signals" bash -c "! '$SEINPOST' --config '$NET/$o/seinpost.conf' inbox | grep -Eq '${l1:0:8}|${l2:0:8}'"
done
sp broker audit log --json >"$E2E_DIR/log.json"
check "the broker released the location signals to nobody of a youth role" python3 -c "
import json, sys
bad = [r for r in json.load(open(sys.argv[1])) if r['event'] in ('released', 'delivered') and r.get('signal') in ('$l1', '$l2')
       and r.get('recipient') in ('zvh-mh', 'jeugdzorg-mh', 'school-bonnefanten')]
assert not bad, bad" "$E2E_DIR/log.json"
check "the MOT move records the facts" python3 -c "
import json, sys
ms = [r for r in json.load(open(sys.argv[1])) if r['event'] == 'referral-moved' and r['actor'] == 'gemeente-maastricht']
assert len(ms) == 1 and ms[0]['reason'] == 'up lwo -> mot: facts: stroomdiefstal vastgesteld door netbeheerder', ms
assert ms[0]['user'] == 'bibob.adviseur' and ms[0]['rule'] == 'undermining-lwo', ms" "$E2E_DIR/log.json"

# --- the policy checker: a table can only release what was sealed ----------------
sed 's/^members = zvh:summary, youthcare:contact$/members = zvh:summary, youthcare:contact, school:summary/' \
	"$ROOT/deploy/policy.example" >"$E2E_DIR/unsealed.policy"
out=$("$SEINPOST" policy check "$E2E_DIR/unsealed.policy" 2>&1); rc=$?
check "policy check refuses a table tier no rule seals (rc=$rc)" bash -c "[ $rc -eq 1 ] && grep -q 'table netwerkoverleg.*school:summary.*no rule seals summary for role school on escalation' <<<\"\$1\"" _ "$out"
sed 's/^members = zvh:full, youthcare:summary, police:summary, municipality:summary$/&\nnext    = netwerkoverleg/' \
	"$ROOT/deploy/policy.example" >"$E2E_DIR/loop.policy"
out=$("$SEINPOST" policy check "$E2E_DIR/loop.policy" 2>&1); rc=$?
check "policy check refuses a ladder that loops" bash -c "[ $rc -eq 1 ] && grep -q 'loops back' <<<\"\$1\"" _ "$out"
sed 's/^kind    = person$/kind    = person, location/' "$ROOT/deploy/policy.example" >"$E2E_DIR/youthloc.policy"
out=$("$SEINPOST" policy check "$E2E_DIR/youthloc.policy" 2>&1); rc=$?
check "policy check refuses a youth table for locations (nothing sealed for it)" bash -c "[ $rc -eq 1 ] && grep -q 'kind location' <<<\"\$1\"" _ "$out"
out=$("$SEINPOST" policy check "$ROOT/deploy/policy.example"); rc=$?
check "the example policy passes and lists the ladders" bash -c "[ $rc -eq 0 ] && grep -q 'mot (line [0-9]*): Multidisciplinair overleg (MOT)' <<<\"\$1\"" _ "$out"

e2e_done
