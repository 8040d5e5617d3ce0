#!/usr/bin/env bash
# --check-config runs every check start-up runs (issue 17 items 6, 7): a
# secret key or the pseudonymisation key with a loose mode, a box key in the
# broker's key directory, a missing key, a roster signed by someone else —
# each fails --check-config exactly as it fails the start, naming the file,
# its mode and the mode required. A directory given as --config says so;
# log = journal without a journal falls back to stderr.
. "$(dirname "$0")/lib.sh"

e2e_setup --org police:politie-limburg --org school:school-bonnefanten
P="$NET/politie-limburg" B="$NET/broker"
cc() { "$SEINPOSTD" --config "$1/seinpost.conf" --check-config; }
starts() { # conf-dir — run the daemon; 0 when it is still running after 2 s
	"$SEINPOSTD" --config "$1/seinpost.conf" >"$E2E_DIR/start.out" 2>&1 &
	local pid=$!
	sleep 2
	if kill -0 $pid 2>/dev/null; then kill $pid; wait $pid; return 0; fi
	wait $pid; return 1
}
check "a fresh node configuration is OK" bash -c "'$SEINPOSTD' --config '$P/seinpost.conf' --check-config | grep -q 'configuration OK'"
check "a fresh broker configuration is OK" bash -c "'$SEINPOSTD' --config '$B/seinpost.conf' --check-config | grep -q 'configuration OK'"

for f in keys/sign.key keys/curve.key keys/box.key pseudo.key; do
	chmod 0644 "$P/$f"
	out=$(cc "$P" 2>&1); rc=$?
	check "$f at 0644: --check-config fails (rc=$rc)" test $rc = 1
	check "... naming the file, its mode and the mode required" grep -q "$f: mode 0644; a secret key must be 0600 or stricter" <<<"$out"
	starts "$P"; rc=$?
	check "... and the daemon refuses to start with the same words (rc=$rc)" \
		bash -c "[ $rc = 1 ] && grep -q '$f: mode 0644' '$E2E_DIR/start.out'"
	chmod 0600 "$P/$f"
done
chmod 0640 "$B/keys/sign.key"
out=$(cc "$B" 2>&1)
check "broker sign.key at 0640: refused, naming it" grep -q "sign.key: mode 0640" <<<"$out"
chmod 0600 "$B/keys/sign.key"
cp "$P/keys/box.key" "$B/keys/box.key"
out=$(cc "$B" 2>&1); rc=$?
check "a box key in the broker's key directory fails --check-config (rc=$rc)" bash -c "[ $rc = 1 ] && grep -q 'must never hold a content key' <<<\"\$1\"" _ "$out"
rm -f "$B/keys/box.key"
mv "$P/keys/sign.key" "$E2E_DIR/sign.key"
out=$(cc "$P" 2>&1)
check "a missing sign.key is named" grep -q "sign.key: missing" <<<"$out"
mv "$E2E_DIR/sign.key" "$P/keys/sign.key"
cp "$P/roster.bin" "$E2E_DIR/roster.bin"
printf 'x' >>"$P/roster.bin"
out=$(cc "$P" 2>&1); rc=$?
check "a damaged roster fails --check-config (rc=$rc)" bash -c "[ $rc = 1 ] && grep -q 'roster' <<<\"\$1\"" _ "$out"
cp "$E2E_DIR/roster.bin" "$P/roster.bin"
check "restored: OK again" bash -c "'$SEINPOSTD' --config '$P/seinpost.conf' --check-config >/dev/null"

out=$("$SEINPOSTD" --config "$P" --check-config 2>&1); rc=$?
check "a directory as --config: exit 1, says it is a directory (rc=$rc)" bash -c "[ $rc = 1 ] && grep -q 'is a directory, not a configuration file' <<<\"\$1\"" _ "$out"
out=$("$SEINPOST" --config "$P" outbox 2>&1)
check "... the CLI says the same" grep -q "is a directory" <<<"$out"

if [ -S /run/systemd/journal/socket ]; then
	ok "log = journal fallback: skipped (this machine has a journal)"
else
	sed -i 's/^log = .*/log = journal/' "$P/seinpost.conf"
	e2e_start broker && e2e_start politie-limburg
	check "log = journal without a journal: the node says so on stderr" \
		e2e_wait_for 10 grep -q "no journal (/run/systemd/journal/socket missing); logging to stderr" "$E2E_DIR/politie-limburg.log"
	check "... and its lines follow on stderr" e2e_wait_for 10 grep -q "seinpostd\[" "$E2E_DIR/politie-limburg.log"
fi
e2e_done
