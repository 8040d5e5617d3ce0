#!/usr/bin/env bash
# Acceptable text (issue 17 item 2): one definition (strict UTF-8, no
# surrogates or overlong forms, no C0/C1 controls except newline and tab in
# multi-line fields), refused at every entry point with an error naming the
# field: the CLI and the node's local socket, involve --file, the spool, the
# wire at the broker (a read receipt's user) — and, because tier text is
# end-to-end encrypted, checked again where the recipient opens it.
. "$(dirname "$0")/lib.sh"

e2e_setup --org police:politie-limburg --org school:school-bonnefanten --org youthcare:jeugdzorg-mh
P=politie-limburg S=school-bonnefanten Y=jeugdzorg-mh
FORGE="$BUILD/tools/sp_forge"
printf '\n[spool]\nin = spool\n' >>"$NET/$P/seinpost.conf"
for p in broker $P $S $Y; do e2e_start "$p" || exit 1; done
BSN=111222333
C1=$'\xc2\x9b'          # U+009B CSI: a C1 control that drives terminals
SURR=$'\xed\xa0\x80'    # U+D800: a surrogate, not UTF-8
OVERLONG=$'\xc0\xaf'    # '/' in two bytes
ESC=$'\x1b'

outbox_n() { sp $P outbox --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }

# --- CLI and local socket: submit ----------------------------------------------
refused() { # description field args... — submit refused, naming the field
	local d=$1 field=$2; shift 2
	local out rc
	out=$(sp $P submit --category drug-recruitment --weight 2 --bsn $BSN "$@" 2>&1); rc=$?
	check "$d: refused (rc=$rc)" test $rc -eq 1
	check "$d: the error names the field '$field'" grep -q "$field: not acceptable text" <<<"$out"
}
refused "C1 control in the summary" summary --summary "Benaderd ${C1}2J"
refused "surrogate in the name" name --name "Jan ${SURR}" --summary ok
refused "overlong form in the contact" contact --contact "a${OVERLONG}b"
refused "ESC in the address" address --address "Straat ${ESC}[31m 1"
refused "newline in a one-line field" contact --contact $'two\nlines'
check "nothing refused reached the outbox" test "$(outbox_n)" = 0
id=$(sp $P submit --category drug-recruitment --weight 2 --bsn $BSN --summary $'line one\n\tline two' \
	--contact "wijkagent — 0900-8844 ✓" --wait=20 2>/dev/null)
check "newline and tab in the summary, and non-ASCII text, are accepted" test ${#id} -eq 32
out=$(sp $P submit --category drug-recruitment --weight 2 --bsn $BSN --summary ok --idempotency-key "k${C1}" 2>&1)
check "a C1 control in the idempotency key is refused, naming it" grep -q "idempotency_key: not acceptable text" <<<"$out"

# --- involve: --ref and --file ---------------------------------------------------
out=$(sp $S involve --bsn $BSN --ref "LL${C1}1" 2>&1); rc=$?
check "involve --ref with a C1 control is refused (rc=$rc)" test $rc -eq 1
check "... naming --ref" grep -q -- "ref" <<<"$out"
printf '%s,LL-1\n%s,LL%s2\n' $BSN 123456782 "$C1" >"$E2E_DIR/class.csv"
out=$(sp $S involve --file "$E2E_DIR/class.csv" 2>&1); rc=$?
check "involve --file with a bad reference is refused (rc=$rc)" test $rc -eq 1
check "... with its line number and the field" grep -q "class.csv:2: reference: not acceptable text" <<<"$out"

# --- spool ----------------------------------------------------------------------
PS="$NET/$P/spool"
drop() { printf '%s' "$2" >"$PS/.$1.tmp" && mv "$PS/.$1.tmp" "$PS/$1"; }
drop c1.json '{"type":"signal","category":"drug-recruitment","weight":2,"bsn":"111222333","summary":"x\u009by"}'
drop nul.json '{"type":"signal","category":"drug-recruitment","weight":2,"bsn":"111222333","contact":"x\u0007y"}'
check "spool: a C1 control in the summary is rejected" e2e_wait_for 20 test -f "$PS/rejected/c1.json.error"
check "... the error names the field" grep -q "field 'summary': not acceptable text: a control character" "$PS/rejected/c1.json.error"
check "spool: a BEL in the contact is rejected" e2e_wait_for 20 test -f "$PS/rejected/nul.json.error"
check "... naming the contact" grep -q "field 'contact'" "$PS/rejected/nul.json.error"
check "spool check says the same without a node" bash -c "'$SEINPOST' spool check '$PS/rejected/c1.json' | grep -q \"field 'summary': not acceptable text\""
check "the spool sent nothing (outbox holds the one good signal)" test "$(outbox_n)" = 1

# --- the recipient: sealed text is checked where it is opened -------------------
v=$("$FORGE" badtext "$NET/$P/seinpost.conf")
check "a forged signal with bad sealed text passes the broker (it cannot look inside: $v)" test "$v" = OK
e2e_wait_for 20 bash -c "[ \$('$SEINPOST' --config '$NET/$Y/seinpost.conf' inbox --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))') -ge 2 ]"
bad=$(sp $Y inbox --json | python3 -c 'import json,sys; ids=[s["id"] for s in json.load(sys.stdin)]; print(*[i for i in ids if i != sys.argv[1]])' "$id")
check "youth care received it" test ${#bad} -eq 32
sp $Y show "$bad" --user hulpverlener.b >"$E2E_DIR/show.out" 2>"$E2E_DIR/show.err"; rc=$?
check "show exits 1 on a signal with bad text (rc=$rc)" test $rc -eq 1
check "show names the withheld fields" grep -q "contact,summary is not acceptable text" "$E2E_DIR/show.err"
check "the C1 control never reaches the terminal" bash -c "! grep -qaF '$C1' '$E2E_DIR/show.out' '$E2E_DIR/show.err'"
check "the surrogate never reaches the terminal" bash -c "! grep -qaF '$SURR' '$E2E_DIR/show.out' '$E2E_DIR/show.err'"
check "the rest of the signal is shown" grep -q "signature verified" "$E2E_DIR/show.out"
js=$(sp $Y show "$bad" --user hulpverlener.b --json 2>/dev/null)
check "show --json lists the withheld fields" python3 -c 'import json,sys; o=json.loads(sys.argv[1]); assert o["withheld"]==["contact","summary"] and "summary" not in o' "$js"
good=$(sp $Y show "$id" --user hulpverlener.b 2>&1); rc=$?
check "a signal with good text shows with exit 0 (rc=$rc)" test $rc -eq 0
check "... newline and tab kept" grep -qP '^\tline two' <<<"$good"

# --- the wire at the broker: a read receipt's user -------------------------------
q=$("$FORGE" false-read "$NET/$Y/seinpost.conf" "$id" "mentor${C1}x")
check "a read receipt with a C1 control in its user is queued at the node ($q)" test "$q" = QUEUED
sp $Y show "$id" --user after.check >/dev/null 2>&1
check "the good read after it reaches the broker's log" e2e_wait_for 30 bash -c "'$SEINPOST' --config '$NET/broker/seinpost.conf' audit log --json | grep -q after.check"
check "the broker refused the bad one" grep -q "read receipt refused" "$E2E_DIR/broker.log"
check "the bad user never entered the broker's audit log" bash -c "! '$SEINPOST' --config '$NET/broker/seinpost.conf' audit log --json | grep -q 'mentor'"

e2e_done
