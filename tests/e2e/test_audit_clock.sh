#!/usr/bin/env bash
# Issue 11, finding 3: the broker's wall clock steps back 10 minutes and then
# forward 3 hours while it runs and signs tree heads (the clock is shifted with
# the test-only SEINPOST_TEST_CLOCK_FILE). `audit verify` still passes, with a
# warning naming each step and its size, and the nodes' witnesses agree; a
# head re-signed with the broker's real key but an earlier time than the head
# before it still fails verify.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_delivery.sh"
. "$(dirname "$0")/lib_faults.sh"
. "$(dirname "$0")/lib_audit.sh"

dl_setup
S=$DL_SENDER
sed -i "s/^sth_every_s *=.*/sth_every_s = 1/" "$NET/broker/seinpost.conf"
fl_set broker max_clock_skew_s 900 # the 10 min step back stays inside the allowed skew
fl_start_clock broker 0 || exit 1
for p in $S "${DL_RECIPIENTS[@]}"; do dl_start "$p" || exit 1; done
heads() { sp broker audit export 2>/dev/null | jq '.heads | length'; }
burst() { # label
	for i in 1 2 3; do
		sp $S submit --category delivery-test --weight 2 --bsn 111222333 --summary "$1 $i" --wait=20 >/dev/null ||
			return 1
	done
	sleep 2.5 # a head is signed every second while the log grows
}
check "signals before the steps" burst "before"
fl_clock broker -600
check "signals after the broker's clock stepped back 10 min" burst "back"
fl_clock broker 10200
check "signals after it stepped forward 3 h" burst "forward"
check "everything delivered" dl_wait_drained 60
sp $S audit witness >"$E2E_DIR/witness.txt" 2>&1
check "the sender's witness agrees with the broker's history" grep -q "witness OK" "$E2E_DIR/witness.txt"
check "the broker logged the steps" grep -q "wall clock stepped -600 s" "$E2E_DIR/broker.log"
e2e_stop_all

out=$(sp broker audit verify); rc=$?
echo "$out" | sed 's/^/   /'
check "audit verify passes across both clock steps (rc=$rc)" test $rc -eq 0
check "verify warns about the step back, with its size" grep -q "warning: .*stepped -600 s" <<<"$out"
check "verify warns about the step forward, with its size" grep -q "warning: .*stepped +10800 s" <<<"$out"
n=$(grep -o "[0-9]* signed tree heads verified" <<<"$out" | cut -d' ' -f1)
check "tree heads were signed across the steps (${n:-0})" test "${n:-0}" -ge 3

cp -a "$NET/broker/state" "$E2E_DIR/pristine"
"$TAMPER" "$NET/broker/state" backdate "$NET/broker/keys" || fail "tamper tool"
out=$(sp broker audit verify); rc=$?
echo "   $out"
check "a head re-signed with an earlier time fails verify (rc=$rc)" test $rc -eq 1
check "verify says the head was signed before the one before it" grep -q "signed before the head of size" <<<"$out"
e2e_done
