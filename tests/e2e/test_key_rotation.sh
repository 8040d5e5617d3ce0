#!/usr/bin/env bash
# Key rotation without loss (docs/enrolment.md): under a steady stream of
# signals the sender (police), the recipient (youth care) and the broker
# rotate their keys; nothing is lost or delivered twice, deliveries sealed
# to the old box key still open, the broker's audit log verifies with heads
# signed by the old and the new key, and the nodes' witnesses raise no alarm.
. "$(dirname "$0")/lib.sh"

e2e_setup --org police:politie-limburg --org youthcare:jeugdzorg-mh
for p in broker politie-limburg jeugdzorg-mh; do e2e_start "$p" || exit 1; done
BPID=$(e2e_pid broker)
BSN=111222333 N=${ROTATION_SIGNALS:-150}

first=$(sp politie-limburg submit --category drug-recruitment --weight 2 --bsn $BSN --summary "voor de rotatie" \
	--contact "wijkagent" --wait=15)
check "a signal before any rotation" test ${#first} -eq 32
check "youth care holds it" e2e_wait_for 15 bash -c "'$SEINPOST' --config '$NET/jeugdzorg-mh/seinpost.conf' inbox | grep -q $first"

# The load: N signals, one after the other, while keys rotate underneath.
( for i in $(seq 1 "$N"); do
	sp politie-limburg submit --category drug-recruitment --weight 2 --bsn $BSN --summary "signaal $i" \
		--contact "wijkagent" >>"$E2E_DIR/ids" 2>>"$E2E_DIR/submit.err" || echo "FAILED $i" >>"$E2E_DIR/ids"
  done ) &
LOAD=$!

wait_lines() { for _ in $(seq 1 600); do [ "$(wc -l <"$E2E_DIR/ids" 2>/dev/null || echo 0)" -ge "$1" ] && return 0; sleep 0.1; done; return 1; }
reloads() { grep -c "roster reloaded: serial" "$E2E_DIR/broker.log"; }

wait_lines $((N / 5))
# 1. the sender rotates on its own machine; the operator adds the new keys
check "police: keys rotate" "$SEINPOST" keys rotate "$NET/politie-limburg/keys" --overlap 600
check "police: old keys kept" test -f "$NET/politie-limburg/keys/old/1/sign.key"
check "operator: roster add (rotation)" "$SEINPOST" roster add "$NET/roster.bin" "$NET/politie-limburg/keys/enrol.json"
kill -HUP "$BPID"
check "police node switches to its new keys" e2e_wait_for 20 grep -q "key rotation: now connected" "$E2E_DIR/politie-limburg.log"

wait_lines $((2 * N / 5))
# 2. the recipient
check "youth care: keys rotate" "$SEINPOST" keys rotate "$NET/jeugdzorg-mh/keys" --overlap 600
check "operator: roster add (rotation)" "$SEINPOST" roster add "$NET/roster.bin" "$NET/jeugdzorg-mh/keys/enrol.json"
kill -HUP "$BPID"
check "youth care node switches to its new keys" e2e_wait_for 20 grep -q "key rotation: now connected" "$E2E_DIR/jeugdzorg-mh.log"

wait_lines $((3 * N / 5))
# 3. the broker's sign key (the operator signs the transition into the roster)
old_bsign=$(cat "$NET/broker/keys/sign.pub")
check "broker: keys rotate --broker" "$SEINPOST" keys rotate "$NET/broker/keys" --broker --roster "$NET/roster.bin"
check "broker: a new sign key" test "$(cat "$NET/broker/keys/sign.pub")" != "$old_bsign"
# The broker closes keys/ after start (Landlock, docs/privsep.md): its own
# new sign key takes a restart; the nodes' outboxes hold what is sent meanwhile.
e2e_stop broker
check "the broker restarts" e2e_start broker
BPID=$(e2e_pid broker)
check "the broker takes its new sign key" e2e_wait_for 20 grep -q "signing with the new broker sign key" "$E2E_DIR/broker.log"

wait $LOAD
check "no submit failed" bash -c "! grep -q FAILED '$E2E_DIR/ids'"
total=$(wc -l <"$E2E_DIR/ids")
check "all $N submits stored ($total)" test "$total" -eq "$N"
accepted() { "$SEINPOST" --config "$NET/politie-limburg/seinpost.conf" outbox | grep -c accepted; }
check "every signal accepted by the broker (0 lost)" e2e_wait_for 60 bash -c "[ \$('$SEINPOST' --config '$NET/politie-limburg/seinpost.conf' outbox | grep -c accepted) -eq $((N + 1)) ]"
inbox_has_all() {
	local inbox; inbox=$("$SEINPOST" --config "$NET/jeugdzorg-mh/seinpost.conf" inbox)
	while read -r id; do grep -q "$id" <<<"$inbox" || return 1; done <"$E2E_DIR/ids"
}
check "youth care received every signal (0 lost)" e2e_wait_for 60 inbox_has_all
n_in=$("$SEINPOST" --config "$NET/jeugdzorg-mh/seinpost.conf" inbox --json | python3 -c 'import json,sys; d=json.load(sys.stdin); l=d if isinstance(d,list) else d.get("signals",d.get("inbox",[])); ids=[x["id"] for x in l]; print(len(ids), len(set(ids)))')
check "youth care holds each signal once (0 duplicated: $n_in)" test "$n_in" = "$((N + 1)) $((N + 1))"

# deliveries sealed to the old box key stay openable
old=$(sp jeugdzorg-mh show "$first" --user hulpverlener.b 2>&1)
check "a delivery sealed to youth care's old box key still opens" grep -q "voor de rotatie" <<<"$old"
last=$(tail -1 "$E2E_DIR/ids")
new=$(sp jeugdzorg-mh show "$last" --user hulpverlener.b 2>&1)
check "a delivery after all rotations opens" grep -q "signaal $N" <<<"$new"

log=$(sp broker audit log 2>&1)
check "audit: key-rotated for police" grep -q "key-rotated.*politie-limburg" <<<"$log"
check "audit: key-rotated for youth care" grep -q "key-rotated.*jeugdzorg-mh" <<<"$log"
check "audit: key-rotated for the broker" grep -q "key-rotated.*broker" <<<"$log"
check "police's own audit log records its switch" bash -c "'$SEINPOST' --config '$NET/politie-limburg/seinpost.conf' audit log | grep -q key-rotated"
sleep 3 # a head signed with the new key
check "broker audit verify OK (heads by old and new key)" sp broker audit verify
check "police witness OK" sp politie-limburg audit witness
check "youth care witness OK" sp jeugdzorg-mh audit witness
check "no witness alarm in any log" bash -c "! grep -q ALARM '$E2E_DIR'/*.log"
e2e_done
