#!/usr/bin/env bash
# Descriptor exhaustion before authentication (issue 12 item 6). The broker
# runs with a low descriptor limit (ulimit -n 128, soft and hard); a stranger
# opens twice as many idle TCP connections and sends nothing. What holds:
#  - an already-connected node keeps exchanging signals during the flood;
#  - the broker closes connections that do not finish the CURVE handshake
#    within [limits] handshake_s (here 3 s), so the flood's descriptors come
#    back and a rostered node that starts during the flood connects.
# What does not hold without a firewall: a stranger that reconnects as fast
# as it is dropped competes with partners for every freed descriptor; the
# allow-list of partner addresses (docs/threat-model.md) is the answer.
. "$(dirname "$0")/lib.sh"

e2e_setup --org police:politie-limburg --org youthcare:jeugdzorg-mh
P=politie-limburg Y=jeugdzorg-mh
LIMIT=128 FLOOD=256
sed -i "/^\[limits\]/a handshake_s = 3" "$NET/broker/seinpost.conf"
grep -q '^handshake_s = 3' "$NET/broker/seinpost.conf" || printf '\n[limits]\nhandshake_s = 3\n' >>"$NET/broker/seinpost.conf"
(ulimit -n $LIMIT; exec "$SEINPOSTD" --config "$NET/broker/seinpost.conf" --verbose) >>"$E2E_DIR/broker.log" 2>&1 &
PID_broker=$!
E2E_PIDS+=($!)
for _ in $(seq 1 100); do grep -q "listening on" "$E2E_DIR/broker.log" 2>/dev/null && break; sleep 0.05; done
check "the broker runs with $LIMIT descriptors" bash -c "grep -q '^Max open files *$LIMIT ' /proc/$PID_broker/limits"
e2e_start $P || exit 1
id=$(sp $P submit --category drug-recruitment --weight 2 --bsn 111222333 --summary "voor" --wait=15 2>/dev/null)
check "before the flood: a signal is accepted" test ${#id} -eq 32

# The stranger: FLOOD idle connections, held 40 s; reports how many the
# broker closed within 12 s (each one it accepted and then dropped).
"$SYSPY" - "$E2E_PORT" "$FLOOD" >"$E2E_DIR/flood.out" 2>&1 <<'PY' &
import resource, select, socket, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, n + 64)), hard))
socks = []
for _ in range(n):
    s = socket.socket()
    s.setblocking(False)
    try:
        s.connect(("127.0.0.1", port))
    except BlockingIOError:
        pass
    socks.append(s)
print("opened", len(socks), flush=True)
start, closed, seen = time.time(), 0, set()
while time.time() - start < 40:
    r, _, _ = select.select([s for s in socks if s.fileno() not in seen], [], [], 0.5)
    for s in r:
        try:
            if s.recv(64) == b"":
                raise ConnectionResetError
        except (ConnectionResetError, BrokenPipeError, OSError):
            seen.add(s.fileno())
            closed += 1
    if time.time() - start >= 12 and not hasattr(sys, "reported"):
        print("closed-by-broker-within-12s", closed, flush=True)
        sys.reported = True
print("done", closed, flush=True)
PY
FPID=$!
E2E_PIDS+=($FPID)
check "the flood is under way" e2e_wait_for 10 grep -q "^opened $FLOOD" "$E2E_DIR/flood.out"
sleep 2
fds=$(ls /proc/$PID_broker/fd 2>/dev/null | wc -l)
check "the broker's descriptors run out ($fds of $LIMIT)" test "$fds" -ge $((LIMIT - 8))
id2=$(sp $P submit --category drug-recruitment --weight 2 --bsn 111222333 --summary "tijdens" --wait=20 2>/dev/null)
check "during the flood: the connected node's signal is accepted" test ${#id2} -eq 32
e2e_start $Y || exit 1
check "during the flood: a rostered node that starts now connects and receives" \
	e2e_wait_for 60 bash -c "'$SEINPOST' --config '$NET/$Y/seinpost.conf' inbox | grep -q '$id2'"
check "the broker closed idle connections within its handshake timeout" \
	e2e_wait_for 20 bash -c "awk '/closed-by-broker-within-12s/ { exit !(\$2 >= 32) }' '$E2E_DIR/flood.out' && grep -q closed-by-broker '$E2E_DIR/flood.out'"
cat "$E2E_DIR/flood.out"
check "the broker is still running" kill -0 $PID_broker
kill $FPID 2>/dev/null
e2e_done
