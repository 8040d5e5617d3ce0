#!/usr/bin/env bash
# Resource edges: the broker's LMDB map fills up, the node's map fills up,
# the broker's disk fills up. Each gives a clear error, refuses new work,
# loses nothing already acknowledged, and recovers when the operator fixes
# it (a bigger map_size_mb, more disk).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_delivery.sh"

dl_setup
total=0 attempted=0
: >"$E2E_DIR/ids.txt"
load() { # n [args]
	local n=$1; shift
	dl_load $DL_SENDER -n "$n" -o "$E2E_DIR/ids.txt" --timeout-ms 3000 "$@" 2>"$E2E_DIR/load.err"
	attempted=$((attempted + n))
	cat "$E2E_DIR/load.err" | tail -1
}

# --- node map full -----------------------------------------------------------
# A fresh node with a 1 MiB map (LMDB never maps less than the file holds,
# so this runs first, before the outbox has grown).
dl_set $DL_SENDER map_size_mb 1
for p in broker $DL_SENDER "${DL_RECIPIENTS[@]}"; do dl_start "$p" || exit 1; done
load 700
refused=$(sed -n 's/.*(refused \([0-9]*\)).*/\1/p' "$E2E_DIR/load.err")
check "the node refuses submits once its map is full ($refused refused)" test "${refused:-0}" -gt 0
check "with a clear message" grep -q "could not store the signal durably: database full (raise map_size_mb); nothing was sent" "$E2E_DIR/load.err"
check "the node logs it" grep -q "outbox write failed: database full" "$E2E_DIR/$DL_SENDER.log"
sp $DL_SENDER status >"$E2E_DIR/st.txt"; rc=$?
check "node status is unhealthy and says why (rc=$rc)" bash -c "[ $rc -eq 1 ] && grep -q 'storage.*FAILING.*database full.*BAD' '$E2E_DIR/st.txt'"
dl_set $DL_SENDER map_size_mb 64
dl_crash $DL_SENDER || exit 1
check "after growing the node's map everything drains" dl_wait_drained 60
out=$(dl_verify "$E2E_DIR/ids.txt" "$attempted"); rc=$?
echo "$out"
check "map full at the node: every id it returned is delivered once" test $rc -eq 0

check "node status healthy again" sp $DL_SENDER status

# --- broker map full ---------------------------------------------------------
e2e_stop zvh-mh   # the ZVH stays away: its queue grows
e2e_stop broker
dl_set broker map_size_mb 1     # smaller than the file: LMDB keeps what the file holds, so fills soon
dl_start broker || exit 1
before=$(wc -l <"$E2E_DIR/ids.txt")
load 600
check "the broker reports the full map clearly" e2e_wait_for 20 grep -q "cannot store or audit incoming frames: database full (raise map_size_mb).*refusing new work" "$E2E_DIR/broker.log"
grep -m1 "cannot store or audit" "$E2E_DIR/broker.log"
check "node submits still return ids: the outbox holds what the broker refuses" test "$(wc -l <"$E2E_DIR/ids.txt")" -eq $((before + 600))
pending=$(dl_status $DL_SENDER outbox pending | cut -d' ' -f1)
check "signals the broker could not store wait in the sender's outbox ($pending)" test "${pending:-0}" -gt 0
sp broker status >"$E2E_DIR/st.txt"; rc=$?
check "broker status is unhealthy with a full map (rc=$rc)" bash -c "[ $rc -eq 1 ] && grep -Eq 'storage.*FAILING.*database full.*BAD|map used.*BAD' '$E2E_DIR/st.txt'"
check "the broker is still running" kill -0 "$(e2e_pid broker)"
# The operator grows the map by configuration and restarts.
dl_set broker map_size_mb 64
dl_crash broker || exit 1
dl_start zvh-mh || exit 1
check "after growing the map everything drains" dl_wait_drained 60
out=$(dl_verify "$E2E_DIR/ids.txt" "$attempted"); rc=$?
echo "$out"
check "map full at the broker: nothing lost, nothing duplicated" test $rc -eq 0

e2e_done
