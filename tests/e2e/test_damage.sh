#!/usr/bin/env bash
# Damaged values do not go unnoticed. A queued delivery damaged in the
# broker's store (its signature no longer verifies) is refused by its
# recipient; after max_refusals (default 5) the broker sets it aside with an
# audit record `quarantined`, logs it once, and status raises an alarm; the
# rest of the queue drains. Then: records of the audit log altered while the
# daemons were stopped: at start the broker and the node check the tail of
# their chain and raise an alarm (log and status) instead of saying OK.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_delivery.sh"
POKE="$BUILD/tools/sp_store_poke"
TAMPER="$BUILD/tools/sp_audit_tamper"

dl_setup
for p in broker $DL_SENDER jeugdzorg-mh; do dl_start "$p" || exit 1; done   # the ZVH is away
dl_load $DL_SENDER -n 10 -o "$E2E_DIR/ids.txt" 2>/dev/null
check "10 deliveries wait for the ZVH" e2e_wait_for 20 bash -c "[ \"\$('$SEINPOST' --config '$NET/broker/seinpost.conf' status --json | python3 -c 'import json,sys; print([o for o in json.load(sys.stdin)[\"orgs\"] if o[\"org\"]==\"zvh-mh\"][0][\"queue_depth\"])')\" = 10 ]"

# --- a damaged queue entry -----------------------------------------------------
e2e_stop broker
check "damage the first delivery queued for the ZVH" "$POKE" "$NET/broker/state" corrupt-queue zvh-mh
dl_start broker || exit 1
dl_start zvh-mh || exit 1
check "the broker quarantines it and says so" e2e_wait_for 60 grep -q "delivery quarantined: the recipient refused it 5 times" "$E2E_DIR/broker.log"
check "the other 9 are delivered" e2e_wait_for 30 bash -c "[ \"\$('$SEINPOST' --config '$NET/zvh-mh/seinpost.conf' inbox --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')\" = 9 ]"
check "the ZVH's queue is empty (the queue drains)" e2e_wait_for 20 bash -c "[ \"\$('$SEINPOST' --config '$NET/broker/seinpost.conf' status --json | python3 -c 'import json,sys; print([o for o in json.load(sys.stdin)[\"orgs\"] if o[\"org\"]==\"zvh-mh\"][0][\"queue_depth\"])')\" = 0 ]"
sleep 2
n=$(grep -c "refused (logged once per delivery)" "$E2E_DIR/zvh-mh.log")
check "the recipient logs the refusal once, not per resend ($n)" test "$n" -eq 1
n=$(grep -c "delivery quarantined" "$E2E_DIR/broker.log")
check "the broker logs the quarantine once ($n)" test "$n" -eq 1
check "an audit record 'quarantined' names the recipient" bash -c "'$SEINPOST' --config '$NET/broker/seinpost.conf' audit log --json | python3 -c 'import json,sys; r=[x for x in json.load(sys.stdin) if x[\"event\"]==\"quarantined\"]; assert len(r)==1 and r[0][\"recipient\"]==\"zvh-mh\", r'"
sp broker status >"$E2E_DIR/st.txt" 2>&1; rc=$?
check "broker status: exit 1 with the alarm (rc=$rc)" bash -c "[ $rc -eq 1 ] && grep -q 'quarantined.*ALARM: 1 deliveries set aside' '$E2E_DIR/st.txt'"
check "the broker's audit chain still verifies" sp broker audit verify

# --- altered audit records --------------------------------------------------------
last() { sp "$1" audit log --json | python3 -c 'import json,sys; print(max(r["seq"] for r in json.load(sys.stdin)))'; }
e2e_stop_all
bl=$(last broker); nl=$(last $DL_SENDER)
check "alter broker audit record $((bl - 1))" "$TAMPER" "$NET/broker/state" modify $((bl - 1))
check "alter the sender's audit record $((nl - 1))" "$TAMPER" "$NET/$DL_SENDER/state" modify $((nl - 1))
dl_start broker || exit 1
dl_start $DL_SENDER || exit 1
check "the broker raises an alarm at start" e2e_wait_for 10 grep -q "audit log damaged at start: record $bl does not decode or does not chain" "$E2E_DIR/broker.log"
check "the node raises an alarm at start" e2e_wait_for 10 grep -q "audit log damaged at start: record $nl" "$E2E_DIR/$DL_SENDER.log"
sp broker status >"$E2E_DIR/st2.txt" 2>&1; rc=$?
check "broker status: exit 1 with the audit alarm (rc=$rc)" bash -c "[ $rc -eq 1 ] && grep -q 'tail .*ALARM: audit log damaged' '$E2E_DIR/st2.txt'"
sp $DL_SENDER status >"$E2E_DIR/st3.txt" 2>&1; rc=$?
check "node status: exit 1 with the audit alarm (rc=$rc)" bash -c "[ $rc -eq 1 ] && grep -q 'tail .*ALARM: audit log damaged' '$E2E_DIR/st3.txt'"
e2e_stop_all
e2e_done
