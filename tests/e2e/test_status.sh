#!/usr/bin/env bash
# `seinpost status` tells the truth: it asks the daemon itself (node:
# submit.sock, broker: control.sock). A daemon that is not running is exit 3
# "cannot reach the daemon"; a broker unreachable for longer than the limit
# is exit 1 with the time since the last contact; a node that talks to
# another network's broker (wrong broker key) says so once in its log and in
# status; the broker lists the organisations connected and when each was last
# seen. --json follows docs/json/status.schema.json, --prometheus passes
# promtool and holds no pseudonym.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_delivery.sh"
SCHEMA="$ROOT/docs/json/status.schema.json"

# JSON Schema check (python3-jsonschema); skipped with a message without it.
valid_json() { # file
	python3 - "$SCHEMA" "$1" <<'PY'
import json, sys
try:
    import jsonschema
except ImportError:
    print("  (python3 jsonschema missing: schema not checked)"); sys.exit(0)
jsonschema.validate(json.load(open(sys.argv[2])), json.load(open(sys.argv[1])),
                    format_checker=jsonschema.FormatChecker())
PY
}
jq_py() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }

dl_setup
for p in broker $DL_SENDER jeugdzorg-mh; do dl_start "$p" || exit 1; done   # the ZVH stays off
dl_load $DL_SENDER -n 10 -o "$E2E_DIR/ids.txt" 2>/dev/null

# --- a daemon that is not running: exit 3 -------------------------------------
sp zvh-mh status >"$E2E_DIR/zvh.txt" 2>"$E2E_DIR/zvh.err"; rc=$?
check "status of a node that never ran: exit 3 (rc=$rc)" test $rc -eq 3
check "it says: cannot reach the daemon" grep -q "cannot reach the daemon" "$E2E_DIR/zvh.err"

# --- the broker's view ---------------------------------------------------------
check "the broker sees its organisations" e2e_wait_for 20 bash -c "'$SEINPOST' --config '$NET/broker/seinpost.conf' status --json | grep -q '\"orgs_connected\": 2'"
sp broker status --json >"$E2E_DIR/b.json"; rc=$?
check "broker status healthy (rc=$rc)" test $rc -eq 0
check "broker --json validates against status.schema.json" valid_json "$E2E_DIR/b.json"
check "the sender is connected, with an RFC 3339 last-seen time" test "$(jq_py "$E2E_DIR/b.json" '[o for o in d["orgs"] if o["org"]=="politie-limburg"][0]["connected"] and [o for o in d["orgs"] if o["org"]=="politie-limburg"][0]["last_seen_at"].endswith("Z")')" = True
check "the ZVH was never seen (last_seen_at null)" test "$(jq_py "$E2E_DIR/b.json" '[o for o in d["orgs"] if o["org"]=="zvh-mh"][0]["last_seen_at"] is None')" = True
check "queue depths are numbers (ZVH: 10)" test "$(jq_py "$E2E_DIR/b.json" '[o for o in d["orgs"] if o["org"]=="zvh-mh"][0]["queue_depth"]')" = 10
check "counters are numbers (10 accepted)" test "$(jq_py "$E2E_DIR/b.json" 'd["daemon"]["signals_in"]')" = 10
sp broker status >"$E2E_DIR/b.txt"
check "text: the organisations and when last seen" grep -Eq "org +politie-limburg +connected, last seen [0-9]+ s ago" "$E2E_DIR/b.txt"

# --- the node's view -------------------------------------------------------------
sp $DL_SENDER status --json >"$E2E_DIR/n.json"; rc=$?
check "node status healthy (rc=$rc)" test $rc -eq 0
check "node --json validates against status.schema.json" valid_json "$E2E_DIR/n.json"
check "node: link connected, contact age a number" test "$(jq_py "$E2E_DIR/n.json" 'd["broker"]["state"]+" "+str(type(d["broker"]["contact_age_s"]) is int)')" = "connected True"

# --- Prometheus --------------------------------------------------------------------
for who in broker $DL_SENDER; do
	sp $who status --prometheus >"$E2E_DIR/$who.prom"
done
if ! command -v promtool >/dev/null; then
	echo "skip - promtool not installed (Debian package prometheus; make deps installs it)"
