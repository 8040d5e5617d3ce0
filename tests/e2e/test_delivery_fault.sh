#!/usr/bin/env bash
# Fault test under sustained load: the broker is killed with SIGKILL at
# random moments FAULT_ROUNDS times (default 20), the recipients and the
# sending node now and then too; everything is restarted, and then the test
# proves that every signal whose submit returned an id was delivered exactly
# once to each entitled recipient, nothing else was delivered, and the audit
# chains verify. Longer run: FAULT_ROUNDS=100 FAULT_RATE=300 bash tests/e2e/test_delivery_fault.sh
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_delivery.sh"
ROUNDS=${FAULT_ROUNDS:-20}
RATE=${FAULT_RATE:-150}
# Under sanitizers the broker runs several times slower: at 150 signals/s
# with 20 kills it falls behind, every resend round lands on a saturated
# broker, and the sender's link to it stops completing CURVE handshakes
# (seen twice on 2026-12-02; once the broker also hit libzmq 4.3.4's
# "Assertion failed: !_io_error"). That overload is an open finding, not
# what this test proves: the sanitizer run keeps every kind of kill at a
# rate the slower broker can carry. The plain build runs the full load.
case $BUILD in *-san)
	ROUNDS=${FAULT_ROUNDS:-12} RATE=${FAULT_RATE:-40} ;;
esac
# Kill gaps are 0.3-1.0 s; enough signals to keep the load on for all rounds.
COUNT=${FAULT_COUNT:-$((RATE * ROUNDS * 7 / 10))}
SEED=${FAULT_SEED:-$RANDOM}
RANDOM=$SEED
echo "seed $SEED (FAULT_SEED=$SEED reproduces the kill schedule), $ROUNDS rounds, $COUNT signals at $RATE/s"

dl_setup
for p in broker $DL_SENDER "${DL_RECIPIENTS[@]}"; do dl_start "$p" || exit 1; done

t0=$(date +%s.%N)
dl_load $DL_SENDER -n "$COUNT" --rate "$RATE" --timeout-ms 1500 -o "$E2E_DIR/ids.txt" 2>"$E2E_DIR/load.err" &
LOAD=$!
kills_broker=0 kills_recipient=0 kills_sender=0 start_fail=0
for r in $(seq 1 "$ROUNDS"); do
	sleep "0.$((RANDOM % 7 + 3))"
	e2e_stop broker KILL; kills_broker=$((kills_broker + 1))
	sleep "0.$((RANDOM % 3))"
	dl_start broker >/dev/null || start_fail=$((start_fail + 1))
	if [ $((r % 4)) -eq 0 ]; then
		who=${DL_RECIPIENTS[$(((r / 4) % 2))]}
		dl_crash "$who" >/dev/null || start_fail=$((start_fail + 1))
		kills_recipient=$((kills_recipient + 1))
	fi
	if [ $((r % 5)) -eq 0 ]; then
		dl_crash $DL_SENDER >/dev/null || start_fail=$((start_fail + 1))
		kills_sender=$((kills_sender + 1))
	fi
done 2>/dev/null
t1=$(date +%s.%N)
wait $LOAD
cat "$E2E_DIR/load.err"
attempted=$(sed -n 's/.*submitted \([0-9]*\),.*/\1/p' "$E2E_DIR/load.err" | tail -1)
echo "kills: broker $kills_broker, recipients $kills_recipient, sender $kills_sender in $(python3 -c "print(f'{$t1-$t0:.1f}')") s"
check "at least $ROUNDS broker kills under load ($kills_broker)" test "$kills_broker" -ge "$ROUNDS"
check "every restart came up ($start_fail failures)" test "$start_fail" -eq 0
check "the load generator finished and some submits returned ids" test -s "$E2E_DIR/ids.txt"

t2=$(date +%s.%N)
check "everything drains after the last crash" dl_wait_drained 90
echo "drain after the last kill: $(python3 -c "print(f'{$(date +%s.%N)-$t2:.1f}')") s"
out=$(dl_verify "$E2E_DIR/ids.txt" "${attempted:-$COUNT}"); rc=$?
echo "$out"
check "every acknowledged signal delivered exactly once to each entitled recipient; nothing else; audit verifies" test $rc -eq 0
e2e_done
