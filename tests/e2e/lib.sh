# tests/e2e/lib.sh — shared helpers for end-to-end scenarios: real seinpostd
# processes on loopback, real LMDB, real CURVE. Source it; call e2e_setup.
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
SEINPOST="$BUILD/seinpost"
SEINPOSTD="$BUILD/seinpostd"
E2E_PIDS=()
E2E_FAILS=0
E2E_PASSES=0

# A free TCP port on 127.0.0.1, with the next three free too: a network with
# a pseudonymisation service puts its instances on the ports after the
# broker's (net init --pseudonymisers), and another process on one of those
# would make a start fail at random.
e2e_free_port() {
	python3 "$ROOT/tests/tools/free_ports.py" 4
}

e2e_setup() { # [net init args...]
	E2E_DIR=$(mktemp -d "${TMPDIR:-/tmp}/sp-e2e-XXXXXX")
	E2E_PORT=$(e2e_free_port)
	trap e2e_teardown EXIT
	"$SEINPOST" net init "$E2E_DIR/net" --port "$E2E_PORT" --policy "$ROOT/deploy/policy.example" "$@" >"$E2E_DIR/netinit.log" \
		|| { cat "$E2E_DIR/netinit.log"; echo "net init failed"; exit 1; }
	NET="$E2E_DIR/net"
}

e2e_teardown() {
	e2e_stop_all
	if [ "${KEEP:-0}" = 1 ]; then echo "kept $E2E_DIR"; else rm -rf "$E2E_DIR"; fi
}

# Start one process (broker or org id); its log is $E2E_DIR/<name>.log
e2e_start() { # name
	local name=$1
	"$SEINPOSTD" --config "$NET/$name/seinpost.conf" --verbose >>"$E2E_DIR/$name.log" 2>&1 &
	eval "PID_${name//[-.]/_}=$!"
	E2E_PIDS+=($!)
	if [ "$name" != broker ]; then
		# ready when the submit socket exists
		for _ in $(seq 1 100); do [ -S "$NET/$name/state/submit.sock" ] && return 0; sleep 0.05; done
		echo "node $name did not start"; cat "$E2E_DIR/$name.log"; return 1
	else
		for _ in $(seq 1 100); do grep -q "listening on" "$E2E_DIR/broker.log" 2>/dev/null && return 0; sleep 0.05; done
		echo "broker did not start"; cat "$E2E_DIR/broker.log"; return 1
	fi
}

e2e_pid() { local v="PID_${1//[-.]/_}"; echo "${!v:-}"; }

e2e_stop() { # name [signal]
	local pid; pid=$(e2e_pid "$1")
	[ -n "$pid" ] || return 0
	kill "-${2:-TERM}" "$pid" 2>/dev/null
	for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	eval "PID_${1//[-.]/_}="
	return 0
}

e2e_stop_all() {
	for pid in "${E2E_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
	for pid in "${E2E_PIDS[@]}"; do
		for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
		kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
	done
	E2E_PIDS=()
}

sp() { # org args... — run the CLI with that org's config
	local org=$1; shift
	"$SEINPOST" --config "$NET/$org/seinpost.conf" "$@"
}

# Wait until a command succeeds (default 10 s).
e2e_wait_for() { # seconds cmd... — wall-clock bound: a slow cmd (a status
	# call timing out against a dead daemon) must not stretch the wait
	local end=$((SECONDS + $1)); shift
	while :; do
		"$@" >/dev/null 2>&1 && return 0
		[ "$SECONDS" -ge "$end" ] && return 1
		sleep 0.1
	done
}

ok()   { E2E_PASSES=$((E2E_PASSES + 1)); echo "ok   - $*"; }
fail() { E2E_FAILS=$((E2E_FAILS + 1)); echo "FAIL - $*"; }
check() { # description cmd... — passes when cmd succeeds
	local d=$1; shift
	if "$@"; then ok "$d"; else fail "$d"; fi
}

e2e_done() {
	# Under SAN=1 the daemons report sanitizer findings in their logs.
	if grep -lE "ERROR: (Address|Leak)Sanitizer|runtime error:" "$E2E_DIR"/*.log 2>/dev/null; then
		fail "sanitizer findings in the process logs above"
	fi
	echo "$E2E_PASSES passed, $E2E_FAILS failed"
	[ "$E2E_FAILS" -eq 0 ]
}

# The Debian python3 (python3-zmq, python3-nacl, python3-lmdb from DEB_PKGS)
# for attacks played as an outsider; another python3 first in PATH (pyenv)
# does not see Debian's modules.
SYSPY=/usr/bin/python3
[ -x "$SYSPY" ] || SYSPY=python3
