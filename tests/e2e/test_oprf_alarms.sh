#!/usr/bin/env bash
# e2e: the pseudonymisation service's alarms reach the privacy officer
# (issue 13: "Rate limits refuse a bulk sweep, and the privacy officer sees
# the alarm"). Real processes: a school's bulk sweep (`involve --file` with
# more lines than its oprf_per_day) is refused by the service, and the
# privacy officer's node (fg-mh) pulls the alarm over its own CURVE link,
# verifies the signed page and shows it in `status` (exit 1, --json) and
# `seinpost alarms` within seconds; an alarm raised while the privacy
# officer's node is down arrives after its restart (the cursor); with 2-of-3
# instances each instance's alarm arrives.
. "$(dirname "$0")/lib.sh"
PY=python3
$PY -c 'import jsonschema' 2>/dev/null || PY=/usr/bin/python3

OPRF_PORT=$(e2e_free_port)
e2e_setup --pseudonymisers 1 --oprf-port "$OPRF_PORT"
printf '\n[limits school]\noprf_per_day = 300\n' >>"$NET/pseudo-mh/policy.ini"

svc_start() { # instance
	"$SEINPOSTD" --config "$NET/$1/seinpost.conf" --verbose >>"$E2E_DIR/$1.log" 2>&1 &
	eval "PID_${1//[-.]/_}=$!"
	E2E_PIDS+=($!)
	for _ in $(seq 1 200); do grep -q "listening on" "$E2E_DIR/$1.log" 2>/dev/null && return 0; sleep 0.05; done
	echo "$1 did not start"; cat "$E2E_DIR/$1.log"; return 1
}
pupils() { # n start — valid BSNs (elfproef) with a reference each
	$PY -c '
import sys
n, x = int(sys.argv[1]), int(sys.argv[2]); out = 0
while out < n:
    d = [int(c) for c in "%08d" % x]; x += 1
    s = sum((9 - i) * d[i] for i in range(8)) % 11
    if s == 10: continue
    print("%08d%d,LL-%d" % (x - 1, s, out)); out += 1
' "$@"; }
alarms_n() { # org — number of alarms its `alarms --json` lists
	sp "$1" alarms --json | $PY -c 'import json,sys; print(len(json.load(sys.stdin)["alarms"]))'
}

svc_start pseudo-mh || exit 1
for p in broker school-bonnefanten fg-mh; do e2e_start "$p" || exit 1; done
check "the privacy officer's node takes the service's alarms" \
	e2e_wait_for 10 grep -q "taking the alarms of 1 pseudonymisation service instance" "$E2E_DIR/fg-mh.log"
check "no other node does" bash -c "! grep -q 'taking the alarms' '$E2E_DIR/school-bonnefanten.log'"
check "status of the privacy officer is healthy before any alarm" \
	e2e_wait_for 10 bash -c "'$SEINPOST' --config '$NET/fg-mh/seinpost.conf' status | grep -q 'no alarm from the pseudonymisation service'"
sp fg-mh status >/dev/null
check "... (exit 0)" test $? -eq 0

# A class list within the limit is fine; the sweep is refused.
pupils 250 10000000 >"$E2E_DIR/class.csv"
check "a class of 250 pupils is registered" sp school-bonnefanten involve --file "$E2E_DIR/class.csv" --quiet
pupils 400 20000000 >"$E2E_DIR/sweep.csv" # one service request (at most 512 points): one alarm
t0=$(date +%s.%N)
sp school-bonnefanten involve --file "$E2E_DIR/sweep.csv" --quiet >"$E2E_DIR/sweep.out" 2>&1
rc=$?
check "the bulk sweep of 400 is refused (rc=$rc)" test $rc -ne 0
check "... with the service's reason" grep -q "daily evaluation limit" "$E2E_DIR/sweep.out"
check "the privacy officer's status shows the alarm within 15 s" \
	e2e_wait_for 15 bash -c "'$SEINPOST' --config '$NET/fg-mh/seinpost.conf' status | grep -q 'ALARM: 1 alarm from the pseudonymisation service'"
t1=$(date +%s.%N)
echo "# alarm seen by the privacy officer $($PY -c "print('%.2f' % ($t1 - $t0))") s after the sweep started"
sp fg-mh status >"$E2E_DIR/po.status"
check "... and is unhealthy (exit 1)" test $? -eq 1
check "... naming the school, its role and the counts" \
	grep -q "rate limit: school-bonnefanten (school) asked for 400 evaluations with 250 of 300 used today" "$E2E_DIR/po.status"
check "the privacy officer's journal has the alarm" grep -q "ALARM from pseudonymiser pseudo-mh (#1" "$E2E_DIR/fg-mh.log"
sp fg-mh status --json >"$E2E_DIR/po.json"
check "status --json validates against its schema" \
	$PY "$ROOT/tests/tools/validate_json.py" "$ROOT/docs/json/status.schema.json" "$E2E_DIR/po.json"
check "... with the count and the alarm's time (_at)" $PY - "$E2E_DIR/po.json" <<'PYEOF'
import json, sys, re
o = json.load(open(sys.argv[1]))["oprf_alarms"]
assert o["alarms"] == 1 and o["feeds_broken"] == 0, o
assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", o["last_alarm_at"]), o
PYEOF
sp fg-mh alarms --json >"$E2E_DIR/alarms.json"
check "alarms --json validates against its schema" \
	$PY "$ROOT/tests/tools/validate_json.py" "$ROOT/docs/json/alarms.schema.json" "$E2E_DIR/alarms.json"
check "... one rate-limit alarm of pseudo-mh, #1, no personal data" $PY - "$E2E_DIR/alarms.json" "$E2E_DIR/sweep.csv" <<'PYEOF'
import json, sys
o = json.load(open(sys.argv[1]))
a = o["alarms"]
assert len(a) == 1, a
a = a[0]
assert (a["service"], a["seq"], a["kind"], a["org"], a["role"], a["asked"], a["used"], a["limit"]) == \
    ("pseudo-mh", 1, "rate-limit", "school-bonnefanten", "school", 400, 250, 300), a
assert o["feeds"][0]["service"] == "pseudo-mh" and o["feeds"][0]["taken"] == 1 and not o["feeds"][0]["broken"]
text = open(sys.argv[1]).read()
for line in open(sys.argv[2]):
    assert line.split(",")[0] not in text
PYEOF
check "the school's own status is not made unhealthy by it" bash -c "! '$SEINPOST' --config '$NET/school-bonnefanten/seinpost.conf' status | grep -q 'oprf_alarms'"

# Durable and without gaps: an alarm raised while the privacy officer's node is down.
e2e_stop fg-mh
sp school-bonnefanten involve --file "$E2E_DIR/sweep.csv" --quiet >/dev/null 2>&1
check "a second sweep is refused while the privacy officer's node is down" test $? -ne 0
check "the status of the stopped node still shows the first alarm (exit 1)" bash -c "'$SEINPOST' --config '$NET/fg-mh/seinpost.conf' status --timeout 1 >/dev/null 2>&1; test \$? -ne 0"
e2e_start fg-mh || exit 1
check "after the restart the alarm raised meanwhile arrives (2 alarms)" e2e_wait_for 10 bash -c "test \"\$($(declare -f sp alarms_n); NET='$NET' SEINPOST='$SEINPOST' PY='$PY' alarms_n fg-mh)\" = 2"
check "... numbered 1 and 2 (no gap)" bash -c "'$SEINPOST' --config '$NET/fg-mh/seinpost.conf' alarms | grep -c 'pseudo-mh #[12] ' | grep -qx 2"
check "... and the status counts both" bash -c "'$SEINPOST' --config '$NET/fg-mh/seinpost.conf' status | grep -q 'ALARM: 2 alarms'"

# The privacy officer acknowledges them (audited); the next alarm is BAD again.
sp fg-mh alarms --ack >/dev/null 2>&1
check "--ack without --user: usage (exit 2)" test $? -eq 2
sp fg-mh alarms --ack --user 123456789 >/dev/null 2>&1
check "--ack with a number for a user: usage (exit 2)" test $? -eq 2
check "the privacy officer acknowledges the 2 alarms" bash -c \
	"'$SEINPOST' --config '$NET/fg-mh/seinpost.conf' alarms --ack --user fg-jansen | grep -q '^2 alarms acknowledged by fg-jansen'"
sp fg-mh status >"$E2E_DIR/po-ack.status"
check "... status is healthy again (exit 0)" test $? -eq 0
check "... saying all are acknowledged, by whom" grep -q "2 alarms from the pseudonymisation service, all acknowledged (by fg-jansen at" "$E2E_DIR/po-ack.status"
check "... the acknowledgement is in the node's audit log" bash -c \
	"'$SEINPOST' --config '$NET/fg-mh/seinpost.conf' audit log --local | grep 'oprf-alarms-acknowledged' | grep -q fg-jansen"
sp fg-mh alarms --json >"$E2E_DIR/alarms-ack.json"
check "... alarms --json (acknowledged) validates" \
	$PY "$ROOT/tests/tools/validate_json.py" "$ROOT/docs/json/alarms.schema.json" "$E2E_DIR/alarms-ack.json"
check "... and names the acknowledgement" $PY -c '
import json, sys
a = json.load(open(sys.argv[1]))["acknowledged"]
sys.exit(0 if a["acknowledged"] == 2 and a["user"] == "fg-jansen" and a["acknowledged_at"] else 1)' "$E2E_DIR/alarms-ack.json"
sp school-bonnefanten involve --file "$E2E_DIR/sweep.csv" --quiet >/dev/null 2>&1
check "a third sweep: the privacy officer's status is unhealthy again within 15 s" e2e_wait_for 15 bash -c \
	"'$SEINPOST' --config '$NET/fg-mh/seinpost.conf' status | grep -q 'ALARM: 3 alarms from the pseudonymisation service (1 not acknowledged)'"
sp fg-mh status --json >"$E2E_DIR/po3.json"
check "... status --json: 3 alarms, 1 unacknowledged" $PY -c '
import json, sys
o = json.load(open(sys.argv[1]))["oprf_alarms"]
sys.exit(0 if o["alarms"] == 3 and o["unacknowledged"] == 1 and o["acknowledged_at"] else 1)' "$E2E_DIR/po3.json"
check "... which validates" $PY "$ROOT/tests/tools/validate_json.py" "$ROOT/docs/json/status.schema.json" "$E2E_DIR/po3.json"
e2e_stop_all

# 2-of-3: every instance's alarm reaches the privacy officer.
rm -rf "$NET"
OPRF_PORT=$(e2e_free_port)
"$SEINPOST" net init "$NET" --port "$(e2e_free_port)" --policy "$ROOT/deploy/policy.example" \
	--pseudonymisers 3 --threshold 2 --oprf-port "$OPRF_PORT" >"$E2E_DIR/netinit3.log" || { cat "$E2E_DIR/netinit3.log"; exit 1; }
for i in 1 2 3; do
	printf '\n[limits school]\noprf_per_day = 200\n' >>"$NET/pseudo-mh-$i/policy.ini"
	svc_start "pseudo-mh-$i" || exit 1
done
for p in broker school-bonnefanten fg-mh; do e2e_start "$p" || exit 1; done
check "2-of-3: the privacy officer's node takes the alarms of the 3 instances" \
	e2e_wait_for 10 grep -q "taking the alarms of 3 pseudonymisation service instances" "$E2E_DIR/fg-mh.log"
sp school-bonnefanten involve --file "$E2E_DIR/sweep.csv" --quiet >"$E2E_DIR/sweep3.out" 2>&1
check "2-of-3: the sweep is refused" test $? -ne 0
check "2-of-3: an alarm of each instance arrives within 15 s" e2e_wait_for 15 bash -c \
	"'$SEINPOST' --config '$NET/fg-mh/seinpost.conf' alarms | grep -o 'pseudo-mh-[123] #1 ' | sort -u | wc -l | grep -qx 3"
sp fg-mh status >"$E2E_DIR/po3.status"
check "2-of-3: the privacy officer's status is unhealthy (exit 1)" test $? -eq 1
check "... and counts the 3 alarms" grep -q "ALARM: 3 alarms from the pseudonymisation service" "$E2E_DIR/po3.status"

# An instance whose pages are not signed by its roster key: the feed's own alarm.
e2e_stop pseudo-mh-1
"$BUILD/tools/sp_fake_pseudonymiser" "$NET/pseudo-mh-1/seinpost.conf" --forge-alarms >"$E2E_DIR/fake.log" 2>&1 &
E2E_PIDS+=($!)
check "a page signed by another key: the feed of pseudo-mh-1 is an alarm within 15 s" e2e_wait_for 15 bash -c \
	"'$SEINPOST' --config '$NET/fg-mh/seinpost.conf' status | grep -q 'ALARM: the alarm feed of pseudonymiser pseudo-mh-1 does not hold: a page of alarms does not carry'"
check "... in the journal" grep -q "ALARM: the alarm feed of pseudonymiser pseudo-mh-1 does not hold" "$E2E_DIR/fg-mh.log"
check "... and alarms --json marks that feed broken, the others not" bash -c "sp() { '$SEINPOST' --config \"$NET/\$1/seinpost.conf\" \"\${@:2}\"; }; sp fg-mh alarms --json | $PY -c '
import json, sys
f = {x[\"service\"]: x[\"broken\"] for x in json.load(sys.stdin)[\"feeds\"]}
sys.exit(0 if f == {\"pseudo-mh-1\": True, \"pseudo-mh-2\": False, \"pseudo-mh-3\": False} else 1)'"
e2e_done
