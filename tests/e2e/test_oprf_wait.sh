#!/usr/bin/env bash
# e2e: a submit while the pseudonymisation service is unreachable waits
# (issue 13, faults; sp_awaiting.h), real processes: the CLI gets the id and
# state waiting, status and outbox show it, the node's store holds neither the
# BSN nor the text in plaintext; a kill -9 of the node loses nothing; once the
# service is back the held submits are built with the same ids, accepted by
# the broker and delivered to the involved school; one held past max_age_s
# is given up (its data deleted, the outbox says why) and never sent.
. "$(dirname "$0")/lib.sh"

OPRF_PORT=$(e2e_free_port)
e2e_setup --pseudonymisers 1 --oprf-port "$OPRF_PORT"
SVC="$NET/pseudo-mh"
svc_start() {
	"$SEINPOSTD" --config "$SVC/seinpost.conf" --verbose >>"$E2E_DIR/pseudo-mh.log" 2>&1 &
	PID_pseudo_mh=$!
	E2E_PIDS+=($!)
	for _ in $(seq 1 200); do
		[ "$(grep -c "listening on" "$E2E_DIR/pseudo-mh.log" 2>/dev/null)" -gt "${1:-0}" ] && return 0
		sleep 0.05
	done
	echo "pseudonymiser did not start"; cat "$E2E_DIR/pseudo-mh.log"; return 1
}
PL="$NET/politie-limburg"
# a short service timeout and quick first retries (the backoff doubles from retry_ms)
sed -i 's/^\[pseudonymiser\]$/[pseudonymiser]\ntimeout_ms = 1000/' "$PL/seinpost.conf"
check "the police node's configuration is valid" "$SEINPOSTD" --config "$PL/seinpost.conf" --check-config
svc_start 0 || exit 1
for p in broker politie-limburg school-bonnefanten; do e2e_start "$p" || exit 1; done

BSN=111222333
TEXT=geheimverhaal-$RANDOM$RANDOM
check "the school registers its pupil (service up)" sp school-bonnefanten involve --bsn $BSN --ref LL-7

e2e_stop pseudo-mh
out=$(sp politie-limburg submit --category drug-recruitment --weight 2 --bsn $BSN --summary "$TEXT" \
	--idempotency-key k-wait-1 --json 2>"$E2E_DIR/s1.err"); rc=$?
