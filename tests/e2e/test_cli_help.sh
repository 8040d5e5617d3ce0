#!/usr/bin/env bash
# One CLI (issue 17 items 3, 5, 9): the commands listed in seinpost(1) — read
# from the man page, not from the dispatcher's table — and the commands
# `seinpost help` lists are the same set; every one answers --help, -h and
# `help COMMAND` on stdout with exit 0 and nothing on stderr, and an unknown
# option with exit 2; --version is documented and works; every man page is
# clean under mandoc -T lint -W warning.
. "$(dirname "$0")/lib.sh"
MAN="$ROOT/docs/seinpost.1"
e2e_setup --org police:politie-limburg --org school:school-bonnefanten

check "mandoc is installed (make deps)" bash -c "command -v mandoc >/dev/null"
for page in "$ROOT"/docs/*.[158]; do
	check "mandoc -T lint -W warning: $(basename "$page") is clean" \
		bash -c "out=\$(mandoc -T lint -W warning '$page' 2>&1); [ -z \"\$out\" ] || { echo \"\$out\"; false; }"
done
check "seinpostd(8) has EXIT STATUS and FILES" bash -c "grep -q '^.Sh EXIT STATUS' '$ROOT/docs/seinpostd.8' && grep -q '^.Sh FILES' '$ROOT/docs/seinpostd.8'"
check "seinpost(1) has the exit status table (0 1 2 3)" \
	bash -c "sed -n '/^.Sh EXIT STATUS/,/^.Sh /p' '$MAN' | grep -c '^.It [0-3]$' | grep -qx 4"

# The commands of seinpost(1): ".It Cm word [word]" in COMMANDS, up to the
# first macro or argument.
mapfile -t man_cmds < <(sed -n '/^.Sh COMMANDS/,/^.Sh [^C]/p' "$MAN" | awk '
	/^\.It Cm / { c = ""; for (i = 3; i <= NF; i++) { if ($i !~ /^[a-z][a-z-]*$/) break; c = c (c ? " " : "") $i } print c }' | sort -u)
mapfile -t table_cmds < <("$SEINPOST" help | awk '/^  [a-z]/ { sub(/^  /, ""); split($0, a, /   +/); print a[1] }' | sort -u)
check "seinpost(1) lists commands (${#man_cmds[@]})" test ${#man_cmds[@]} -ge 15
check "seinpost(1) and 'seinpost help' list the same commands" \
	diff <(printf '%s\n' "${man_cmds[@]}") <(printf '%s\n' "${table_cmds[@]}")

for c in "${man_cmds[@]}"; do
	read -ra w <<<"$c"
	for form in "--help" "-h"; do
		out=$("$SEINPOST" --config /nonexistent/seinpost.conf "${w[@]}" $form 2>"$E2E_DIR/err"); rc=$?
		check "'$c $form': exit 0 ($rc), usage on stdout, nothing on stderr" \
			bash -c "[ $rc = 0 ] && grep -q '^usage: seinpost .*$c' <<<\"\$1\" && [ ! -s '$E2E_DIR/err' ]" _ "$out"
	done
	out=$("$SEINPOST" help "${w[@]}" 2>/dev/null); rc=$?
	check "'help $c': exit 0 ($rc) with its usage" bash -c "[ $rc = 0 ] && grep -q '^usage: seinpost .*$c' <<<\"\$1\"" _ "$out"
	"$SEINPOST" --config /nonexistent/seinpost.conf "${w[@]}" --no-such-option >/dev/null 2>&1; rc=$?
	check "'$c --no-such-option': usage error, exit 2 ($rc)" test $rc = 2
done
check "a group word alone lists its commands, exit 2" bash -c "'$SEINPOST' audit 2>&1 >/dev/null | grep 'audit who-saw' >/dev/null; [ \${PIPESTATUS[0]} = 2 ]"
check "'audit --help' lists them on stdout, exit 0" bash -c "'$SEINPOST' audit --help | grep -q 'audit verify'"
"$SEINPOST" no-such-command >/dev/null 2>&1; rc=$?
check "an unknown command: exit 2 ($rc)" test $rc = 2
"$SEINPOST" --no-such-option >/dev/null 2>&1; rc=$?
check "an unknown global option: exit 2 ($rc)" test $rc = 2
check "'seinpost --help': exit 0, mentions --version and the exit codes" \
	bash -c "out=\$('$SEINPOST' --help) && grep -q -- --version <<<\"\$out\" && grep -q '3 cannot reach the daemon' <<<\"\$out\""
check "'seinpost --version' prints the version" bash -c "'$SEINPOST' --version | grep -qE '^seinpost [0-9]+\\.[0-9]+'"
check "--version is in seinpost(1)" grep -q 'Fl -version' "$MAN"
check "'seinpostd --help': exit 0 on stdout" bash -c "'$SEINPOSTD' --help | grep -q 'usage: seinpostd'"
check "'seinpostd --version'" bash -c "'$SEINPOSTD' --version | grep -qE '^seinpostd [0-9]'"
check "--version is in seinpostd(8)" grep -q 'Fl -version' "$ROOT/docs/seinpostd.8"

# Exit 3: a node command whose daemon is not running (it ran once: state exists).
for p in broker politie-limburg school-bonnefanten; do e2e_start $p || exit 1; done
e2e_stop_all
for c in "submit --category drug-recruitment --bsn 111222333" "involve --bsn 111222333" "uninvolve --bsn 111222333"; do
	sp politie-limburg $c >/dev/null 2>&1; rc=$?
	check "'$c' with the node stopped: exit 3 ($rc)" test $rc = 3
done
printf '111222333,A\n' >"$E2E_DIR/l.csv"
sp school-bonnefanten involve --file "$E2E_DIR/l.csv" >/dev/null 2>&1; rc=$?
check "'involve --file' with the node stopped: exit 3 ($rc)" test $rc = 3
sp politie-limburg outbox >/dev/null 2>&1; rc=$?
check "a command that reads the state works with the node stopped (outbox, $rc)" test $rc = 0
"$SEINPOST" --config "$NET/broker/seinpost.conf" submit --category x --bsn 111222333 >/dev/null 2>&1; rc=$?
check "a node command on a broker configuration: usage, exit 2 ($rc)" test $rc = 2
e2e_done
