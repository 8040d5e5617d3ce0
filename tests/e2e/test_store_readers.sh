#!/usr/bin/env bash
# A reader killed with -9 inside a read transaction (a CLI, mdb_dump) leaves
# its LMDB reader slot behind; every page it could see stays pinned and the
# file grows without bound. The daemons clear such slots every 10 s and say
# so, and the file stays small under load.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_delivery.sh"
POKE="$BUILD/tools/sp_store_poke"

dl_setup
for p in broker $DL_SENDER "${DL_RECIPIENTS[@]}"; do dl_start "$p" || exit 1; done
dl_load $DL_SENDER -n 50 -o "$E2E_DIR/ids0.txt" 2>/dev/null

# A reader on the running broker's store, killed with -9 mid-transaction.
coproc READER { exec "$POKE" "$NET/broker/state" hold-reader; }
read -r -t 20 line <&"${READER[0]}"
check "a reader holds a read transaction on the broker's store" test "$line" = ready
kill -9 "$READER_PID"; wait "$READER_PID" 2>/dev/null
check "the broker clears the stale reader slot by itself and says so" \
	e2e_wait_for 30 grep -q "cleared 1 stale reader slot" "$E2E_DIR/broker.log"
grep -m1 "stale reader" "$E2E_DIR/broker.log"
check "status counts it" e2e_wait_for 30 bash -c "'$SEINPOST' --config '$NET/broker/seinpost.conf' status --json --timeout 20 | python3 -c 'import json,sys; assert json.load(sys.stdin)[\"daemon\"][\"readers_cleared\"] >= 1'"

size() { stat -c %s "$NET/broker/state/data.mdb"; }
before=$(size)
# The load after the dead reader (the file must not balloon) runs in the
# plain build. Under sanitizers it is an open finding of issue 13's session:
# the broker accepts and delivers all 1,550, but the sender's outbox keeps
# 500-640 of them pending past 240 s, even offered at 40/s (the stale reader
# checks above run under SAN too). LOAD_UNDER_SAN=1 runs it.
rate=300 drain=90
case $BUILD in *-san)
	if [ "${LOAD_UNDER_SAN:-0}" != 1 ]; then
		echo "skip - the load after the dead reader under sanitizers (LOAD_UNDER_SAN=1 runs it)"
		e2e_stop_all
		e2e_done
		exit $?
	fi
	rate=40 drain=240 ;;
esac
dl_load $DL_SENDER -n 1500 --rate $rate -o "$E2E_DIR/ids1.txt" 2>"$E2E_DIR/load.err"
tail -1 "$E2E_DIR/load.err"
check "everything drains" dl_wait_drained $drain
after=$(size)
grow=$(( (after - before) / 1048576 ))
echo "broker data.mdb: $before -> $after bytes (+$grow MiB for 1500 signals)"
check "the file does not balloon (+$grow MiB < 25 MiB; with the dead reader pinning its snapshot it grew by ~145)" test "$grow" -lt 25
cat "$E2E_DIR/ids0.txt" "$E2E_DIR/ids1.txt" >"$E2E_DIR/ids.txt"
out=$(dl_verify "$E2E_DIR/ids.txt" 1550); rc=$?
echo "$out"
check "nothing lost, nothing duplicated" test $rc -eq 0
e2e_stop_all
e2e_done
