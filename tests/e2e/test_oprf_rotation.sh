#!/usr/bin/env bash
# e2e: rotation of the pseudonymisation key by translation (issue 14), real
# processes, 2-of-3: a signal and an involvement before the rotation, the
# ceremony (`net rotate`), the broker's one-pass translation (`pseudonym
# translate`), then a signal after it: the escalation fires across the
# rotation with one referral, the involved school still gets the police's
# signal, every pair of instances gives the same new pseudonym, the nodes
# take the new key without an alarm, who-saw after the rotation lists the
# records from before it, and a roster whose group key was swapped without
# a valid rotation proof is an alarm.
. "$(dirname "$0")/lib.sh"

e2e_setup --pseudonymisers 3 --threshold 2
PORTS=($(e2e_free_port) $(e2e_free_port) $(e2e_free_port))
for i in 1 2 3; do
	sed -i "s|^listen = tcp://127.0.0.1:.*|listen = tcp://127.0.0.1:${PORTS[$((i - 1))]}|" "$NET/pseudo-mh-$i/seinpost.conf"
done
for n in politie-limburg school-bonnefanten jeugdzorg-mh zvh-mh fg-mh; do
	sed -i "s|^endpoint = tcp://127.0.0.1:[0-9]* tcp.*|endpoint = tcp://127.0.0.1:${PORTS[0]} tcp://127.0.0.1:${PORTS[1]} tcp://127.0.0.1:${PORTS[2]}|" \
		"$NET/$n/seinpost.conf"
	echo "timeout_ms = 1500" >>"$NET/$n/seinpost.conf"
done
svc_start() { # i
	local log="$E2E_DIR/pseudo-mh-$1.log" before
	before=$(grep -c "listening on" "$log" 2>/dev/null)
	"$SEINPOSTD" --config "$NET/pseudo-mh-$1/seinpost.conf" --verbose >>"$log" 2>&1 &
	eval "PID_pseudo_mh_$1=$!"
	E2E_PIDS+=($!)
	for _ in $(seq 1 200); do
		[ "$(grep -c "listening on" "$log" 2>/dev/null)" -gt "${before:-0}" ] && return 0
		sleep 0.05
	done
	echo "pseudo-mh-$1 did not start"; cat "$log"; return 1
}
inbox_has() { "$SEINPOST" --config "$NET/$1/seinpost.conf" inbox | grep -q "$2"; }
BSN=111222333
for i in 1 2 3; do svc_start $i || exit 1; done
for p in broker politie-limburg school-bonnefanten jeugdzorg-mh zvh-mh fg-mh; do e2e_start "$p" || exit 1; done

P0=$(sp fg-mh pseudonym $BSN)
check "before: a pseudonym" test "${#P0}" -eq 64
check "the school registers its pupil" sp school-bonnefanten involve --bsn $BSN --ref LL-7
d1=$(sp politie-limburg submit --category drug-recruitment --weight 2 --bsn $BSN --summary "voor de rotatie" \
	--contact "Wijkagent" --wait=10 2>/dev/null)
