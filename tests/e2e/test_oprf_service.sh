#!/usr/bin/env bash
# e2e: the oblivious pseudonymisation service (role pseudonymiser) with real
# processes, real LMDB, real CURVE: every node gets the same pseudonym for a
# BSN without the service ever seeing it; a bulk sweep beyond the school's
# daily limit is refused and raises the alarm; a swapped key is refused by
# the node's pin; an unreachable service is exit 3, not a wrong answer.
. "$(dirname "$0")/lib.sh"

OPRF_PORT=$(e2e_free_port)
e2e_setup --pseudonymisers 1 --oprf-port "$OPRF_PORT"
SVC="$NET/pseudo-mh"

# Schools: 1,000 per request, 2,000 per day (the service's copy of the policy).
printf '\n[limits school]\noprf_per_day = 2000\noprf_per_request = 1000\n' >>"$SVC/policy.ini"

svc_start() {
	"$SEINPOSTD" --config "$SVC/seinpost.conf" --verbose >>"$E2E_DIR/pseudo-mh.log" 2>&1 &
	PID_pseudo_mh=$!
	E2E_PIDS+=($!)
	for _ in $(seq 1 200); do
		[ "$(grep -c "listening on" "$E2E_DIR/pseudo-mh.log" 2>/dev/null)" -gt "${1:-0}" ] && return 0
		sleep 0.05
	done
	echo "pseudonymiser did not start"; cat "$E2E_DIR/pseudo-mh.log"; return 1
}
svc_start 0 || exit 1

# valid BSNs (elfproef), deterministic
bsns() { python3 -c '
import sys
n, start = int(sys.argv[1]), int(sys.argv[2])
out = 0; x = start
while out < n:
    d = [int(c) for c in "%08d" % x]; x += 1
    s = sum((9 - i) * d[i] for i in range(8)) % 11
    if s == 10: continue
    print("%08d%d" % (int("".join(map(str, d))), s)); out += 1
' "$@"; }

P1=$(sp school-bonnefanten pseudonym 111222333)
check "a node gets a 32-byte pseudonym" test "${#P1}" -eq 64
P2=$(sp politie-limburg pseudonym 111222333)
check "another organisation gets the same network pseudonym" test "$P1" = "$P2"
P3=$(sp fg-mh pseudonym 123456782)
check "another BSN gets another pseudonym" test "$P3" != "$P1"
P4=$(sp school-bonnefanten pseudonym 111222333)
check "the same again (blinds differ, the pseudonym does not)" test "$P4" = "$P1"
sp school-bonnefanten pseudonym 111222334 >/dev/null 2>"$E2E_DIR/err"
check "a BSN failing the elfproef is refused before anything is asked (exit 2)" test $? -eq 2

# The service never saw a BSN or a pseudonym: scan its state and log.
python3 - "$SVC/state" "$E2E_DIR/pseudo-mh.log" "$P1" "$P3" <<'EOF' >"$E2E_DIR/scan" 2>&1
import os, sys
state, log, *ps = sys.argv[1:]
needles = [bytes.fromhex(p) for p in ps] + [p.encode() for p in ps] + [b"111222333", b"123456782"]
blob = b""
for root, _, files in os.walk(state):
    for f in files:
        blob += open(os.path.join(root, f), "rb").read()
blob += open(log, "rb").read()
hits = [n for n in needles if n in blob]
print("hits:", len(hits))
sys.exit(1 if hits else 0)
EOF
check "no BSN and no pseudonym in the service's store or log" test $? -eq 0

check "the service audits every evaluation, per organisation" \
	bash -c "sp() { \"$SEINPOST\" --config \"\$1/seinpost.conf\" \"\${@:2}\"; }; sp '$SVC' audit log | grep -c 'oprf-evaluated school-bonnefanten' | grep -qx 2"

# Bulk: a class list is fine, a sweep is refused and alarmed.
bsns 1500 10000000 >"$E2E_DIR/class.txt"
sp school-bonnefanten pseudonym --batch 1000 --file "$E2E_DIR/class.txt" >"$E2E_DIR/class.out"
check "a list of 1,500 pupils (two requests) is served" test "$(wc -l <"$E2E_DIR/class.out")" -eq 1500
check "pseudonyms of distinct BSNs are distinct" test "$(sort -u "$E2E_DIR/class.out" | wc -l)" -eq 1500
bsns 1000 20000000 >"$E2E_DIR/sweep.txt"
sp school-bonnefanten pseudonym --batch 1000 --file "$E2E_DIR/sweep.txt" >"$E2E_DIR/sweep.out" 2>"$E2E_DIR/sweep.err"
rc=$?
check "a sweep past the daily limit is refused (exit 1)" test $rc -eq 1
check "... with the service's reason" grep -q "daily evaluation limit" "$E2E_DIR/sweep.err"
check "... and nothing printed" test ! -s "$E2E_DIR/sweep.out"
"$SEINPOST" --config "$SVC/seinpost.conf" status >"$E2E_DIR/svc.status"
rc=$?
check "the service's status is unhealthy after the refusal (exit 1)" test $rc -eq 1
check "... naming the organisation and the limit" grep -q "ALARM\|rate limit: school-bonnefanten" "$E2E_DIR/svc.status"
check "the alarm is in the service's journal" grep -q "ALARM: rate limit: school-bonnefanten" "$E2E_DIR/pseudo-mh.log"
check "the refusal is audited" bash -c "'$SEINPOST' --config '$SVC/seinpost.conf' audit log | grep -q 'oprf-refused *school-bonnefanten.*count=1000'"
check "other organisations are not affected" test "$(sp politie-limburg pseudonym 111222333)" = "$P1"
check "the audit log of the service verifies" "$SEINPOST" --config "$SVC/seinpost.conf" audit verify

# A key swapped in the roster (or in the node's config) is caught by the pin.
cp "$NET/jeugdzorg-mh/seinpost.conf" "$E2E_DIR/jz.conf.orig"
sed -i -e '/^key = 0/{s/^key = 0/key = 1/;b' -e '}' -e 's/^key = ./key = 0/' "$NET/jeugdzorg-mh/seinpost.conf"
sp jeugdzorg-mh pseudonym 111222333 >"$E2E_DIR/pin.out" 2>"$E2E_DIR/pin.err"
rc=$?
check "a pinned key that differs from the roster's is refused (exit 1)" test $rc -eq 1
check "... as an alarm" grep -q "ALARM: the roster's OPRF key" "$E2E_DIR/pin.err"
check "... and nothing is asked" test ! -s "$E2E_DIR/pin.out"
cp "$E2E_DIR/jz.conf.orig" "$NET/jeugdzorg-mh/seinpost.conf"

# Unreachable: exit 3 after the node's timeout; back when it is back.
e2e_stop pseudo-mh
echo "timeout_ms = 1500" >>"$NET/jeugdzorg-mh/seinpost.conf"
sp jeugdzorg-mh pseudonym 111222333 >/dev/null 2>"$E2E_DIR/down.err"
check "the service down: exit 3" test $? -eq 3
svc_start 1 || exit 1
check "the service back: the same pseudonym (durable key)" test "$(sp jeugdzorg-mh pseudonym 111222333)" = "$P1"
head -600 "$E2E_DIR/sweep.txt" >"$E2E_DIR/more.txt"
sp school-bonnefanten pseudonym --file "$E2E_DIR/more.txt" >/dev/null 2>&1
check "the day's count survived the restart (1,500 + 600 > 2,000: refused)" test $? -eq 1

e2e_done
