#!/usr/bin/env bash
# Replay and clock: a byte-identical retry is an idempotent DUPLICATE; the
# same id with other bytes is rejected as a replay and audited; a signal
# created too far in the future or the past is rejected with a clear reason;
# a signal held a while in an outbox (within max_age_s) is still accepted.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_delivery.sh"
REPLAY="$BUILD/tools/sp_replay"

dl_setup
dl_set broker max_clock_skew_s 60
dl_set broker max_age_s 600
for p in broker $DL_SENDER "${DL_RECIPIENTS[@]}"; do dl_start "$p" || exit 1; done
dl_load $DL_SENDER -n 1 -o "$E2E_DIR/ids.txt" 2>/dev/null
id=$(cut -d' ' -f1 "$E2E_DIR/ids.txt")
check "the original is delivered" dl_wait_drained 20
conf="$NET/$DL_SENDER/seinpost.conf"

v=$("$REPLAY" resend "$conf" "$id")
check "a byte-identical retry is an idempotent DUPLICATE ($v)" test "$v" = DUPLICATE
v=$("$REPLAY" mutate "$conf" "$id")
check "the same id with different bytes is rejected as a replay ($v)" grep -q "^REJECTED -13 replay" <<<"$v"
v=$("$REPLAY" aged "$conf" 3600)
check "created an hour in the future is rejected ($v)" grep -q "^REJECTED -15 .*further in the future than the allowed clock skew of 60s" <<<"$v"
v=$("$REPLAY" aged "$conf" -3600)
check "created an hour ago (beyond max_age_s) is rejected ($v)" grep -q "^REJECTED -15 .*further in the past than the allowed age of 600s" <<<"$v"
v=$("$REPLAY" aged "$conf" -300)
check "created 5 minutes ago (held in an outbox, within max_age_s) is accepted ($v)" test "$v" = OK
check "and delivered" dl_wait_drained 20

log=$(sp broker audit log)
check "audit: the replay is recorded as rejected" grep -q "rejected .*politie-limburg .*signal=$id.*replay" <<<"$log"
check "audit: the clock rejections are recorded" test "$(grep -c 'rejected .*further in the' <<<"$log")" -eq 2
check "audit: the original was submitted once" test "$(grep -c "submitted .*signal=$id" <<<"$log")" -eq 1
for r in "${DL_RECIPIENTS[@]}"; do
	check "audit: delivered to $r exactly once despite the replays" test "$(grep -c "delivered .*-> $r .*signal=$id" <<<"$log")" -eq 1
done
check "broker audit chain verifies" sp broker audit verify
e2e_done
