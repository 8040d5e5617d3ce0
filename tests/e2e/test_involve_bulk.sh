#!/usr/bin/env bash
# Bulk involvement (`seinpost involve --file`, issue #6): a school registers
# its roster in one command. A file with a bad line registers nothing and
# names the line without echoing the BSN; a good file of 3,000 lines is
# stored in batches and reaches the broker, so a signal about one of the
# pupils is released to the school with the school's own reference.
. "$(dirname "$0")/lib.sh"

e2e_setup --org police:politie-limburg --org school:school-bonnefanten
for p in broker politie-limburg school-bonnefanten; do e2e_start "$p" || exit 1; done

GOOD="$E2E_DIR/roster.csv" BAD="$E2E_DIR/bad.csv"
python3 "$ROOT/tests/bench/gen_bsn.py" 3000 >"$GOOD"
X=$(python3 "$ROOT/tests/bench/gen_bsn.py" 1 50000000 | cut -d, -f1) # not in the good file
printf '# roster export\n%s,LL-X\n123456789,LL-BAD\n%s,LL-D,2031-02-30\n' "$X" "$X" >"$BAD"

sp school-bonnefanten involve --file "$BAD" >"$E2E_DIR/bad.out" 2>&1
check "a file with bad lines is refused (exit 1)" test $? -eq 1
check "the error names file and line 3" grep -q "bad.csv:3: invalid BSN" "$E2E_DIR/bad.out"
check "the error names line 4 (date)" grep -q "bad.csv:4: invalid end date" "$E2E_DIR/bad.out"
check "the error says nothing was registered" grep -q "nothing was registered" "$E2E_DIR/bad.out"
check "the error never echoes a BSN" bash -c "! grep -qE '123456789|$X' '$E2E_DIR/bad.out'"

echo "111222333,LL-7,2030-06-30" >>"$GOOD"
check "a 3,001-line file is registered" sp school-bonnefanten involve --file "$GOOD"
id=$(sp politie-limburg submit --category drug-recruitment --weight 2 --bsn 111222333 \
	--summary "bulk test" --contact "wijkagent" --wait=10)
check "police submit about a bulk-registered pupil" test ${#id} -eq 32
check "the school receives it (if-involved released) with its own reference" \
	e2e_wait_for 40 bash -c "'$SEINPOST' --config '$NET/school-bonnefanten/seinpost.conf' inbox | grep '$id' | grep -q 'ref LL-7'"
idx=$(sp politie-limburg submit --category drug-recruitment --weight 2 --bsn "$X" \
	--summary "bulk test" --contact "wijkagent" --wait=10)
check "a pupil only in the refused file: the school receives nothing" \
	bash -c "sleep 2; ! '$SEINPOST' --config '$NET/school-bonnefanten/seinpost.conf' inbox | grep -q '$idx'"
check "the same file again is harmless" sp school-bonnefanten involve --file "$GOOD"
check "no BSN in any process log" bash -c "! grep -qE '111222333|$X' '$E2E_DIR'/*.log"
e2e_done
