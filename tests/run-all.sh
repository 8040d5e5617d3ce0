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
		for t in tests/e2e/test_*.sh; do [ -f "$t" ] && run "e2e/$(basename "$t" .sh)" bash "$t"; done ;;
	esac
done
echo
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
