#!/usr/bin/env bash
# e2e: the pseudonymisation service 2-of-3 (issue 14), real processes: the
# key comes from a DKG among the three instances at `net init`; a node gets
# the same pseudonym from every pair of instances (any one down), fails
# closed with two down, spreads its requests, and pins the group key.
. "$(dirname "$0")/lib.sh"

e2e_setup --pseudonymisers 3 --threshold 2
PORTS=($(e2e_free_port) $(e2e_free_port) $(e2e_free_port))
# one free port per instance, in the services' and every node's config
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
for i in 1 2 3; do svc_start $i || exit 1; done

P=$(sp school-bonnefanten pseudonym 111222333)
check "2-of-3, all up: a pseudonym" test "${#P}" -eq 64
check "another organisation: the same pseudonym" test "$(sp politie-limburg pseudonym 111222333)" = "$P"

for down in 1 2 3; do
	e2e_stop "pseudo-mh-$down"
	got=$(sp jeugdzorg-mh pseudonym 111222333 2>"$E2E_DIR/down$down.err")
	check "instance $down down: the other pair gives the same pseudonym" test "$got" = "$P"
	svc_start $down || exit 1
done

e2e_stop pseudo-mh-1
e2e_stop pseudo-mh-3
out=$(sp zvh-mh pseudonym 111222333 2>"$E2E_DIR/two.err")
rc=$?
check "two of three down: fails closed (exit 3)" test $rc -eq 3
check "... and prints nothing" test -z "$out"
svc_start 1 || exit 1
svc_start 3 || exit 1

# Requests are spread: three single-element batches go to pairs (1,2) (2,3) (3,1).
sp fg-mh pseudonym --batch 1 111222333 123456782 111222333 >"$E2E_DIR/spread.out"
check "three batches, three pseudonyms" test "$(wc -l <"$E2E_DIR/spread.out")" -eq 3
check "... the first and third equal" test "$(sed -n 1p "$E2E_DIR/spread.out")" = "$(sed -n 3p "$E2E_DIR/spread.out")"
for i in 1 2 3; do
	n=$("$SEINPOST" --config "$NET/pseudo-mh-$i/seinpost.conf" audit log | grep -c "oprf-evaluated fg-mh")
	check "instance $i saw two of the privacy officer's three requests (saw $n)" test "$n" -eq 2
done

# A hostile instance: pseudo-mh-1's keys and address, another OPRF key. Its
# honest proof for the wrong key is refused with an alarm; the node asks
# pseudo-mh-3 instead and gets the right pseudonym.
e2e_stop pseudo-mh-1
"$BUILD/tools/sp_fake_pseudonymiser" "$NET/pseudo-mh-1/seinpost.conf" >"$E2E_DIR/fake.log" 2>&1 &
FAKE=$!
E2E_PIDS+=($FAKE)
e2e_wait_for 10 grep -q "listening on" "$E2E_DIR/fake.log"
got=$(sp school-bonnefanten pseudonym 111222333 2>"$E2E_DIR/fake.err")
check "an instance proving another key: the answer is refused, another asked, the right pseudonym" test "$got" = "$P"
check "... with an alarm naming the instance" grep -q "ALARM: the answer of pseudonymiser pseudo-mh-1" "$E2E_DIR/fake.err"
kill -TERM $FAKE; wait $FAKE 2>/dev/null
svc_start 1 || exit 1

# The group key is pinned.
cp "$NET/politie-limburg/seinpost.conf" "$E2E_DIR/pin.conf"
sed -i -e '/^key = 0/{s/^key = 0/key = 1/;b' -e '}' -e 's/^key = ./key = 0/' "$NET/politie-limburg/seinpost.conf"
sp politie-limburg pseudonym 111222333 >"$E2E_DIR/pin.out" 2>"$E2E_DIR/pin.err"
check "a group key other than the roster's is refused (exit 1)" test $? -eq 1
check "... as an alarm" grep -q "ALARM: the roster's group key" "$E2E_DIR/pin.err"

# The nodes' own pseudonyms (submit, involve) through 2-of-3: any one
# instance down works, two down fails closed: no pseudonym, the submit is
# held (encrypted) until two instances answer again (sp_awaiting.h).
cp "$E2E_DIR/pin.conf" "$NET/politie-limburg/seinpost.conf" # the pin back
for p in broker politie-limburg school-bonnefanten; do e2e_start "$p" || exit 1; done
check "the school registers its pupil through 2-of-3" sp school-bonnefanten involve --bsn 111222333 --ref LL-9
e2e_stop pseudo-mh-2
id=$(sp politie-limburg submit --category drug-recruitment --weight 2 --bsn 111222333 --summary x --wait=10 2>"$E2E_DIR/sub.err")
check "one instance down: the police submit is accepted" test ${#id} -eq 32
check "... and reaches the involved school (same pseudonym from instances 1 and 3)" \
	e2e_wait_for 10 bash -c "'$SEINPOST' --config '$NET/school-bonnefanten/seinpost.conf' inbox | grep -q '${id:-none}.*ref LL-9'"
e2e_stop pseudo-mh-3
out=$(sp politie-limburg submit --category drug-recruitment --weight 2 --bsn 111222333 --summary y --json 2>/dev/null); rc=$?
check "two down: no pseudonym, the submit is held, not built (rc=$rc)" test $rc -eq 0
check "... state waiting" grep -q '"state": "waiting"' <<<"$out"
idw=$(python3 -c 'import json,sys; print(json.load(sys.stdin).get("id",""))' <<<"$out")
check "... the outbox: the accepted signal and the waiting one" test "$(sp politie-limburg outbox --json | python3 -c 'import json,sys; print(" ".join(sorted(e["state"] for e in json.load(sys.stdin))))')" = "accepted waiting"
svc_start 3 || exit 1
check "a second instance back: the held submit reaches the school with its id" \
	e2e_wait_for 30 bash -c "'$SEINPOST' --config '$NET/school-bonnefanten/seinpost.conf' inbox | grep -q '${idw:-none}.*ref LL-9'"

e2e_done