check "signal 1 (police, weight 2) before the rotation accepted" test ${#d1} -eq 32
check "... reaches the involved school" e2e_wait_for 15 inbox_has school-bonnefanten "$d1"
check "no referral yet" bash -c "'$SEINPOST' --config '$NET/zvh-mh/seinpost.conf' referrals | grep -q 'no referrals'"

# A signal in flight across the rotation: made under the old key while the
# broker is down, it waits in the police's outbox and is admitted after the
# translation (the broker translates its pseudonym on admission).
e2e_stop broker
dfl=$(sp politie-limburg submit --category drug-recruitment --weight 2 --bsn $BSN --summary "onderweg" \
	--contact "Wijkagent" 2>/dev/null)
check "a signal in flight: made under the old key, waiting in the outbox" test ${#dfl} -eq 32

cp "$NET/fg-mh/roster.bin" "$E2E_DIR/old-roster.bin" # a node that will miss the rotated roster

# --- the rotation ------------------------------------------------------------
for i in 1 2 3; do e2e_stop "pseudo-mh-$i"; done
"$SEINPOST" net rotate "$NET" >"$E2E_DIR/rotate.out" 2>&1
check "net rotate: the ceremony ran" test $? -eq 0
XF="$NET/broker/translation-1.bin"
check "... the broker's translation file is 0600" test "$(stat -c %a "$XF")" = 600
e2e_stop broker
check "pseudonym translate: refused while ... (the broker is stopped now: runs)" \
	"$SEINPOST" --config "$NET/broker/seinpost.conf" pseudonym translate "$XF"
"$SEINPOST" --config "$NET/broker/seinpost.conf" pseudonym translate "$XF" >"$E2E_DIR/again.out" 2>&1
check "... a second run of the same epoch is refused" test $? -eq 1
check "... saying why" grep -q "this broker is at epoch 1" "$E2E_DIR/again.out"
check "translate.key is 0600" test "$(stat -c %a "$NET/broker/keys/translate.key")" = 600
e2e_start broker || exit 1
check "the broker starts at key epoch 1" e2e_wait_for 10 grep -q "pseudonymisation key epoch 1" "$E2E_DIR/broker.log"
for i in 1 2 3; do svc_start $i || exit 1; done
for n in politie-limburg school-bonnefanten jeugdzorg-mh zvh-mh fg-mh; do
	check "$n takes the rotated key (proven from its pin)" \
		e2e_wait_for 20 grep -q "pseudonymisation key rotated (epoch 0 -> 1)" "$E2E_DIR/$n.log"
done

P1=$(sp fg-mh pseudonym $BSN)
check "after: a pseudonym, not the old one" test "${#P1}" -eq 64 -a "$P1" != "$P0"
[ ${#P1} -eq 64 ] || P1=missing
for down in 1 2 3; do
	e2e_stop "pseudo-mh-$down"
	got=$(sp jeugdzorg-mh pseudonym $BSN 2>>"$E2E_DIR/pairs.err")
	check "instance $down down: the other pair gives the same new pseudonym" test "$got" = "$P1"
	svc_start $down || exit 1
done

# A node that has not got the rotated roster yet meets instances on the new
# key: it waits (exit 3), and it is no alarm.
mkdir -p "$E2E_DIR/stale-state"
sed -e "s|^keys = .*|keys = $NET/fg-mh/keys|" -e "s|^state = .*|state = $E2E_DIR/stale-state|" \
	-e "s|^roster = .*|roster = $E2E_DIR/old-roster.bin|" -e "s|^policy = .*|policy = $NET/fg-mh/policy.ini|" \
	"$NET/fg-mh/seinpost.conf" >"$E2E_DIR/stale.conf"
out=$("$SEINPOST" --config "$E2E_DIR/stale.conf" pseudonym $BSN 2>"$E2E_DIR/stale.err"); rc=$?
check "a node still on the old roster: no pseudonym, it waits (exit 3, rc=$rc)" test $rc -eq 3 -a -z "$out"
check "... saying a rotation is under way, not an alarm" bash -c "grep -q 'waiting for the rotated roster' '$E2E_DIR/stale.err' && ! grep -q ALARM '$E2E_DIR/stale.err'"

# --- across the rotation -------------------------------------------------------
d2=$(sp jeugdzorg-mh submit --category drug-recruitment --weight 2 --bsn $BSN --summary "na de rotatie" \
	--contact "Jeugdzorg MH" --wait=10 2>/dev/null)
check "signal 2 (youth care, weight 2) after the rotation accepted" test ${#d2} -eq 32
check "escalation across the rotation: a referral at the ZVH" \
	e2e_wait_for 15 bash -c "'$SEINPOST' --config '$NET/zvh-mh/seinpost.conf' referrals | grep -q '^referral '"
refs=$(sp zvh-mh referrals)
check "... exactly one referral" test "$(grep -c '^referral ' <<<"$refs")" = 1
check "... listing the signal from before the rotation" grep -q "$d1" <<<"$refs"
check "... and the one after it" grep -q "$d2" <<<"$refs"
check "... and the one in flight, translated on admission" grep -q "${dfl:-none}" <<<"$refs"
d3=$(sp politie-limburg submit --category drug-recruitment --weight 1 --bsn $BSN --summary "derde" \
	--contact "Wijkagent" --wait=10 2>/dev/null)
check "the school's involvement carried over: the police's new signal reaches it" \
	e2e_wait_for 15 inbox_has school-bonnefanten "${d3:-none}"
# Per-recipient pseudonyms hash the broker's subject handle, which the
# translation re-keyed: the school knows the child by the same pseudonym,
# so its own reference shows without registering again.
check "... with the school's own reference, as before the rotation" bash -c \
	"'$SEINPOST' --config '$NET/school-bonnefanten/seinpost.conf' inbox | grep '${d3:-none}' | grep -q 'ref LL-7'"
subj_of() { sp school-bonnefanten inbox --json | python3 -c 'import json,sys; print([e["subject"] for e in json.load(sys.stdin) if e["id"]==sys.argv[1]][0])' "$1"; }
check "... and under the same pseudonym of its own" test "$(subj_of "$d1")" = "$(subj_of "${d3:-none}")"

# --- a second rotation with the referral open: it is re-keyed, and joined ----
for i in 1 2 3; do e2e_stop "pseudo-mh-$i"; done
check "net rotate: a second epoch" "$SEINPOST" net rotate "$NET"
e2e_stop broker
check "pseudonym translate: epoch 2" "$SEINPOST" --config "$NET/broker/seinpost.conf" pseudonym translate "$NET/broker/translation-2.bin"
e2e_start broker || exit 1
check "the broker starts at key epoch 2" e2e_wait_for 10 grep -q "pseudonymisation key epoch 2" "$E2E_DIR/broker.log"
for i in 1 2 3; do svc_start $i || exit 1; done
for n in politie-limburg school-bonnefanten jeugdzorg-mh zvh-mh fg-mh; do
	check "$n takes epoch 2" e2e_wait_for 20 grep -q "pseudonymisation key rotated (epoch 1 -> 2)" "$E2E_DIR/$n.log"
done
d4=$(sp jeugdzorg-mh submit --category drug-recruitment --weight 2 --bsn $BSN --summary "na de tweede rotatie" \
	--contact "Jeugdzorg MH" --wait=10 2>/dev/null)
check "signal 4 after the second rotation accepted" test ${#d4} -eq 32
check "... joins the open referral (re-keyed with it)" \
	e2e_wait_for 15 bash -c "'$SEINPOST' --config '$NET/zvh-mh/seinpost.conf' referrals | grep -q '${d4:-none}'"
check "... still exactly one referral" test "$(sp zvh-mh referrals | grep -c '^referral ')" = 1

# --- who-saw after the rotations ----------------------------------------------
ws=$(sp fg-mh audit who-saw --bsn $BSN --json 2>&1); rc=$?
echo "$ws" >"$E2E_DIR/whosaw.out"
check "who-saw after the rotation: exit 0 (rc=$rc)" test $rc -eq 0
check "... lists signal 1 from before it" grep -q "\"signal\": \"$d1\"" <<<"$ws"
check "... and the school's involvement from before it" grep -q "\"what\": \"involved\"" <<<"$ws"
check "... and signal 2 after it" grep -q "\"signal\": \"$d2\"" <<<"$ws"
check "... and signal 4 after the second" grep -q "\"signal\": \"$d4\"" <<<"$ws"
check "... no alarm" bash -c "! grep -q ALARM <<<\"\$1\"" _ "$ws"
PY=python3; $PY -c 'import jsonschema' 2>/dev/null || PY=/usr/bin/python3
check "... its --json matches docs/json/audit-who-saw.schema.json (earlier_pseudonyms)" \
	$PY "$ROOT/tests/tools/validate_json.py" "$ROOT/docs/json/audit-who-saw.schema.json" "$E2E_DIR/whosaw.out"
check "... names the two earlier pseudonyms, the first the one from before the rotations" \
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); e=d["earlier_pseudonyms"]; assert [x["epoch"] for x in e]==[1,0] and e[1]["pseudonym"]==sys.argv[2], e' "$E2E_DIR/whosaw.out" "$P0"
check "... and the independent verifier takes every entry, before and after" \
	python3 "$ROOT/tests/tools/verify_whosaw.py" "$E2E_DIR/whosaw.out" --broker-key "$(cat "$NET/broker/keys/sign.pub")"
check "the broker's log audits the translation" bash -c "'$SEINPOST' --config '$NET/fg-mh/seinpost.conf' audit log | grep -q 'pseudonyms-translated'"

check "no node raised an alarm" bash -c "! grep -l ALARM '$E2E_DIR'/politie-limburg.log '$E2E_DIR'/school-bonnefanten.log '$E2E_DIR'/jeugdzorg-mh.log '$E2E_DIR'/zvh-mh.log '$E2E_DIR'/fg-mh.log"

# --- a swapped key without a proof --------------------------------------------
ASAN_OPTIONS=detect_leaks=0 "$BUILD/tools/sp_forge_rotation" "$NET/roster.bin" "$NET/operator" "$E2E_DIR/forged.bin"
check "the forged roster is made (operator-signed)" test -s "$E2E_DIR/forged.bin"
cp "$E2E_DIR/forged.bin" "$NET/fg-mh/roster.bin"
out=$(sp fg-mh pseudonym $BSN 2>"$E2E_DIR/forged.err"); rc=$?
check "a swapped group key with no valid rotation proof is refused (exit 1, rc=$rc)" test $rc -eq 1 -a -z "$out"
check "... as an alarm" grep -q "ALARM: the roster's group key" "$E2E_DIR/forged.err"

e2e_done
