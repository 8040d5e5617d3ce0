#!/usr/bin/env bash
# Disk full at a sender and at a recipient (their state on 1 MiB tmpfs
# mounts, LMDB maps of 64 MiB): each says so once and once more when it
# ends, with the count; no line per signal or retry for what it could not
# store (a sender used to log "accepted by broker" 45,257 times for 476
# signals, a recipient "received" for signals it never stored); `status`
# exits 1 and names it while it lasts; afterwards everything acknowledged is
# delivered exactly once.
# Needs root to mount the tmpfs (CI runs as root); otherwise skipped.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_delivery.sh"

dl_setup
if [ "$(id -u)" != 0 ] || ! mkdir -p "$E2E_DIR/d1" "$E2E_DIR/d2" ||
	! mount -t tmpfs -o size=1m tmpfs "$E2E_DIR/d1" 2>/dev/null; then
	echo "skip - not root or cannot mount a tmpfs"
	e2e_done
	exit
fi
DL_MOUNTS+=("$E2E_DIR/d1")
mount -t tmpfs -o size=512k tmpfs "$E2E_DIR/d2" && DL_MOUNTS+=("$E2E_DIR/d2")
# state -> the small disk (a symlink: the helpers find the sockets as usual)
mkdir -m 0700 "$E2E_DIR/d1/state" "$E2E_DIR/d2/state"
rm -rf "$NET/$DL_SENDER/state" "$NET/jeugdzorg-mh/state"
ln -s "$E2E_DIR/d1/state" "$NET/$DL_SENDER/state"
ln -s "$E2E_DIR/d2/state" "$NET/jeugdzorg-mh/state"
dl_set $DL_SENDER map_size_mb 64
dl_set jeugdzorg-mh map_size_mb 64
for p in broker $DL_SENDER "${DL_RECIPIENTS[@]}"; do dl_start "$p" || exit 1; done
dl_load $DL_SENDER -n 900 --timeout-ms 3000 -o "$E2E_DIR/ids.txt" 2>"$E2E_DIR/load.err"
tail -1 "$E2E_DIR/load.err"
acked=$(wc -l <"$E2E_DIR/ids.txt")
check "the sender refused submits once its disk was full ($acked of 900 stored)" test "$acked" -lt 900
check "the recipient's disk fills: it says so" e2e_wait_for 30 grep -q "storage failing: " "$E2E_DIR/jeugdzorg-mh.log"
check "recipient status: exit 1, storage FAILING" \
	e2e_wait_for 20 bash -c "'$SEINPOST' --config '$NET/jeugdzorg-mh/seinpost.conf' status >'$E2E_DIR/st.txt' 2>&1; [ \$? -eq 1 ] && grep -q 'storage .*FAILING for' '$E2E_DIR/st.txt'"
check "sender status: exit 1, storage FAILING" \
	e2e_wait_for 20 bash -c "'$SEINPOST' --config '$NET/$DL_SENDER/seinpost.conf' status >'$E2E_DIR/st2.txt' 2>&1; [ \$? -eq 1 ] && grep -q 'storage .*FAILING for' '$E2E_DIR/st2.txt'"
sleep 5   # the broker resends, the sender retries: the logs must stay quiet
df -h "$E2E_DIR/d1" "$E2E_DIR/d2" | tail -2
for who in $DL_SENDER jeugdzorg-mh; do
	n=$(grep -c "\[crit\]" "$E2E_DIR/$who.log")
	check "$who: the full disk logged once ($n crit lines)" test "$n" -le 2
done
recv=$(grep -c "received delivery-test" "$E2E_DIR/jeugdzorg-mh.log")   # first: stored only grows
stored=$(sp jeugdzorg-mh status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["inbox"]["received"])')
check "recipient: a 'received' line only for what it stored ($recv lines, $stored stored)" test "$recv" -le "$stored"
acc=$(grep -c "accepted by broker" "$E2E_DIR/$DL_SENDER.log")
check "sender: at most one 'accepted by broker' line per signal ($acc lines, $acked signals)" test "$acc" -le "$acked"
# The operator makes room; both resume by themselves.
mount -o remount,size=64m "$E2E_DIR/d1"
mount -o remount,size=64m "$E2E_DIR/d2"
check "after freeing disk space everything drains" dl_wait_drained 90
for who in $DL_SENDER jeugdzorg-mh; do
	check "$who: logs once that storage resumed, with the count" \
		e2e_wait_for 20 grep -Eq "storage failing for [0-9]+ s, [0-9]+ writes refused, resumed" "$E2E_DIR/$who.log"
done
grep -h "storage failing for" "$E2E_DIR/$DL_SENDER.log" "$E2E_DIR/jeugdzorg-mh.log"
out=$(dl_verify "$E2E_DIR/ids.txt" 900); rc=$?
echo "$out"
check "disk full at sender and recipient: nothing lost, nothing duplicated" test $rc -eq 0
e2e_stop_all
e2e_done
