#!/usr/bin/env bash
# The first end-to-end signal (foundation issue): police → broker → school and
# youth care, each seeing only its granted tiers; the broker refuses strangers,
# impersonation, over-granting and garbage, audits every step, and never holds
# plaintext.
. "$(dirname "$0")/lib.sh"

e2e_setup --org police:politie-limburg --org school:school-bonnefanten \
          --org youthcare:jeugdzorg-mh --org zvh:zvh-mh --org municipality:gemeente-maastricht \
          --org school:school-sintmaartens --org privacy-officer:fg-mh
FORGE="$BUILD/tools/sp_forge"
for p in broker politie-limburg school-bonnefanten jeugdzorg-mh zvh-mh gemeente-maastricht school-sintmaartens; do
	e2e_start "$p" || exit 1
done

BSN=111222333 NAME="Jan Testpersoon" SUMMARY="Benaderd voor drugskoerierswerk bij station" CONTACT="wijkagent T. Test 0612345678"

# --- the real flow ------------------------------------------------------------
# The school registers the pupil as its own first (school tiers are if-involved).
check "school registers its involvement with the pupil" sp school-bonnefanten involve --bsn $BSN --ref LL-2231
id=$(sp politie-limburg submit --category drug-recruitment --weight 2 --bsn $BSN \
	--name "$NAME" --birthdate 2009-03-14 --summary "$SUMMARY" --contact "$CONTACT" --wait=10 2>"$E2E_DIR/submit.err")
