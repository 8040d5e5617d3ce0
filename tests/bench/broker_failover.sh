#!/usr/bin/env bash
# A broker failover as the nodes see it, on one machine (docs/operations.md):
# signals flow at RATE/s; the broker is killed with SIGKILL (a crashed or
# fenced machine); it stays away OUTAGE seconds (what detection, fencing,
# DRBD promotion and the mount would take); it starts again on the same
# store. Measured: restart to listening, restart to the outbox drained, and
# the signals lost (must be 0: every submit that returned an id is accepted
# exactly once, and audit verify is OK).
#   BUILD=build tests/bench/broker_failover.sh [OUTAGE_S] [RATE]
. "$(dirname "$0")/../e2e/lib.sh"
OUTAGE=${1:-15} RATE=${2:-20}
LOAD="$BUILD/tools/sp_load"
e2e_setup --org police:politie-limburg --org youthcare:jeugdzorg-mh
for p in broker politie-limburg jeugdzorg-mh; do e2e_start "$p" || exit 1; done
"$LOAD" --config "$NET/politie-limburg/seinpost.conf" -n 1000000 --rate "$RATE" --quiet \
	--category drug-recruitment --weight 2 --out "$E2E_DIR/ids" 2>/dev/null &
load=$!
e2e_wait_for 60 bash -c "[ \$(wc -l <'$E2E_DIR/ids') -ge $((RATE * 5)) ]"
e2e_stop broker KILL
sleep "$OUTAGE"
# The submitters stop as the broker comes back: what follows is the backlog.
kill -TERM $load; wait $load 2>/dev/null
pending_at_restart=$(sp politie-limburg outbox | grep -c pending)
t0=$(date +%s%N)
e2e_start broker >/dev/null
t1=$(date +%s%N)
e2e_wait_for 600 bash -c "! '$SEINPOST' --config '$NET/politie-limburg/seinpost.conf' outbox | grep -q pending"
t2=$(date +%s%N)
submitted=$(wc -l <"$E2E_DIR/ids")
accepted=$(sp politie-limburg outbox | grep -c accepted)
sp broker audit log --json >"$E2E_DIR/audit.json" 2>/dev/null
read -r inbroker missing dup < <(python3 - "$E2E_DIR/audit.json" "$E2E_DIR/ids" <<'PY'
import collections, json, sys
recs = json.load(open(sys.argv[1]))
sub = collections.Counter(r["signal"] for r in recs if r["event"] == "submitted")
ids = [l.split()[0] for l in open(sys.argv[2]) if l.strip()]
print(sum(sub.values()), sum(1 for i in ids if sub[i] == 0), sum(1 for i in ids if sub[i] > 1))
PY
)
verify=$(sp broker audit verify 2>&1 | grep -c 'audit log OK')
printf 'outage_s=%d rate_per_s=%d submitted=%d pending_at_restart=%d restart_to_listening_ms=%d restart_to_backlog_accepted_ms=%d accepted=%d submitted_records_at_broker=%d lost=%d duplicated=%d audit_verify_ok=%d\n' \
	"$OUTAGE" "$RATE" "$submitted" "$pending_at_restart" $(( (t1 - t0) / 1000000 )) $(( (t2 - t0) / 1000000 )) \
	"$accepted" "$inbroker" "$missing" "$dup" "$verify"
e2e_done >/dev/null
