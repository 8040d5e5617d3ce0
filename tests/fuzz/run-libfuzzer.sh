#!/usr/bin/env bash
# Builds every tests/fuzz/fuzz_*.c with libFuzzer + ASan + UBSan (clang) and
# runs each for FUZZ_TIME seconds on a scratch copy of its seed corpus, so
# the committed corpus only changes when someone chooses to add findings.
# Fails when any harness finds a crash; reproducers go to $BUILD/fuzz-artifacts.
# Usage: make fuzz [FUZZ_TIME=60]   or   tests/fuzz/run-libfuzzer.sh [name...]
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
FUZZ_TIME=${FUZZ_TIME:-60}
CLANG=${CLANG:-clang}
PKGS="libsodium libzmq lmdb libprotobuf-c libsystemd inih jansson libcrypto"

command -v "$CLANG" >/dev/null || { echo "fuzz: $CLANG not found (apt-get install clang)"; exit 1; }
[ -f "$BUILD/gen/seinpost.pb-c.c" ] || make --no-print-directory "$BUILD/gen/seinpost.pb-c.h"

out="$BUILD/libfuzzer"
art="$BUILD/fuzz-artifacts"
mkdir -p "$out" "$art"
srcs=()
for f in daemon/*.c daemon/*/*.c; do
	case $f in daemon/seinpostd.c|daemon/cli/seinpost.c) ;; *) srcs+=("$f") ;; esac
done
# shellcheck disable=SC2086
cflags="-g -O1 -std=c11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
 -fno-omit-frame-pointer -Iinclude -I$BUILD/gen -Itests/fuzz $(pkg-config --cflags $PKGS)"
libs="$(pkg-config --libs $PKGS) -lpthread"

names=("$@")
if [ ${#names[@]} -eq 0 ]; then
	for h in tests/fuzz/fuzz_*.c; do n=$(basename "$h" .c); names+=("${n#fuzz_}"); done
fi

failed=()
scratch=$(mktemp -d "${TMPDIR:-/tmp}/sp-fuzz-XXXXXX")
trap 'rm -rf "$scratch"' EXIT
for n in "${names[@]}"; do
	bin="$out/fuzz_$n"
	echo "  CLANG   $bin"
	# shellcheck disable=SC2086
	"$CLANG" $cflags -w -o "$bin" "tests/fuzz/fuzz_$n.c" "${srcs[@]}" "$BUILD/gen/seinpost.pb-c.c" $libs
	mkdir -p "$scratch/$n"
	cp -r "tests/fuzz/corpus/$n/." "$scratch/$n/" 2>/dev/null || true
	echo "  FUZZ    $n for ${FUZZ_TIME}s"
	if "$bin" -max_total_time="$FUZZ_TIME" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$art/${n}-" "$scratch/$n" >"$out/$n.log" 2>&1; then
		grep -E '^stat::number_of_executed_units|^Done' "$out/$n.log" | sed 's/^/        /' || true
	else
		failed+=("$n")
		echo "  FAIL    $n (log: $out/$n.log, reproducer in $art/)"
		tail -n 40 "$out/$n.log" | sed 's/^/        | /'
	fi
done
if [ ${#failed[@]} -gt 0 ]; then
	echo "fuzz: crashes in: ${failed[*]}"
	exit 1
fi
echo "fuzz: no crashes in ${names[*]} (${FUZZ_TIME}s each)"
