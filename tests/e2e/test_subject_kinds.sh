#!/usr/bin/env bash
# Subjects beyond persons (issue 16): rules and escalations name the subject
# kinds they apply to. A weight-3 weapon signal about a BAG address used to be
# escalated to the ZVH with the full tier (the youth rules applied to any
# subject); now only rules with `kind = location` see it, and undermining
# categories route locations and businesses to the municipality and police.
. "$(dirname "$0")/lib.sh"

e2e_setup --org police:politie-limburg --org school:school-bonnefanten --org youthcare:jeugdzorg-mh \
          --org zvh:zvh-mh --org municipality:gemeente-maastricht
for p in broker politie-limburg school-bonnefanten jeugdzorg-mh zvh-mh gemeente-maastricht; do
	e2e_start "$p" || exit 1
done

BAG=0935010000123456 KVK=12345678 BSN=111222333
inbox_has() { sp "$1" inbox | grep -q "$2"; }
inbox_empty() { sp "$1" inbox | grep -q empty; }

# --- the leak: a weapon signal about an address --------------------------------
loc=$(sp politie-limburg submit --category weapon --weight 3 --bag $BAG --summary "wapenopslag in pand" \
	--narrative "adres en bewoners" --wait=15 2>"$E2E_DIR/e1"); rc=$?
check "a weight-3 weapon signal about a BAG address is accepted (rc=$rc)" test $rc -eq 0 -a ${#loc} -eq 32
# a person signal afterwards: once it is delivered, the earlier one would have been too
per=$(sp politie-limburg submit --category weapon --weight 3 --bsn $BSN --summary "mes op zak" --wait=15); rc=$?
check "a weight-3 weapon signal about a person is accepted" test $rc -eq 0
check "the person signal escalates to the ZVH (control)" e2e_wait_for 15 inbox_has zvh-mh "${per:0:8}"
check "the ZVH never receives the location signal" bash -c "! '$SEINPOST' --config '$NET/zvh-mh/seinpost.conf' inbox | grep -q ${loc:0:8}"
check "no referral lists the location signal" bash -c "! '$SEINPOST' --config '$NET/zvh-mh/seinpost.conf' referrals --json | grep -q $loc"
check "the ZVH's referrals name one signal (the person's)" bash -c "'$SEINPOST' --config '$NET/zvh-mh/seinpost.conf' referrals --json | grep -q $per"
check "no school got the location signal" bash -c "! '$SEINPOST' --config '$NET/school-bonnefanten/seinpost.conf' inbox | grep -q ${loc:0:8}"
check "no youth care got the location signal" bash -c "! '$SEINPOST' --config '$NET/jeugdzorg-mh/seinpost.conf' inbox | grep -q ${loc:0:8}"
check "the broker's audit records no grant of the location signal to anyone" \
	bash -c "! '$SEINPOST' --config '$NET/broker/seinpost.conf' audit log --signal $loc | grep -Eq 'released|queued|delivered'"

# --- undermining: locations and businesses to the municipality and police -----
prem=$(sp politie-limburg submit --category drug-premises --weight 2 --bag $BAG --summary "hennepgeur en veel aanloop" \
	--contact "wijkagent 0612" --wait=15); rc=$?
check "a drug-premises signal about an address is accepted" test $rc -eq 0
check "the municipality receives it" e2e_wait_for 15 inbox_has gemeente-maastricht "${prem:0:8}"
m=$(sp gemeente-maastricht show "$prem" --user bibob.coordinator 2>&1)
check "the municipality sees the summary (LWO)" grep -q "hennepgeur" <<<"$m"
check "the ZVH gets nothing of it" bash -c "! '$SEINPOST' --config '$NET/zvh-mh/seinpost.conf' inbox | grep -q ${prem:0:8}"
check "youth care gets nothing of it" bash -c "! '$SEINPOST' --config '$NET/jeugdzorg-mh/seinpost.conf' inbox | grep -q ${prem:0:8}"

biz=$(sp gemeente-maastricht submit --category business-laundering --weight 2 --kvk $KVK --summary "contante omzet" \
	--wait=15); rc=$?
check "a laundering signal about a KvK business is accepted" test $rc -eq 0
check "the police receive it" e2e_wait_for 15 inbox_has politie-limburg "${biz:0:8}"
check "the school gets nothing of it" bash -c "! '$SEINPOST' --config '$NET/school-bonnefanten/seinpost.conf' inbox | grep -q ${biz:0:8}"

# a person under an undermining category has no rule: nobody gets it
out=$(sp politie-limburg submit --category drug-premises --weight 2 --bsn $BSN --summary x --wait=15); rc=$?
sleep 1
check "drug-premises about a person reaches nobody" bash -c "! '$SEINPOST' --config '$NET/gemeente-maastricht/seinpost.conf' inbox | grep -q ${out:0:8}"

# --- involvement with a business or address, and the policy text --------------
check "involve --kvk registers a business" sp gemeente-maastricht involve --kvk $KVK --ref dossier-77
check "involve --bag registers an address" sp gemeente-maastricht involve --bag $BAG
out=$(sp gemeente-maastricht involve --kvk 12ab 2>&1); rc=$?
check "a malformed KvK number is refused" bash -c "[ $rc -ne 0 ] && grep -q 'KvK' <<<'$out'"
pc=$("$SEINPOST" policy check "$ROOT/deploy/policy.example")
check "policy check shows the subject kinds of a category" grep -q "subject: location" <<<"$pc"
sed 's/^kind           = person$/kind           = none/' "$ROOT/deploy/policy.example" >"$E2E_DIR/none.policy"
out=$("$SEINPOST" policy check "$E2E_DIR/none.policy" 2>&1); rc=$?
check "an escalation for anonymous reports (kind none) is refused" bash -c "[ $rc -ne 0 ] && grep -q 'never escalates' <<<'$out'"
sed 's/^kind     = location, business$/kind     = location, planet/' "$ROOT/deploy/policy.example" >"$E2E_DIR/bad.policy"
out=$("$SEINPOST" policy check "$E2E_DIR/bad.policy" 2>&1); rc=$?
check "an unknown subject kind is refused with file:line" bash -c "[ $rc -ne 0 ] && grep -Eq ':[0-9]+: unknown kind' <<<'$out'"

e2e_done
