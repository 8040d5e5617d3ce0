#!/usr/bin/env bash
# Issue 11, finding 1: every rejection the broker can give, sent by a real
# node (the bad signals are put into the node's outbox, as a damaged or
# hostile store would hold them; the node itself sends them). The node stays
# up, also across a restart; a final rejection shows as "rejected" with the
# broker's reason in `outbox`, `outbox --json` and the node's audit log; a
# temporary one (clock, policy version) as "deferred", still retried; a
# stored copy that no longer decodes is settled at the node. Afterwards the
# node still delivers.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_faults.sh"

e2e_setup --org police:politie-limburg --org school:school-bonnefanten --org youthcare:jeugdzorg-mh
P=politie-limburg S=school-bonnefanten
for o in broker $P $S; do fl_set "$o" retry_ms 300; done
for o in broker $P $S; do e2e_start "$o" || exit 1; done

# kind [org] | expected state | words the reason must hold
CASES=(
	"overgrant $S|rejected|exceeds the policy"
	"impersonate $S|rejected|authenticated as"
	"category|rejected|unknown category"
	"longexpiry|rejected|retention"
	"stranger-grant|rejected|not on the roster"
	"self-grant|rejected|to the sender itself"
	"dup-grant $S|rejected|duplicates grant"
	"damage-sig|rejected|does not verify"
	"damage-header|rejected|damaged"
	"past|rejected|gave up"
	"future|deferred|future"
	"policyver|deferred|another policy version"
)
declare -A ID
for c in "${CASES[@]}"; do
	kind=${c%%|*}
	id=$("$FORGE" outbox "$NET/$P/seinpost.conf" $kind) || { fail "sp_forge outbox $kind"; continue; }
	ID[${kind%% *}]=$id
done
for c in "${CASES[@]}"; do
	kind=${c%%|*} rest=${c#*|}
	want=${rest%%|*} words=${rest#*|}
	id=${ID[${kind%% *}]:-none}
	check "$kind: the node records '$want'" e2e_wait_for 30 fl_state_is $P "$id" "$want"
	reason=$(fl_field $P "$id" reason)
	check "$kind: the reason says '$words' ($reason)" bash -c "grep -qi -- '$words' <<<\"\$1\"" _ "$reason"
done
# An expired signal: rejected (or, when the node's retention sweep comes
# first, expired at the node); either way its copy leaves the outbox and the
# node's audit log keeps what happened.
id=$("$FORGE" outbox "$NET/$P/seinpost.conf" expired)
expired_rejected() {
	sp $P audit log --json | jq -e --arg id "$id" \
		'any(.[]; .signal == $id and (.event == "expired" or (.event == "rejected" and ((.reason // "") | test("expired")))))' >/dev/null
}
check "expired: the node's audit log records the rejection (or the expiry)" e2e_wait_for 30 expired_rejected
check "the sending node is still running after every rejection" fl_alive $P
sp $P outbox >"$E2E_DIR/outbox.txt"
check "outbox (text) shows rejected signals with their reason" grep -q "rejected.*exceeds the policy" "$E2E_DIR/outbox.txt"
check "outbox (text) shows deferred signals with their reason" grep -q "deferred.*temporary" "$E2E_DIR/outbox.txt"
sp $P status >"$E2E_DIR/status.txt" 2>&1
check "status counts the deferred signals" grep -q "deferred.*2 refused by the broker for now" "$E2E_DIR/status.txt"
check "status counts the final rejections" grep -Eq "rejected.*1[0-9] by the broker, the last at" "$E2E_DIR/status.txt"
code=$(fl_field $P "${ID[category]}" code)
check "outbox --json gives the broker's code for an unknown category ($code = SP_ECATEGORY -5)" test "$code" = -5
sp $P audit log --json >"$E2E_DIR/paudit.json"
n=$(jq '[.[] | select(.event == "rejected")] | length' "$E2E_DIR/paudit.json")
check "the node's audit log holds each rejection once ($n for ${#CASES[@]})" test "$n" -ge "${#CASES[@]}" -a "$n" -le $((${#CASES[@]} + 1))

# The node restarts cleanly on the same store (it used to die at the first
# answer after every restart).
e2e_stop $P
e2e_start $P || exit 1
sleep 2
check "the node survives a restart with rejected and deferred signals" fl_alive $P
check "a deferred signal is still deferred (retried, not dropped)" fl_state_is $P "${ID[policyver]}" deferred
check "a rejected signal stays rejected" fl_state_is $P "${ID[overgrant]}" rejected
out=$(sp $P submit --category drug-recruitment --weight 2 --bsn 111222333 --summary "na de weigeringen" --wait=20 --json)
check "the node still delivers a good signal (accepted)" grep -q '"state": "accepted"' <<<"$out"
check "the broker still runs" fl_alive broker
e2e_done
