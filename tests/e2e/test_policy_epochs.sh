#!/usr/bin/env bash
# Pseudonym epoch rotation keeps involvements linked; a node refuses to send
# under a policy version the broker does not hold.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_policy.sh"

e2e_setup --org police:politie-limburg --org school:school-bonnefanten --org youthcare:jeugdzorg-mh --org zvh:zvh-mh
PARTNERS=(politie-limburg school-bonnefanten jeugdzorg-mh zvh-mh)
for p in broker "${PARTNERS[@]}"; do e2e_start "$p" || exit 1; done
BSN=111222333

sp school-bonnefanten involve --bsn $BSN --ref "pupil 7" >/dev/null
id1=$(sp politie-limburg submit --category gia --weight 2 --bsn $BSN --summary "call-out" --wait=10 2>/dev/null)
check "epoch 1: Handle With Care reaches the involved school" e2e_wait_for 10 inbox_has school-bonnefanten "$id1"

# --- rotate the pseudonymisation key: new epoch, old one kept --------------
for p in "${PARTNERS[@]}"; do e2e_stop "$p"; done
out=$("$SEINPOST" pseudo rotate "$NET/politie-limburg/pseudo.key")
check "pseudo rotate adds epoch 2 ($out)" grep -q "epoch 2 added" <<<"$out"
check "the rotated key file stays 0600" test "$(stat -c %a "$NET/politie-limburg/pseudo.key")" = 600
for p in school-bonnefanten jeugdzorg-mh zvh-mh; do
	cp -p "$NET/politie-limburg/pseudo.key" "$NET/$p/pseudo.key"
done
check "the broker never receives the key" test ! -e "$NET/broker/pseudo.key"
check "a key file with loose permissions is refused" bash -c "cp '$NET/politie-limburg/pseudo.key' '$E2E_DIR/loose.key' && chmod 644 '$E2E_DIR/loose.key' && ! '$SEINPOST' pseudo rotate '$E2E_DIR/loose.key' 2>/dev/null"
for p in "${PARTNERS[@]}"; do e2e_start "$p" || exit 1; done
sp school-bonnefanten involve --bsn $BSN --ref "pupil 7" >/dev/null   # re-link under all epochs

id2=$(sp politie-limburg submit --category gia --weight 2 --bsn $BSN --summary "second call-out" --wait=10 2>/dev/null)
check "epoch 2 signal accepted" test ${#id2} -eq 32
check "epoch 2: the involved school still gets Handle With Care" e2e_wait_for 10 inbox_has school-bonnefanten "$id2"
check "the school still shows its own pupil reference" bash -c "'$SEINPOST' --config '$NET/school-bonnefanten/seinpost.conf' inbox | grep '$id2' | grep -q 'pupil 7'"
p1=$(sp school-bonnefanten inbox --json | python3 -c "import json,sys; print({e['id']:e['subject'] for e in json.load(sys.stdin)}['$id1'])")
p2=$(sp school-bonnefanten inbox --json | python3 -c "import json,sys; print({e['id']:e['subject'] for e in json.load(sys.stdin)}['$id2'])")
# Issue 13: the school sees its own pseudonym P_R, never the network one. The
# re-registration under both epochs links the two network pseudonyms to one
# subject handle at the broker, so the school knows the child by one P_R.
check "the school knows the child by one pseudonym of its own across epochs ($p1 = $p2)" test -n "$p1" -a "$p1" = "$p2"

# --- policy version -------------------------------------------------------------
e2e_stop politie-limburg
echo "; local edit nobody signed off" >>"$NET/politie-limburg/policy.ini"
e2e_start politie-limburg || exit 1
sleep 1
out=$(sp politie-limburg submit --category gia --weight 2 --bsn $BSN --summary "x" 2>&1); rc=$?
check "a node under another policy version refuses to submit (rc=$rc)" test $rc -ne 0
check "…with a clear message about the policy version ($out)" grep -qi "policy" <<<"$out"
check "the BSN is not in the message" bash -c '! grep -q "$1" <<<"$2"' _ "$BSN" "$out"

e2e_stop_all
e2e_done