rc=$?
check "police submit returns an id and the broker accepts (rc=$rc)" test $rc -eq 0 -a ${#id} -eq 32
check "police outbox shows accepted" bash -c "'$SEINPOST' --config '$NET/politie-limburg/seinpost.conf' outbox | grep -q '$id.*accepted'"

check "school receives the signal" e2e_wait_for 10 bash -c "'$SEINPOST' --config '$NET/school-bonnefanten/seinpost.conf' inbox | grep -q $id"
check "youth care receives the signal" e2e_wait_for 10 bash -c "'$SEINPOST' --config '$NET/jeugdzorg-mh/seinpost.conf' inbox | grep -q $id"

school=$(sp school-bonnefanten show "$id" --user mentor.a 2>&1)
check "school sees the contact tier" grep -q "$CONTACT" <<<"$school"
check "involved school sees the summary (if-involved)" grep -q "$SUMMARY" <<<"$school"
check "school does not see the BSN or name" bash -c "! grep -Eq '$BSN|$NAME' <<<\"\$1\"" _ "$school"
check "school's show names the rule that allowed it" grep -q "drug-w2-school" <<<"$school"
check "school's show gives its own pupil reference" grep -q "LL-2231" <<<"$school"
check "school's inbox gives its own pupil reference" bash -c "'$SEINPOST' --config '$NET/school-bonnefanten/seinpost.conf' inbox | grep -q 'ref LL-2231'"
check "the pupil reference never reaches the broker" bash -c "! grep -rqaF LL-2231 '$NET/broker' '$E2E_DIR/broker.log'"

yc=$(sp jeugdzorg-mh show "$id" --user hulpverlener.b --json 2>&1)
check "youth care sees the summary" grep -q "$SUMMARY" <<<"$yc"
check "youth care sees the contact" grep -q "$CONTACT" <<<"$yc"
check "youth care does not see the BSN (full tier)" bash -c "! grep -q '$BSN' <<<\"\$1\"" _ "$yc"

sleep 1
check "zvh got nothing (summary only on escalation)" bash -c "'$SEINPOST' --config '$NET/zvh-mh/seinpost.conf' inbox | grep -q 'empty'"
check "a school not involved with the pupil got nothing" bash -c "'$SEINPOST' --config '$NET/school-sintmaartens/seinpost.conf' inbox | grep -q 'empty'"
check "municipality got nothing (no rule for weight 2)" bash -c "'$SEINPOST' --config '$NET/gemeente-maastricht/seinpost.conf' inbox | grep -q 'empty'"
# The municipality now holds a grant sealed for escalation (the tables'
# rules); the privacy officer is sealed nothing, ever.
nogrant=$("$FORGE" open-as "$NET/fg-mh/seinpost.conf" "$NET/politie-limburg/seinpost.conf" "$id")
check "an org without a grant cannot decrypt even the full signal ($nogrant)" test "$nogrant" = "rc=0 tiers=none"
schoolfull=$("$FORGE" open-as "$NET/school-bonnefanten/seinpost.conf" "$NET/politie-limburg/seinpost.conf" "$id")
check "the school's keys open no full tier even from the sender's copy ($schoolfull)" bash -c "! grep -q full <<<'$schoolfull'"

check "show on an unknown id fails" bash -c "! '$SEINPOST' --config '$NET/school-bonnefanten/seinpost.conf' show 00000000000000000000000000000000 --user x 2>/dev/null"
check "show requires --user" bash -c "! '$SEINPOST' --config '$NET/school-bonnefanten/seinpost.conf' show $id 2>/dev/null"

# --- bad input at the node ----------------------------------------------------
out=$(sp politie-limburg submit --category drug-recruitment --weight 2 --bsn 123456789 --summary x 2>&1); rc=$?
check "invalid BSN refused with a clear message" bash -c "[ $rc -ne 0 ] && grep -q 'invalid BSN' <<<'$out'"
check "the refused BSN is not echoed back" bash -c "! grep -q 123456789 <<<'$out'"
out=$(sp politie-limburg submit --category knitting --bsn $BSN 2>&1); rc=$?
check "unknown category refused" bash -c "[ $rc -ne 0 ] && grep -q 'unknown category' <<<'$out'"
out=$(sp politie-limburg submit --category gia --weight 4 --bsn $BSN 2>&1); rc=$?
check "weight 4 refused" bash -c "[ $rc -ne 0 ] && grep -q 'weight' <<<'$out'"
out=$(sp politie-limburg submit --category gia --bsn $BSN --birthdate 2009-02-30 2>&1); rc=$?
check "impossible birth date refused" bash -c "[ $rc -ne 0 ] && grep -qi 'date' <<<'$out'"
long=$(head -c 5000 /dev/zero | tr '\0' a)
out=$(sp politie-limburg submit --category gia --bsn $BSN --summary "$long" 2>&1); rc=$?
check "oversized summary refused" bash -c "[ $rc -ne 0 ]"

# --- submit --json: one object for programs, also when refused ---------------
out=$(sp politie-limburg submit --json --category gia --weight 1 --bsn $BSN --summary "json route" --wait=10 2>/dev/null); rc=$?
check "submit --json --wait answers accepted with an id (rc=$rc)" python3 -c '
import json,sys; o=json.loads(sys.argv[1]); sys.exit(not (o["state"]=="accepted" and len(o["id"])==32))' "$out"
out=$(sp politie-limburg submit --json --category gia --bsn 123456789 2>/dev/null); rc=$?
check "submit --json of an invalid BSN: state error, reason, no BSN, exit 1" python3 -c '
import json,sys; o=json.loads(sys.argv[1]); sys.exit(not (sys.argv[2]=="1" and o["state"]=="error" and "invalid BSN" in o["reason"] and "id" not in o and "123456789" not in sys.argv[1]))' "$out" "$rc"

# --- bad command-line input -------------------------------------------------
out=$("$SEINPOST" net init "$E2E_DIR/bad1" --org wizard:x 2>&1); rc=$?
check "net init refuses an unknown role ($out)" bash -c "[ $rc -ne 0 ] && grep -q \"role 'wizard' is not known\" <<<\"\$1\"" _ "$out"
out=$("$SEINPOST" net init "$E2E_DIR/bad2" --org school:Bad_Id 2>&1); rc=$?
check "net init refuses a malformed organisation id" test $rc -ne 0
out=$("$SEINPOST" net init "$E2E_DIR/bad3" --org nocolon 2>&1); rc=$?
check "net init refuses --org without ROLE:ID (rc=$rc)" test $rc -eq 2
out=$("$SEINPOST" net init "$NET" 2>&1); rc=$?
check "net init refuses to overwrite an existing network" bash -c "[ $rc -ne 0 ] && grep -q 'already holds a network' <<<\"\$1\"" _ "$out"
check "submit without --config is a usage error" bash -c "'$SEINPOST' submit --category gia --bsn $BSN >/dev/null 2>&1; [ \$? -eq 2 ]"
check "show with a malformed id is refused" bash -c "! '$SEINPOST' --config '$NET/school-bonnefanten/seinpost.conf' show not-hex --user x 2>/dev/null"

# --- misbehaving peers at the broker -----------------------------------------
v=$("$FORGE" overgrant "$NET/politie-limburg/seinpost.conf" full school-bonnefanten)
check "a signal granting beyond policy is rejected ($v)" grep -q "^REJECTED -11 .*exceeds the policy" <<<"$v"
v=$("$FORGE" impersonate "$NET/politie-limburg/seinpost.conf" school-bonnefanten)
check "a payload claiming another sender is rejected ($v)" grep -q "^REJECTED -23" <<<"$v"
v=$("$FORGE" stranger "$NET/broker/seinpost.conf")
check "a CURVE key not on the roster gets no answer ($v)" test "$v" = NO-ANSWER
check "the broker logged the refused handshake" grep -qi "refus" "$E2E_DIR/broker.log"
v=$("$FORGE" garbage "$NET/politie-limburg/seinpost.conf")
check "a malformed frame is not acknowledged ($v)" test "$v" = NO-ANSWER
check "the broker is still alive" kill -0 "$(e2e_pid broker)"

# --- a read receipt for a signal never delivered is recorded, and flagged --------
v=$("$FORGE" false-read "$NET/gemeente-maastricht/seinpost.conf" "$id" snoop.user)
check "a node can queue a read receipt ($v)" test "$v" = QUEUED
check "the broker records the read, flagged as without delivery" e2e_wait_for 15 bash -c "'$SEINPOST' --config '$NET/broker/seinpost.conf' audit log --local | grep -q 'read .*gemeente-maastricht .*user=snoop.user.*no delivery of this signal'"
check "a genuine read carries no such flag" bash -c "'$SEINPOST' --config '$NET/broker/seinpost.conf' audit log --local | grep 'read .*school-bonnefanten' | grep -vq 'no delivery'"

# --- audit --------------------------------------------------------------------
log=$("$SEINPOST" --config "$NET/broker/seinpost.conf" audit log)
check "audit: submitted recorded" grep -q "submitted .*politie-limburg .*signal=$id" <<<"$log"
check "audit: delivered to school with its tiers and rule" grep -q "delivered .*-> school-bonnefanten .*signal=$id.*tiers=existence,contact,summary rule=drug-w2-school" <<<"$log"
check "audit: if-involved release to the school with its rule" grep -q "released .*-> school-bonnefanten .*signal=$id.*rule=drug-w2-school" <<<"$log"
check "audit: delivered to youth care" grep -q "delivered .*-> jeugdzorg-mh .*signal=$id" <<<"$log"
check "audit: over-grant rejected with reason" grep -q "rejected .*exceeds the policy" <<<"$log"
check "audit: impersonation rejected" grep -q "rejected .*authenticated as" <<<"$log"
check "audit: policy-loaded recorded" grep -q "policy-loaded" <<<"$log"
check "broker audit chain verifies" "$SEINPOST" --config "$NET/broker/seinpost.conf" audit verify
check "school local audit records the read by its user" bash -c "'$SEINPOST' --config '$NET/school-bonnefanten/seinpost.conf' audit log | grep -q 'read .*user=mentor.a'"
check "node audit chains verify" bash -c "for o in politie-limburg school-bonnefanten jeugdzorg-mh; do '$SEINPOST' --config '$NET/'\$o/seinpost.conf audit verify || exit 1; done"

# --- privacy: nothing personal at the broker --------------------------------
e2e_stop_all
for s in "$BSN" "$NAME" "$SUMMARY" "$CONTACT" "2009-03-14" "Testpersoon"; do
	check "broker state and log hold no plaintext '${s:0:12}…'" bash -c "! grep -rqaF -- '$s' '$NET/broker' '$E2E_DIR/broker.log'"
done
check "no node log holds the BSN" bash -c "! grep -qaF -- '$BSN' '$E2E_DIR'/*.log"
check "no box or pseudonymisation key in the broker's folder" bash -c "[ ! -e '$NET/broker/keys/box.key' ] && [ ! -e '$NET/broker/pseudo.key' ]"
check "secret key files are 0600" bash -c "[ \"\$(stat -c %a '$NET/politie-limburg/keys/sign.key')\" = 600 ] && [ \"\$(stat -c %a '$NET/politie-limburg/pseudo.key')\" = 600 ]"

e2e_done
