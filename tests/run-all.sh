#!/usr/bin/env bash
# Runs the test suites: unit (Check), fuzz corpus replay, e2e (real processes).
# Usage: tests/run-all.sh [unit|fuzz|e2e]...   (default: all)
# Prints a closing line "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export BUILD
# Check's default per-test timeout (4 s) is a speed goal in disguise: on a
# loaded 2-core machine a key-derivation test can take longer. Speed goals
# live in 'make bench'; here a timeout only catches a hang.
export CK_DEFAULT_TIMEOUT=${CK_DEFAULT_TIMEOUT:-120}
what=("$@")
[ ${#what[@]} -eq 0 ] && what=(unit fuzz e2e)
pass=0 fail=0 failed=()

run() { # name cmd...
	local name=$1; shift
	local log="$BUILD/test-logs/$name.log"
	mkdir -p "$(dirname "$log")"
	local t0=$SECONDS
	if "$@" >"$log" 2>&1; then
		pass=$((pass + 1)); printf '  PASS  %-40s %3ss\n' "$name" $((SECONDS - t0))
	else
		fail=$((fail + 1)); failed+=("$name"); printf '  FAIL  %-40s %3ss  (log: %s)\n' "$name" $((SECONDS - t0)) "$log"
		tail -n 30 "$log" | sed 's/^/        | /'
	fi
}

# e2e tests run E2E_JOBS at a time (default 2; 1 under the sanitizers, see
# the Makefile): each runs its own network on free ports in its own
# directory, and most of a test's time is waiting for processes. Tests that
# load the machine on purpose or measure it run alone (SERIAL).
E2E_JOBS=${E2E_JOBS:-2}
SERIAL=" test_delivery_fault test_delivery_burst test_store_readers test_hostile_flood "
report() { # name — print and count a test that ran in the background
	local name=$1 log="$BUILD/test-logs/$1.log" rc secs
	read -r rc secs <"$log.rc"
	rm -f "$log.rc"
	if [ "$rc" -eq 0 ]; then
		pass=$((pass + 1)); printf '  PASS  %-40s %3ss\n' "$name" "$secs"
	else
		fail=$((fail + 1)); failed+=("$name"); printf '  FAIL  %-40s %3ss  (log: %s)\n' "$name" "$secs" "$log"
		tail -n 30 "$log" | sed 's/^/        | /'
	fi
}
reap() { # wait until fewer than $1 tests run; report the finished ones
	local keep=() n
	while [ ${#running[@]} -ge "$1" ]; do
		wait -n 2>/dev/null || true
		keep=()
		for n in "${running[@]}"; do
			if [ -f "$BUILD/test-logs/$n.log.rc" ]; then report "$n"; else keep+=("$n"); fi
		done
		running=("${keep[@]}")
	done
}
e2e_pool() {
	local t name base
	running=()
	for t in tests/e2e/test_*.sh; do
		[ -f "$t" ] || continue
		base=$(basename "$t" .sh); name="e2e/$base"
		mkdir -p "$BUILD/test-logs/e2e"
		rm -f "$BUILD/test-logs/$name.log.rc"
		if [[ $SERIAL == *" $base "* ]]; then
			reap 1
			run "$name" bash "$t"
			continue
		fi
		reap "$E2E_JOBS"
		( t0=$SECONDS; bash "$t" >"$BUILD/test-logs/$name.log" 2>&1; echo "$? $((SECONDS - t0))" >"$BUILD/test-logs/$name.log.rc.tmp"
		  mv "$BUILD/test-logs/$name.log.rc.tmp" "$BUILD/test-logs/$name.log.rc" ) &
		running+=("$name")
	done
	reap 1
}

for w in "${what[@]}"; do
	case $w in
	unit)
		for t in "$BUILD"/tests/test_*; do [ -x "$t" ] && run "unit/$(basename "$t")" "$t"; done ;;
	fuzz)
		for f in "$BUILD"/fuzz/fuzz_*; do
			[ -x "$f" ] || continue
			n=$(basename "$f"); run "fuzz/$n" "$f" "tests/fuzz/corpus/${n#fuzz_}"
		done ;;
	e2e)
		if [ "$E2E_JOBS" -le 1 ]; then
			for t in tests/e2e/test_*.sh; do [ -f "$t" ] && run "e2e/$(basename "$t" .sh)" bash "$t"; done
		else
			e2e_pool
		fi ;;
	esac
done
echo
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
