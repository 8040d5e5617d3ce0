# Scene: spool ingestion (docs/spool.md). The police case system cannot use
# the local socket; it drops one JSON file per signal into the node's spool
# directory (write, then rename). The node imports it like `seinpost submit`
# and moves it to done/ with its id, or to rejected/ with the reason.
say "the police case system delivers signals as files: the police node gets a drop folder and restarts"
police_conf="$NET/politie-limburg/seinpost.conf"
kill -TERM "${PIDS[1]}" 2>/dev/null
wait "${PIDS[1]}" 2>/dev/null
printf '\n[spool]\nin = spool\n' >>"$police_conf"
"$SPD" --config "$police_conf" >>"$DEMO_DIR/logs/politie-limburg.log" 2>&1 &
PIDS[1]=$!
for _ in $(seq 1 100); do [ -d "$NET/politie-limburg/spool/done" ] && break; sleep 0.05; done
spool="$NET/politie-limburg/spool"

say "the case system drops a signal file (written under a temporary name, then renamed)"
cat >"$spool/.bvh-4712.json.tmp" <<'EOF'
{"type": "signal", "idempotency_key": "bvh-2026-004712", "category": "drug-recruitment", "weight": 1,
 "bsn": "111222333", "summary": "Seen handing over packages at the station bike shed",
 "contact": "Wijkagent Centrum, 0900-8844"}
EOF
mv "$spool/.bvh-4712.json.tmp" "$spool/bvh-4712.json"
for _ in $(seq 1 100); do [ -f "$spool/done/bvh-4712.json.id" ] && break; sleep 0.05; done
echo "stored as signal $(short "$(cat "$spool/done/bvh-4712.json.id" 2>/dev/null)") (its id is in done/bvh-4712.json.id)"

say "a file with mistakes is set aside with every problem listed (never the BSN); nothing is sent"
printf '{"type": "signal", "category": "drug-recruitment", "weight": 4, "bsn": "123456789", "colour": "red"}' \
	>"$spool/.bvh-4713.json.tmp" && mv "$spool/.bvh-4713.json.tmp" "$spool/bvh-4713.json"
for _ in $(seq 1 100); do [ -f "$spool/rejected/bvh-4713.json.error" ] && break; sleep 0.05; done
sed 's/^/  /' "$spool/rejected/bvh-4713.json.error"
plural() { [ "$1" = 1 ] && echo "1 $2" || echo "$1 ${2}s"; }
echo "drop folder: $(plural "$(ls "$spool/done"/*.json 2>/dev/null | wc -l)" file) stored, $(plural "$(ls "$spool/rejected"/*.json 2>/dev/null | wc -l)" file) set aside"
