# tests/e2e/lib_faults.sh — helpers for the issue-11 fault scenarios. Source
# after lib.sh.
FORGE="$BUILD/tools/sp_forge"

# Set KEY in [limits] of NAME's config (added when missing).
fl_set() { # name key value
	local f="$NET/$1/seinpost.conf"
	if grep -q "^$2 *=" "$f"; then sed -i "s|^$2 *=.*|$2 = $3|" "$f"
	elif grep -q '^\[limits\]' "$f"; then sed -i "/^\[limits\]/a $2 = $3" "$f"
	else printf '\n[limits]\n%s = %s\n' "$2" "$3" >>"$f"; fi
}

# Start NAME with the test-only clock file $E2E_DIR/clock-NAME (signed
# seconds added to its wall clock; change the file to step the clock live).
fl_start_clock() { # name [offset_s]
	printf '%s\n' "${2:-0}" >"$E2E_DIR/clock-$1"
	SEINPOST_TEST_CLOCK_FILE="$E2E_DIR/clock-$1" e2e_start "$1"
}
fl_clock() { printf '%s\n' "$2" >"$E2E_DIR/clock-$1"; } # name offset_s

fl_alive() { local p; p=$(e2e_pid "$1"); [ -n "$p" ] && kill -0 "$p" 2>/dev/null; }

# Field of one outbox entry (outbox --json): fl_field ORG ID state|reason|code
# (jq: a python start costs seconds on a loaded machine, too slow to poll)
fl_field() {
	sp "$1" outbox --json 2>/dev/null | jq -r --arg id "$2" --arg f "$3" '.[] | select(.id == $id) | .[$f]'
}
fl_state_is() { [ "$(fl_field "$1" "$2" state)" = "$3" ]; } # org id state