check "service down: the submit is held (exit $rc)" test $rc -eq 0
check "... --json says state waiting" grep -q '"state": "waiting"' <<<"$out"
printf '%s\n' "$out" >"$E2E_DIR/submit.json"
id1=$(python3 -c 'import json,sys; print(json.load(sys.stdin).get("id",""))' <<<"$out")
check "... and gives the signal id ($id1)" test ${#id1} -eq 32
out=$(sp politie-limburg submit --category drug-recruitment --weight 2 --bsn $BSN --summary "$TEXT" \
	--idempotency-key k-wait-1 --json 2>/dev/null); rc=$?
check "the same idempotency key again: the same id, still waiting (exit $rc)" \
	bash -c "[ $rc -eq 0 ] && grep -q '\"id\": \"$id1\"' <<<'$out' && grep -q '\"state\": \"waiting\"' <<<'$out'"
id2=$(sp politie-limburg submit --category drug-recruitment --weight 3 --bsn $BSN --summary "$TEXT" --wait=2 \
	2>"$E2E_DIR/s2.err"); rc=$?
check "submit --wait while the service is away: the id, exit 3 (no verdict in time) (exit $rc)" \
	test $rc -eq 3 -a ${#id2} -eq 32
check "... saying the submit waits for the pseudonymisation service" grep -q "waits for the pseudonymisation service" "$E2E_DIR/s2.err"
check "a bad submit is still refused at once (unknown category, exit 1)" \
	bash -c "! sp politie-limburg submit --category no-such --bsn $BSN --summary x >/dev/null 2>&1"
check "... and an invalid BSN too" bash -c "! sp politie-limburg submit --category drug-recruitment --bsn 123456789 --summary x >/dev/null 2>&1"

ob=$(sp politie-limburg outbox)
check "outbox lists both as waiting" bash -c "grep -q '$id1.*waiting' <<<'$ob' && grep -q '$id2.*waiting' <<<'$ob'"
check "outbox --json: two entries, state waiting" test "$(sp politie-limburg outbox --json | python3 -c 'import json,sys; print(sum(e["state"] == "waiting" for e in json.load(sys.stdin)))')" -eq 2
st=$(sp politie-limburg status)
check "status counts them" grep -Eq "awaiting +waiting +2 submits waiting for the pseudonymisation service" <<<"$st"
sp politie-limburg outbox --json >"$E2E_DIR/outbox.json"
sp politie-limburg status --json >"$E2E_DIR/status.json"
PY=python3
$PY -c 'import jsonschema' 2>/dev/null || PY=/usr/bin/python3
check "submit, outbox and status --json with waiting submits match their schemas" \
	$PY - "$(dirname "$0")/../../docs/json" "$E2E_DIR" <<'PYEOF'
import json, sys, jsonschema
d, out = sys.argv[1], sys.argv[2]
for name in ("submit", "outbox", "status"):
    jsonschema.validate(json.load(open("%s/%s.json" % (out, name))), json.load(open("%s/%s.schema.json" % (d, name))))
st = json.load(open(out + "/status.json"))
sys.exit(0 if st["awaiting"]["waiting"] == 2 else 1)
PYEOF
check "the node's store holds neither the BSN nor the text in plaintext" \
	bash -c "! grep -qaF -e $BSN -e '$TEXT' '$PL/state/data.mdb'"
check "... (control: the same grep finds the category, which is kept in clear)" \
	grep -qaF drug-recruitment "$PL/state/data.mdb"

# kill -9 of the node (key holder and network process) while they wait
pid=$(e2e_pid politie-limburg); kids=$(pgrep -P "$pid" | tr '\n' ' ')
kill -9 "$pid" $kids 2>/dev/null; wait "$pid" 2>/dev/null; PID_politie_limburg=
e2e_start politie-limburg || exit 1
check "after kill -9 and a restart: still waiting" bash -c "'$SEINPOST' --config '$PL/seinpost.conf' outbox | grep -q '$id1.*waiting'"

svc_start 1 || exit 1
check "the service back: the first held submit reaches the school with its id" \
	e2e_wait_for 75 bash -c "'$SEINPOST' --config '$NET/school-bonnefanten/seinpost.conf' inbox | grep -q '$id1.*ref LL-7'"
check "... and the second" \
	e2e_wait_for 20 bash -c "'$SEINPOST' --config '$NET/school-bonnefanten/seinpost.conf' inbox | grep -q '$id2.*ref LL-7'"
check "the broker accepted both (outbox: accepted, nothing waiting)" \
	e2e_wait_for 10 bash -c "[ \"\$('$SEINPOST' --config '$PL/seinpost.conf' outbox | grep -c accepted)\" -eq 2 ] && ! '$SEINPOST' --config '$PL/seinpost.conf' outbox | grep -q waiting"
check "the school can read the summary" \
	bash -c "'$SEINPOST' --config '$NET/school-bonnefanten/seinpost.conf' show $id1 --user tester 2>&1 | grep -q '$TEXT'"
check "status: nothing waits any more" bash -c "'$SEINPOST' --config '$PL/seinpost.conf' status | grep -Eq 'awaiting +waiting +0 submits'"

# Nothing held outlives max_age_s: the data is deleted, the outbox says why.
e2e_stop politie-limburg
sed -i 's/^retry_ms = .*/retry_ms = 200\nmax_age_s = 60/' "$PL/seinpost.conf"
check "the police node with max_age_s = 60 (the least allowed)" "$SEINPOSTD" --config "$PL/seinpost.conf" --check-config
e2e_start politie-limburg || exit 1
e2e_stop pseudo-mh
id3=$(sp politie-limburg submit --category drug-recruitment --weight 2 --bsn $BSN --summary "$TEXT" 2>/dev/null); rc=$?
check "service down again: a third submit waits (exit $rc)" test $rc -eq 0 -a ${#id3} -eq 32
check "past max_age_s the held submit is given up: outbox says rejected and why" \
	e2e_wait_for 90 bash -c "'$SEINPOST' --config '$PL/seinpost.conf' outbox | grep -q '$id3.*rejected.*gave no pseudonym within 60 s'"
check "... status counts it (warn)" bash -c "'$SEINPOST' --config '$PL/seinpost.conf' status | grep -Eq 'awaiting +rejected +1 held'"
check "... and nothing waits" bash -c "'$SEINPOST' --config '$PL/seinpost.conf' status | grep -Eq 'awaiting +waiting +0 submits'"
svc_start 2 || exit 1
sleep 2
check "... the service back: it is not sent after all" \
	bash -c "! '$SEINPOST' --config '$NET/school-bonnefanten/seinpost.conf' inbox | grep -q '$id3'"
check "no log holds the BSN or the text" bash -c "! grep -qaF -e $BSN -e '$TEXT' '$E2E_DIR/politie-limburg.log' '$E2E_DIR/broker.log' '$E2E_DIR/pseudo-mh.log'"
e2e_done
