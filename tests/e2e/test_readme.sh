#!/usr/bin/env bash
# The README runs as written (issue 17 item 8): every ```sh block, in order,
# in a scratch directory that looks like a fresh clone (the sources linked,
# build/ linked to the tree under test, no net/ yet), with PORT set to a free
# port. A block preceded by "<!-- readme-test: skip ... -->" is not run (the
# Quickstart's `make check` would run this test again).
. "$(dirname "$0")/lib.sh"

S=$(mktemp -d "${TMPDIR:-/tmp}/sp-readme-XXXXXX")
cleanup() {
	for f in "$S"/net/*.pid; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null; done
	sleep 0.5
	for f in "$S"/net/*.pid; do [ -f "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null; done
	if [ "${KEEP:-0}" = 1 ]; then echo "kept $S"; else rm -rf "$S"; fi
}
trap cleanup EXIT
for f in "$ROOT"/* "$ROOT"/.ci; do
	case $(basename "$f") in build|build-san|net|demo|class-3b.csv|zvh-referrals.csv|import) continue ;; esac
	ln -s "$f" "$S/$(basename "$f")"
done
ln -s "$BUILD" "$S/build"

python3 - "$ROOT/README.md" "$S/readme.sh" <<'PY'
import re, sys
text = open(sys.argv[1]).read().split("\n")
blocks, i, skip = [], 0, False
while i < len(text):
    line = text[i]
    if line.startswith("<!-- readme-test: skip"):
        skip = True
    elif line.strip() == "```sh":
        j = i + 1
        while text[j].strip() != "```":
            j += 1
        if not skip:
            blocks.append("\n".join(text[i + 1:j]))
        skip = False
        i = j
    elif line.strip():
        skip = False if not line.startswith("<!--") else skip
    i += 1
with open(sys.argv[2], "w") as f:
    f.write("set -e\n")
    for n, b in enumerate(blocks, 1):
        f.write("echo '### README block %d'\n%s\n" % (n, b))
print(len(blocks))
PY
nblocks=$(grep -c '^echo .### README block' "$S/readme.sh")
check "the README has shell blocks to run ($nblocks)" test "$nblocks" -ge 2
PORT=$(e2e_free_port)
t0=$SECONDS
# A make above us (make check SAN=1) must not pass its variables to the
# README's own `make`: a reader types it bare.
(cd "$S" && unset MAKEFLAGS MFLAGS MAKELEVEL && PORT=$PORT timeout 600 bash "$S/readme.sh") >"$S/readme.log" 2>&1
rc=$?
echo "# README blocks ran in $((SECONDS - t0)) s"
check "every README block runs as written (rc=$rc)" test $rc -eq 0
[ $rc -eq 0 ] || tail -40 "$S/readme.log"
check "every block was reached" grep -q "### README block $nblocks" "$S/readme.log"
check "the network used the given port" grep -q "tcp://127.0.0.1:$PORT" "$S/net/broker/seinpost.conf"
check "the school showed the signal's summary" grep -q "Approached for courier work" "$S/readme.log"
check "audit verify said OK" grep -q "audit log OK" "$S/readme.log"
check "the privacy officer's who-saw lists the disclosure to the school" grep -qE "disclosed +school-bonnefanten" "$S/readme.log"
check "the spool file was stored (its id in done/)" grep -qE '^[0-9a-f]{32}$' "$S/net/politie-limburg/spool/done/case-4711.json.id"
check "the class list was registered through the school's spool" bash -c "ls '$S'/net/school-bonnefanten/spool/done/class-3b*.json >/dev/null"
check "the ZVH's hook wrote the referral to its CSV" grep -q "ijam-multi" "$S/import/zvh-referrals.csv"
check "the last block stopped every daemon" e2e_wait_for 20 bash -c "for f in '$S'/net/*.pid; do ! kill -0 \$(cat \$f) 2>/dev/null || exit 1; done"
E2E_DIR=$S/net # e2e_done looks for sanitizer findings in the daemons' logs
e2e_done
