#!/usr/bin/env bash
# Store-and-forward: the ZVH node is down while signals arrive (and the
# broker is killed meanwhile); the broker holds them durably, `status` shows
# the queue, and when the ZVH returns every signal arrives exactly once.
# seinpost promises no order across retries and outages (docs/delivery.md,
# "Order"): the test checks exactly-once, not arrival order, and that
# `inbox` lists by creation time.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_delivery.sh"
N=${OFFLINE_SIGNALS:-300}

dl_setup
for p in broker $DL_SENDER jeugdzorg-mh; do dl_start "$p" || exit 1; done

dl_load $DL_SENDER -n "$N" -o "$E2E_DIR/ids.txt" 2>"$E2E_DIR/load.err"
check "all $N submits returned an id ($(cat "$E2E_DIR/load.err"))" test "$(wc -l <"$E2E_DIR/ids.txt")" -eq "$N"

check "youth care receives everything while the ZVH is down" \
	e2e_wait_for 30 bash -c "[ \"\$('$SEINPOST' --config '$NET/broker/seinpost.conf' status --json | grep -c '\"value\": \"0\"')\" -ge 1 ] && '$SEINPOST' --config '$NET/jeugdzorg-mh/seinpost.conf' status | grep -q 'received  *$N\$'"
check "the broker queue for the ZVH holds all $N" e2e_wait_for 10 bash -c "'$SEINPOST' --config '$NET/broker/seinpost.conf' status | grep -q 'zvh-mh  *$N waiting'"
st=$(sp broker status); rc=$?
echo "$st"
check "status is healthy while the recipient is briefly away (rc=$rc)" test $rc -eq 0
sp broker status --max-age 1 >/dev/null 2>&1; rc=$?
sleep 1.5
sp broker status --max-age 1 >"$E2E_DIR/st.txt" 2>&1; rc=$?
check "status exits 1 when something waits longer than --max-age (rc=$rc)" test $rc -eq 1
check "status names the stale queue" grep -q "zvh-mh.*BAD" "$E2E_DIR/st.txt"

# The broker dies while holding the queue; the queue survives.
dl_crash broker || exit 1
sleep 0.5
check "after a broker crash the ZVH queue is still $N" bash -c "'$SEINPOST' --config '$NET/broker/seinpost.conf' status | grep -q 'zvh-mh  *$N waiting'"

t0=$(date +%s.%N)
dl_start zvh-mh || exit 1
check "the ZVH queue drains after it returns" dl_wait_drained 60
t1=$(date +%s.%N)
echo "drain of $N queued signals to the returning ZVH: $(python3 -c "print(f'{$t1-$t0:.1f}')") s"
out=$(dl_verify "$E2E_DIR/ids.txt" "$N"); rc=$?
echo "$out"
check "exactly once, audit chains verify" test $rc -eq 0
sorted() { sp zvh-mh inbox --json | jq -e '[.[].created_at] as $c | ($c | length) > 0 and $c == ($c | sort)' >/dev/null; }
check "inbox lists by creation time" sorted
check "status healthy again once drained" sp broker status
e2e_done
