#!/usr/bin/env bash
# Disk full at the broker: its state lives on a 1 MiB tmpfs while its LMDB
# map is 64 MiB, so writes fail with ENOSPC before the map is full. The
# broker says so clearly, once (one line when it starts, one with the count
# when it ends), `status` reports it (from the broker itself: no file on the
# full disk), it acknowledges nothing it could not store, and once the disk
# has room again it resumes by itself and everything acknowledged is
# delivered exactly once.
# Needs root to mount the tmpfs; otherwise skipped (the refusal path is the
# same as for a full map, covered by test_delivery_resources.sh).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_delivery.sh"

dl_setup
if [ "$(id -u)" != 0 ] || ! mkdir -p "$E2E_DIR/disk" || ! mount -t tmpfs -o size=1m tmpfs "$E2E_DIR/disk" 2>/dev/null; then
	echo "skip - not root or cannot mount a tmpfs"
	e2e_done
	exit
fi
DL_MOUNTS+=("$E2E_DIR/disk")
dl_set broker state "$E2E_DIR/disk/state"
dl_set broker map_size_mb 64     # the map is bigger than the disk
for p in broker $DL_SENDER jeugdzorg-mh; do dl_start "$p" || exit 1; done   # the ZVH is away: its queue grows
dl_load $DL_SENDER -n 600 -o "$E2E_DIR/ids.txt" 2>"$E2E_DIR/load.err"
tail -1 "$E2E_DIR/load.err"
check "all 600 submits returned an id (the node's disk is fine)" test "$(wc -l <"$E2E_DIR/ids.txt")" -eq 600
check "the broker reports the full disk clearly" e2e_wait_for 20 grep -q "storage failing: cannot store or audit incoming frames" "$E2E_DIR/broker.log"
grep -m1 "storage failing" "$E2E_DIR/broker.log"
df -h "$E2E_DIR/disk" | tail -1
check "broker status: exit 1, storage FAILING (asked over control.sock)" \
	e2e_wait_for 20 bash -c "'$SEINPOST' --config '$NET/broker/seinpost.conf' status >'$E2E_DIR/st.txt' 2>&1; [ \$? -eq 1 ] && grep -q 'storage .*FAILING for' '$E2E_DIR/st.txt'"
grep FAILING "$E2E_DIR/st.txt"
sleep 3   # the senders keep retrying meanwhile
crit=$(grep -c "\[crit\]" "$E2E_DIR/broker.log")
check "the full disk is logged once, not per frame or batch ($crit crit lines)" test "$crit" -le 2
pending=$(dl_status $DL_SENDER outbox pending | cut -d' ' -f1)
check "what the broker could not store waits in the sender's outbox ($pending)" test "${pending:-0}" -gt 0
# The operator makes room. The broker resumes by itself (no restart): it
# retries every batch, and declares recovery only after a durable commit.
mount -o remount,size=64m "$E2E_DIR/disk"
check "the broker survived the full disk" kill -0 "$(e2e_pid broker)"
dl_start zvh-mh || exit 1
check "after freeing disk space everything drains" dl_wait_drained 60
check "the broker logs once that it resumed, with the count" e2e_wait_for 20 grep -Eq "storage failing for [0-9]+ s, [0-9]+ writes refused, resumed" "$E2E_DIR/broker.log"
grep -E "storage failing for" "$E2E_DIR/broker.log"
check "broker status healthy again" sp broker status
out=$(dl_verify "$E2E_DIR/ids.txt" 600); rc=$?
echo "$out"
check "disk full at the broker: nothing lost, nothing duplicated" test $rc -eq 0
e2e_stop_all
e2e_done
