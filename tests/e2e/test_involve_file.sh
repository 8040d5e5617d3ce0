#!/usr/bin/env bash
# involve --file at scale (issue 17 item 1): 100,000 three-column lines
# (BSN,REF,DATE) register, batched by bytes under the local request limit
# (batches by item count once failed at 1,900 such lines); on a terminal
# (a pty from script(1)) progress goes to stderr with lines checked,
# registered, rate and ETA; without a terminal, or with --quiet, nothing.
. "$(dirname "$0")/lib.sh"

e2e_setup --org police:politie-limburg --org school:school-bonnefanten
S=school-bonnefanten
for p in broker politie-limburg $S; do e2e_start "$p" || exit 1; done
F="$E2E_DIR/roster.csv"
python3 "$ROOT/tests/bench/gen_bsn.py" 100000 | sed 's/$/,2030-06-30/' >"$F"
check "the file has 100,000 three-column lines" bash -c "[ \$(wc -l <'$F') = 100000 ] && [ \$(head -1 '$F' | tr -cd , | wc -c) = 2 ]"
last=$(tail -1 "$F" | cut -d, -f1)

t0=$SECONDS
script -qfec "'$SEINPOST' --config '$NET/$S/seinpost.conf' involve --file '$F'" "$E2E_DIR/tty.log" >/dev/null 2>&1
rc=$?
echo "# 100,000 lines on a pty: $((SECONDS - t0)) s"
check "100,000 lines register on a terminal (rc=$rc)" test $rc -eq 0
tr '\r' '\n' <"$E2E_DIR/tty.log" >"$E2E_DIR/tty.txt"
check "progress shows lines checked" grep -q "lines checked" "$E2E_DIR/tty.txt"
check "progress shows registered of total and a rate" grep -qE "[0-9]+ of 100000 registered, [0-9]+/s" "$E2E_DIR/tty.txt"
check "progress shows an ETA" grep -qE "ETA [0-9]+ s" "$E2E_DIR/tty.txt"
check "the final line counts all 100,000" grep -q "100000 of 100000 registered" "$E2E_DIR/tty.txt"
check "the summary says 100000 stored" grep -q "100000 involvements from .* stored" "$E2E_DIR/tty.txt"
check "no BSN on the terminal" bash -c "! grep -q '$last' '$E2E_DIR/tty.txt'"

head -3000 "$F" >"$E2E_DIR/small.csv"
script -qfec "'$SEINPOST' --config '$NET/$S/seinpost.conf' involve --quiet --file '$E2E_DIR/small.csv'" "$E2E_DIR/quiet.log" >/dev/null 2>&1
check "--quiet on a terminal: no progress, no summary" bash -c "[ \$(tr -d '\r\n' <'$E2E_DIR/quiet.log' | wc -c) = 0 ] || ! grep -q 'registered' '$E2E_DIR/quiet.log'"

sp $S involve --file "$F" --json >"$E2E_DIR/json.out" 2>"$E2E_DIR/json.err"; rc=$?
check "again without a terminal, --json (harmless repeat, rc=$rc)" test $rc -eq 0
check "no progress when stderr is not a terminal" test ! -s "$E2E_DIR/json.err"
check "--json counts 100,000 registered" python3 -c 'import json,sys; o=json.load(open(sys.argv[1])); assert o["registered"]==100000 and o["lines_checked"]==100000 and o["ok"] is True, o' "$E2E_DIR/json.out"

id=$(sp politie-limburg submit --category drug-recruitment --weight 2 --bsn "$last" --summary "bulk" --contact "wijkagent" --wait=20)
check "the last pupil of the file is registered: the school receives a signal about them" \
	e2e_wait_for 60 bash -c "'$SEINPOST' --config '$NET/$S/seinpost.conf' inbox | grep '$id' | grep -q 'ref LL-99999'"
e2e_done