else
	check "promtool check metrics: broker" bash -c "promtool check metrics <'$E2E_DIR/broker.prom'"
	check "promtool check metrics: node" bash -c "promtool check metrics <'$E2E_DIR/$DL_SENDER.prom'"
fi
check "prometheus: queue depth per recipient" grep -q '^seinpost_queue_depth{role="broker",id="broker",org="zvh-mh"} 10$' "$E2E_DIR/broker.prom"
check "prometheus: broker contact age at the node" grep -q '^seinpost_broker_contact_age_seconds{' "$E2E_DIR/$DL_SENDER.prom"
check "prometheus: outbox, commit latency, tree head age" bash -c "grep -q '^seinpost_outbox_pending{' '$E2E_DIR/$DL_SENDER.prom' && grep -q '^seinpost_commit_duration_seconds_count{' '$E2E_DIR/broker.prom' && grep -q '^seinpost_tree_head_age_seconds{' '$E2E_DIR/broker.prom'"
check "prometheus: no pseudonym or other long hex in the output" bash -c "! grep -Eq '[0-9a-f]{32}' '$E2E_DIR/broker.prom' '$E2E_DIR/$DL_SENDER.prom'"

# --- the broker goes away: exit 1 after the limit, the last contact shown --------
e2e_stop broker
check "node status turns BAD once the broker is silent longer than --broker-limit" \
	e2e_wait_for 40 bash -c "'$SEINPOST' --config '$NET/$DL_SENDER/seinpost.conf' status --broker-limit 3 >'$E2E_DIR/n2.txt' 2>&1; [ \$? -eq 1 ]"
check "it shows the last contact and, once silent 10 s, says nothing answers" \
	e2e_wait_for 40 bash -c "'$SEINPOST' --config '$NET/$DL_SENDER/seinpost.conf' status --broker-limit 3 >'$E2E_DIR/n2.txt' 2>&1; grep -Eq 'broker +link +unreachable, last contact [0-9]+ s ago \(limit 3 s\): nothing answers at tcp://' '$E2E_DIR/n2.txt'"
grep "broker  *link" "$E2E_DIR/n2.txt"
check "the default limit (60 s) is not yet reached: exit 0" sp $DL_SENDER status
check "the node logs it once" e2e_wait_for 20 grep -q "no answer from the broker for .*nothing answers at" "$E2E_DIR/$DL_SENDER.log"
sp broker status >/dev/null 2>&1; rc=$?
check "status of the stopped broker: exit 3 (rc=$rc)" test $rc -eq 3

# --- another network's broker on the address (a wrong broker key) ----------------
OTHER="$E2E_DIR/other"
"$SEINPOST" net init "$OTHER" --port "$E2E_PORT" --policy "$DL_POLICY" --org police:$DL_SENDER >/dev/null
"$SEINPOSTD" --config "$OTHER/broker/seinpost.conf" >"$E2E_DIR/other-broker.log" 2>&1 &
E2E_PIDS+=($!)
check "the node says once what to check: the handshake never completes" \
	e2e_wait_for 40 grep -q "CURVE handshake never completes: .*broker key" "$E2E_DIR/$DL_SENDER.log"
check "status shows it: state no-handshake, exit 1" \
	e2e_wait_for 20 bash -c "'$SEINPOST' --config '$NET/$DL_SENDER/seinpost.conf' status --broker-limit 3 >'$E2E_DIR/n3.txt' 2>&1; [ \$? -eq 1 ] && grep -q 'no-handshake.*broker key' '$E2E_DIR/n3.txt'"
n=$(grep -c "no answer from the broker" "$E2E_DIR/$DL_SENDER.log")
check "the node's log has one line per state, not one per retry ($n)" test "$n" -le 2

# --- a node killed with -9: stale socket, still exit 3 ----------------------------
e2e_stop jeugdzorg-mh KILL
sp jeugdzorg-mh status --timeout 2 >/dev/null 2>"$E2E_DIR/yc.err"; rc=$?
check "status of a node killed with -9 (stale socket): exit 3 (rc=$rc)" bash -c "[ $rc -eq 3 ] && grep -q 'cannot reach the daemon' '$E2E_DIR/yc.err'"
e2e_stop_all
e2e_done
