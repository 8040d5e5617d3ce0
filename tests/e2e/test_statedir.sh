#!/usr/bin/env bash
# One daemon per state directory, and clear start-up failures: a second
# seinpostd on the same configuration is refused ("already running (pid N)")
# and leaves the first one's submit socket alone; a state directory that
# cannot be created says why (errno text); a port in use gives one clear
# line, not a second "Invalid argument".
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_delivery.sh"

dl_setup
for p in broker $DL_SENDER jeugdzorg-mh zvh-mh; do dl_start "$p" || exit 1; done
PID=$(e2e_pid $DL_SENDER)

# --- a second node on the same configuration --------------------------------
timeout 20 "$SEINPOSTD" --config "$NET/$DL_SENDER/seinpost.conf" >"$E2E_DIR/second.out" 2>&1; rc=$?
cat "$E2E_DIR/second.out"
check "a second node on the same state exits 1 (rc=$rc)" test $rc -eq 1
check "it says the first one runs, with its pid" grep -q "already running (pid $PID)" "$E2E_DIR/second.out"
check "the first node's submit socket is still there" test -S "$NET/$DL_SENDER/state/submit.sock"
check "the first node is still running" kill -0 "$PID"
dl_load $DL_SENDER -n 20 -o "$E2E_DIR/ids.txt" 2>"$E2E_DIR/load.err"
check "the first node still takes submits (20 ids)" test "$(wc -l <"$E2E_DIR/ids.txt")" -eq 20
check "and delivers them" dl_wait_drained 30

# --- a second broker ----------------------------------------------------------
BPID=$(e2e_pid broker)
timeout 20 "$SEINPOSTD" --config "$NET/broker/seinpost.conf" >"$E2E_DIR/second-broker.out" 2>&1; rc=$?
check "a second broker on the same state exits 1 with the pid (rc=$rc)" \
	bash -c "[ $rc -eq 1 ] && grep -q 'already running (pid $BPID)' '$E2E_DIR/second-broker.out'"

# --- a broker on another state but the same port -------------------------------
sed "s|^state *=.*|state = $E2E_DIR/other-state|" "$NET/broker/seinpost.conf" >"$NET/broker/port.conf"
timeout 20 "$SEINPOSTD" --config "$NET/broker/port.conf" >"$E2E_DIR/port.out" 2>&1; rc=$?
cat "$E2E_DIR/port.out"
check "a port in use: exit 1 (rc=$rc)" test $rc -eq 1
check "a port in use: one clear line" grep -q "cannot listen on tcp://.*Address already in use" "$E2E_DIR/port.out"
check "a port in use: no confusing 'Invalid argument'" bash -c "! grep -q 'Invalid argument' '$E2E_DIR/port.out'"

# --- a state directory that cannot be created ---------------------------------
: >"$E2E_DIR/afile"
sed "s|^state *=.*|state = $E2E_DIR/afile/state|" "$NET/zvh-mh/seinpost.conf" >"$NET/zvh-mh/bad.conf"
timeout 20 "$SEINPOSTD" --config "$NET/zvh-mh/bad.conf" >"$E2E_DIR/mkdir.out" 2>&1; rc=$?
cat "$E2E_DIR/mkdir.out"
check "an uncreatable state directory: exit 1 with the errno text (rc=$rc)" \
	bash -c "[ $rc -eq 1 ] && grep -q 'cannot create state directory .*afile/state: Not a directory' '$E2E_DIR/mkdir.out'"

# --- the lock goes with the process (kill -9 too) -----------------------------
e2e_stop $DL_SENDER KILL
check "after kill -9 the node starts again on the same state" dl_crash $DL_SENDER
e2e_stop_all
e2e_done
