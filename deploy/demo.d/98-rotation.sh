# Scene: rotation of the pseudonymisation key by translation (docs/pseudonymiser.md).
say "the pseudonymisation key rotates (k' = delta*k): the instances re-share, the broker translates what it stores"
for p in "${PSEUDO_PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
"$SP" net rotate "$NET" | sed 's/^/  /' || exit 1
kill "${PIDS[0]}" 2>/dev/null; wait "${PIDS[0]}" 2>/dev/null # the broker: the pass takes the store to itself
"$SP" --config "$NET/broker/seinpost.conf" pseudonym translate "$NET/broker/translation-1.bin" | sed 's/^/  /' || exit 1
rm -f "$NET/broker/translation-1.bin"
"$SPD" --config "$NET/broker/seinpost.conf" >>"$DEMO_DIR/logs/broker.log" 2>&1 &
PIDS+=($!)
PSEUDO_PIDS=()
for p in "${PSEUDOS[@]}"; do
	before=$(grep -c "listening on" "$DEMO_DIR/logs/$p.log" 2>/dev/null)
	"$SPD" --config "$NET/$p/seinpost.conf" >>"$DEMO_DIR/logs/$p.log" 2>&1 &
	PIDS+=($!)
	PSEUDO_PIDS+=($!)
	for _ in $(seq 1 100); do [ "$(grep -c "listening on" "$DEMO_DIR/logs/$p.log")" -gt "$before" ] && break; sleep 0.05; done
done
for _ in $(seq 1 200); do grep -q "pseudonymisation key rotated" "$DEMO_DIR/logs/fg-mh.log" && break; sleep 0.1; done
grep -h "pseudonymisation key rotated" "$DEMO_DIR/logs/fg-mh.log" | sed 's/^.*oprf: /  fg-mh: /'
P3=$("$SP" --config "$NET/fg-mh/seinpost.conf" pseudonym 111222333) || exit 1
[ "$P3" != "$P" ] && echo "  the new network pseudonym: ${P3:0:16}… (was ${P:0:16}…)" || { echo "  the SAME pseudonym"; exit 1; }
say "who-saw after the rotation still lists what happened before it (the broker proves the old pseudonym)"
"$SP" --config "$NET/fg-mh/seinpost.conf" audit who-saw --bsn 111222333 | tail -1
