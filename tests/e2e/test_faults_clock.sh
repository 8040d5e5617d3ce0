#!/usr/bin/env bash
# Issue 11, findings 1, 2 and 9 through real processes: the broker's clock
# stepped back an hour, the sender's clock +10 min and -8 days (the clocks are
# shifted with the test-only SEINPOST_TEST_CLOCK_FILE, live), and a policy
# roll-out with signals pending. The sending node stays up; a signal refused
# for a reason that can pass is "deferred" and arrives once the clock is
# right; one that can never pass ends "rejected" with its reason (outbox,
# submit --json, spool .error); after a roll-out every pending signal is
# delivered. submit --wait keeps its limit and exits 3 when no verdict came,
# also when the node dies meanwhile.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_delivery.sh"
. "$(dirname "$0")/lib_faults.sh"

dl_setup
S=$DL_SENDER
printf '\n[spool]\nin = spool\n' >>"$NET/$S/seinpost.conf"
mkdir -p "$NET/$S/spool"
fl_start_clock broker 0 || exit 1
fl_start_clock $S 0 || exit 1
for r in "${DL_RECIPIENTS[@]}"; do dl_start "$r" || exit 1; done
submit() { sp $S submit --category delivery-test --weight 2 --bsn 111222333 --summary "$1" | head -1; }
in_inbox() { sp "$1" inbox --json | jq -e --arg id "$2" 'any(.[]; .id == $id)' >/dev/null; }
everywhere() { for r in "${DL_RECIPIENTS[@]}"; do in_inbox "$r" "$1" || return 1; done; }
reason_has() { fl_field $S "$1" reason | grep -qi -- "$2"; }

# --- the broker's clock stepped back an hour --------------------------------
fl_clock broker -3600
sleep 0.5
out=$(sp $S submit --category delivery-test --weight 2 --bsn 111222333 --summary "broker clock -1h" --wait=4 --json); rc=$?
id=$(jq -r .id <<<"$out")
check "submit --wait exits 3 while the broker refuses for now (rc=$rc)" test $rc -eq 3
check "submit --json says deferred, with the broker's reason" jq -e '.state == "deferred" and (.reason | test("future"))' <<<"$out" >/dev/null
check "outbox: deferred, 'created time ... in the future'" reason_has "$id" future
check "the sending node is still running" fl_alive $S
fl_clock broker 0
check "once the broker's clock is right again the signal is accepted" e2e_wait_for 90 fl_state_is $S "$id" accepted
check "... and delivered to every recipient" e2e_wait_for 30 everywhere "$id"

# --- the sender's clock 10 minutes ahead -------------------------------------
fl_clock $S 600
sleep 0.5
id=$(submit "sender clock +10 min")
check "sender +10 min: deferred" e2e_wait_for 30 fl_state_is $S "$id" deferred
check "sender +10 min: the reason names the clock skew" reason_has "$id" "clock skew"
check "the sending node is still running" fl_alive $S
fl_clock $S 0
# The signal's created time stays 10 minutes ahead: it passes once the
# broker's time has caught up. Let 400 s pass at the broker instead of waiting.
fl_clock broker 400
check "once time has caught up with its created time: accepted" e2e_wait_for 90 fl_state_is $S "$id" accepted
check "... and delivered" e2e_wait_for 30 everywhere "$id"
fl_clock broker 0

# --- the sender's clock 8 days behind, signal from the spool ------------------
fl_clock $S -691200
sleep 0.5
f='{"type":"signal","category":"delivery-test","weight":2,"bsn":"111222333","summary":"sender clock -8 days"}'
printf '%s' "$f" >"$NET/$S/spool/.late.json.tmp" && mv "$NET/$S/spool/.late.json.tmp" "$NET/$S/spool/late.json"
check "the spool file is accepted by the node" e2e_wait_for 20 test -s "$NET/$S/spool/done/late.json.id"
id=$(cat "$NET/$S/spool/done/late.json.id" 2>/dev/null)
check "sender -8 days: deferred (too old for the broker)" e2e_wait_for 30 fl_state_is $S "$id" deferred
check "sender -8 days: the reason names the age" reason_has "$id" "in the past"
fl_clock $S 0
check "clock corrected: the signal is too old for ever, so it ends rejected" e2e_wait_for 90 fl_state_is $S "$id" rejected
check "rejected: the reason says the node gave up" reason_has "$id" "gave up"
check "spool: the file moved to rejected/ with its .id" test -f "$NET/$S/spool/rejected/late.json" -a -f "$NET/$S/spool/rejected/late.json.id"
check "spool: rejected/late.json.error holds the broker's reason" grep -q "rejected by the broker.*in the past" "$NET/$S/spool/rejected/late.json.error"
sp $S status >"$E2E_DIR/status.txt" 2>&1
check "status warns about the rejected spool file" grep -qi "rejected.*1 files" "$E2E_DIR/status.txt"
check "the sending node is still running" fl_alive $S

# --- a policy roll-out with signals pending -----------------------------------
e2e_stop broker
ids=()
for i in 1 2 3; do ids+=("$(submit "before the roll-out $i")"); done
check "3 signals stored while the broker is down" test "${#ids[@]}" -eq 3 -a -n "${ids[2]}"
# each process's policy file, as its configuration names it (the broker's
# sits next to the roster since net init runs network create)
policy_of() { local v; v=$(sed -n 's/^policy *= *//p' "$NET/$1/seinpost.conf"); case $v in /*) echo "$v" ;; *) echo "$NET/$1/$v" ;; esac; }
for p in broker $S "${DL_RECIPIENTS[@]}"; do
	sed -i 's/^version *=.*/version = delivery-test-2/' "$(policy_of "$p")"
	e2e_stop "$p"
done
fl_start_clock broker 0 || exit 1
fl_start_clock $S 0 || exit 1
for r in "${DL_RECIPIENTS[@]}"; do dl_start "$r" || exit 1; done
check "the broker says until when the previous version is accepted" grep -q "previous version are accepted until" "$E2E_DIR/broker.log"
for id in "${ids[@]}"; do
	check "roll-out: $id accepted" e2e_wait_for 60 fl_state_is $S "$id" accepted
	check "roll-out: $id delivered to every recipient" e2e_wait_for 30 everywhere "$id"
done
check "the sending node is still running" fl_alive $S

# --- submit --wait: its limit, and the node dying meanwhile -------------------
e2e_stop broker
t0=$(date +%s)
out=$(sp $S submit --category delivery-test --weight 2 --bsn 111222333 --summary "no broker" --wait=3 --json); rc=$?
t1=$(date +%s)
check "no broker: --wait=3 exits 3 (rc=$rc)" test $rc -eq 3
check "no broker: state stored" jq -e '.state == "stored"' <<<"$out" >/dev/null
check "no broker: --wait=3 returns within 10 s ($((t1 - t0)) s)" test $((t1 - t0)) -le 10
( sp $S submit --category delivery-test --weight 2 --bsn 111222333 --summary "node dies" --wait=4 --json >"$E2E_DIR/w.json"; echo $? >"$E2E_DIR/w.rc" ) &
w=$!
sleep 1.5
e2e_stop $S KILL
t0=$(date +%s)
wait $w
t1=$(date +%s)
check "node killed during --wait: exit 3 ($(cat "$E2E_DIR/w.rc"))" test "$(cat "$E2E_DIR/w.rc")" = 3
check "node killed during --wait: state stored" jq -e '.state == "stored" and (.id | length == 32)' "$E2E_DIR/w.json" >/dev/null
check "node killed during --wait: within the limit ($((t1 - t0)) s after the kill)" test $((t1 - t0)) -le 8
e2e_done
