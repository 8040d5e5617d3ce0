#!/usr/bin/env bash
# Spool ingestion (issue #7): a partner system drops JSON files into the
# node's spool directory. A valid file becomes a delivered signal and goes to
# done/ with its id; each malformed kind goes to rejected/ beside a .error
# naming the field and reason (never the BSN) and nothing reaches the broker;
# the same file twice is one signal, also across a restart; files dropped
# while the node was down are picked up; an involvement file registers
# involvements; temporary names are never read.
. "$(dirname "$0")/lib.sh"

e2e_setup --org police:politie-limburg --org school:school-bonnefanten --org youthcare:jeugdzorg-mh \
          --org police:politie-zuid
P=politie-limburg S=school-bonnefanten Z=politie-zuid
for o in $P $S $Z; do printf '\n[spool]\nin = spool\n' >>"$NET/$o/seinpost.conf"; done
# The police spool is replaced while the node runs (below): under the node's
# Landlock sandbox a directory made after start is reachable only below a
# directory that existed then and is not on the way to keys/ (docs/privsep.md),
# as /var/spool/seinpost/NAME is in production.
mkdir -p "$E2E_DIR/spools"
sed -i "s|^in = spool$|in = $E2E_DIR/spools/$P|" "$NET/$P/seinpost.conf"
map_mb() { # org MiB
	local f="$NET/$1/seinpost.conf"
	if grep -q '^map_size_mb' "$f"; then sed -i "s|^map_size_mb *=.*|map_size_mb = $2|" "$f"
	else sed -i "/^\[limits\]/a map_size_mb = $2" "$f"; fi
}
PS="$E2E_DIR/spools/$P" SS="$NET/$S/spool"
BSN=111222333 BAD_BSN=123456789 B2=123456782

outbox_n() { sp $P outbox --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }
# signals the broker took in (accepted or rejected); reads and deliveries do not count
broker_n() { sp broker audit log --json | python3 -c 'import json,sys; print(sum(r["event"] in ("submitted","rejected") for r in json.load(sys.stdin)))'; }
drop() { # dir name json — write-then-rename, as documented
	printf '%s' "$3" >"$1/.$2.tmp" && mv "$1/.$2.tmp" "$1/$2"
}
signal() { # extra json members
	printf '{"type":"signal","category":"drug-recruitment","weight":2,"bsn":"%s","summary":"Benaderd voor koerierswerk","contact":"wijkagent 0900-8844"%s}' "$BSN" "${1:-}"
}

# --- files dropped while the node is down are picked up at start ------------
mkdir -p "$PS" "$SS"
drop "$PS" early.json "$(signal ',"idempotency_key":"early-1"')"
for p in broker $P $S jeugdzorg-mh; do e2e_start "$p" || exit 1; done
check "a file present before start is imported" e2e_wait_for 10 test -f "$PS/done/early.json"
check "done/ and rejected/ were created 0750" bash -c "[ \$(stat -c %a '$PS/done') = 750 ] && [ \$(stat -c %a '$PS/rejected') = 750 ]"
early=$(cat "$PS/done/early.json.id" 2>/dev/null)
check "done/NAME.json.id holds the signal id ($early)" test ${#early} -eq 32

# --- a valid file becomes a delivered signal --------------------------------
drop "$PS" case-1.json "$(signal)"
check "the valid file moves to done/" e2e_wait_for 10 test -f "$PS/done/case-1.json"
id=$(cat "$PS/done/case-1.json.id" 2>/dev/null)
check "its id is recorded ($id)" test ${#id} -eq 32
check "the spool directory itself is empty again" bash -c "[ -z \"\$(find '$PS' -maxdepth 1 -type f)\" ]"
check "youth care receives the spooled signal" \
	e2e_wait_for 10 bash -c "'$SEINPOST' --config '$NET/jeugdzorg-mh/seinpost.conf' inbox --json | grep -q '$id'"
check "youth care can open its summary" bash -c "sp() { '$SEINPOST' --config '$NET/jeugdzorg-mh/seinpost.conf' \"\$@\"; }; sp show $id --user hulpverlener | grep -q 'Benaderd voor koerierswerk'"
e2e_wait_for 10 bash -c "sp() { '$SEINPOST' --config '$NET/$P/seinpost.conf' \"\$@\"; }; sp outbox | grep -q '$id.*accepted'"
check "the broker accepted it" bash -c "'$SEINPOST' --config '$NET/$P/seinpost.conf' outbox | grep -q '$id.*accepted'"

# --- the same file twice: one signal -----------------------------------------
n0=$(outbox_n)
drop "$PS" case-1-again.json "$(signal)"
check "the same bytes again go to done/" e2e_wait_for 10 test -f "$PS/done/case-1-again.json"
check "... with the first signal's id" test "$(cat "$PS/done/case-1-again.json.id" 2>/dev/null)" = "$id"
drop "$PS" case-1.json "$(signal)"
check "the same name and bytes again: done again" e2e_wait_for 10 bash -c "[ ! -f '$PS/case-1.json' ]"
check "no new signal in the outbox ($(outbox_n) = $n0)" test "$(outbox_n)" = "$n0"

# --- malformed kinds: rejected with a specific error, nothing sent -----------
nb=$(broker_n); n0=$(outbox_n)
drop "$PS" bad-json.json '{"type":"signal","category":"drug-recruitment",'
drop "$PS" missing.json '{"type":"signal","weight":2,"bsn":"111222333"}'
drop "$PS" bsn.json "$(printf '{"type":"signal","category":"drug-recruitment","bsn":"%s"}' $BAD_BSN)"
drop "$PS" category.json "$(printf '{"type":"signal","category":"knitting","bsn":"%s"}' $BSN)"
drop "$PS" weight0.json "$(printf '{"type":"signal","category":"gia","weight":0,"bsn":"%s"}' $BSN)"
drop "$PS" weight4.json "$(printf '{"type":"signal","category":"gia","weight":4,"bsn":"%s"}' $BSN)"
drop "$PS" unknown.json "$(printf '{"type":"signal","category":"gia","bsn":"%s","colour":"red","Jansen":1}' $BSN)"
drop "$PS" toolong.json "$(signal ",\"narrative\":\"$(head -c 17000 /dev/zero | tr '\0' a)\"")"
python3 -c "import sys; sys.stdout.write('{\"type\":\"signal\",\"summary\":\"' + 'a'*300000 + '\"}')" >"$PS/.big.tmp" && mv "$PS/.big.tmp" "$PS/oversized.json"
# a half-written file renamed into place too early (the writer broke the convention)
signal | head -c 60 >"$PS/.half.tmp" && mv "$PS/.half.tmp" "$PS/half.json"
# a file still being written under a temporary name is never read
signal >"$PS/pending.json.tmp"
signal >"$PS/.hidden.json"

reason() { cat "$PS/rejected/$1.json.error" 2>/dev/null; }
for f in bad-json missing bsn category weight0 weight4 unknown toolong oversized half; do
	e2e_wait_for 10 test -f "$PS/rejected/$f.json.error" || fail "$f.json was not rejected"
done
check "bad JSON: names line and column"        grep -q "not JSON: line 1 column" <<<"$(reason bad-json)"
check "missing field: names the field"         grep -q "field 'category': required" <<<"$(reason missing)"
check "invalid BSN: names the field"           grep -q "field 'bsn': invalid BSN" <<<"$(reason bsn)"
check "invalid BSN: the number is not echoed"  bash -c "! grep -rq $BAD_BSN '$PS/rejected/'*.error '$E2E_DIR/$P.log'"
check "unknown category: says so"              grep -q "unknown category 'knitting'" <<<"$(reason category)"
check "weight 0 out of range"                  grep -q "field 'weight': must be 1" <<<"$(reason weight0)"
check "weight 4 out of range"                  grep -q "field 'weight': must be 1" <<<"$(reason weight4)"
check "unknown field refused"                  grep -q "unknown field 'colour'" <<<"$(reason unknown)"
check "the journal gets the count, not the reasons (a key may be a name)" bash -c "grep -q 'unknown.json rejected: 2 problem(s)' '$E2E_DIR/$P.log' && ! grep -q Jansen '$E2E_DIR/$P.log' && grep -q \"unknown field 'Jansen'\" '$PS/rejected/unknown.json.error'"
check "oversized field: names the field"       grep -q "field .narrative.: longer than" <<<"$(reason toolong)"
check "oversized file: too large"              grep -q "file too large" <<<"$(reason oversized)"
check "half-written file: says so"             grep -q "half-written file" <<<"$(reason half)"
check "each rejected file is kept beside its .error" test -f "$PS/rejected/half.json" -a -f "$PS/rejected/oversized.json"
sleep 0.5
check "the .tmp file is not touched" test -f "$PS/pending.json.tmp"
check "the hidden file is not touched" test -f "$PS/.hidden.json"
check "nothing was stored for the rejected files ($(outbox_n) = $n0)" test "$(outbox_n)" = "$n0"
check "the broker saw nothing new ($(broker_n) = $nb)" test "$(broker_n)" = "$nb"
check "status counts the rejected files" bash -c "'$SEINPOST' --config '$NET/$P/seinpost.conf' status | grep -Eq 'spool +rejected +10 files'"
mv "$PS/pending.json.tmp" "$PS/pending.json" # the writer finishes: now it is read
check "the finished file is imported as a duplicate of case-1" \
	e2e_wait_for 10 bash -c "[ \"\$(cat '$PS/done/pending.json.id' 2>/dev/null)\" = '$id' ]"

# --- seinpost spool check: the partner's check before dropping ------------------
signal >"$E2E_DIR/good.json"
printf '{"type":"signal","category":"knitting","weight":4,"bsn":"%s"}' $BAD_BSN >"$E2E_DIR/bad.json"
out=$("$SEINPOST" spool check --policy "$NET/$P/policy.ini" "$E2E_DIR/good.json" "$E2E_DIR/bad.json"); rc=$?
check "spool check: exit 1 when a file is refused" test $rc -eq 1
check "spool check: the good file is ok" grep -q "good.json: ok: signal" <<<"$out"
check "spool check: every problem of the bad one, no BSN" \
	bash -c "grep -q \"field 'weight'\" <<<\"\$1\" && grep -q \"field 'bsn'\" <<<\"\$1\" && ! grep -q $BAD_BSN <<<\"\$1\"" _ "$out"
check "spool check: the category against the policy" \
	bash -c "printf '{\"type\":\"signal\",\"category\":\"knitting\",\"bsn\":\"$BSN\"}' >'$E2E_DIR/cat.json'; '$SEINPOST' spool check --policy '$NET/$P/policy.ini' '$E2E_DIR/cat.json' | grep -q \"unknown category 'knitting'\""

# --- idempotency key across a restart -----------------------------------------
drop "$PS" keyed.json "$(signal ',"idempotency_key":"zaak-4711"')"
e2e_wait_for 10 test -f "$PS/done/keyed.json.id"
kid=$(cat "$PS/done/keyed.json.id")
e2e_stop $P
n0=$(outbox_n)
# Like a crash between the commit and the rename: the file is back in the spool.
cp "$PS/done/keyed.json" "$PS/.k.tmp" && mv "$PS/.k.tmp" "$PS/keyed.json"
# Other bytes, same key: still the first signal.
drop "$PS" keyed-2.json "$(signal ',"idempotency_key":"zaak-4711","summary":"tweede versie"' | sed 's/"summary":"Benaderd voor koerierswerk",//')"
e2e_start $P || exit 1
check "after a restart the known key maps to the same id" \
	e2e_wait_for 10 bash -c "[ \"\$(cat '$PS/done/keyed-2.json.id' 2>/dev/null)\" = '$kid' ] && [ ! -f '$PS/keyed.json' ]"
check "... and nothing new was stored ($(outbox_n) = $n0)" test "$(outbox_n)" = "$n0"
out=$(sp $P submit --category drug-recruitment --weight 2 --bsn $BSN --summary x --idempotency-key zaak-4711 2>&1)
check "the CLI shares the key space (same id via --idempotency-key)" test "$out" = "$kid"

# --- involvement file ---------------------------------------------------------
drop "$SS" bad-class.json "$(printf '{"type":"involvement","involvements":[{"bsn":"%s","ref":"LL-1"},{"bsn":"%s"},{"bsn":"%s","until":"2020-01-01"},{"bsn":"%s","x":1}]}' $BSN $BAD_BSN $B2 $B2)"
e2e_wait_for 10 test -f "$SS/rejected/bad-class.json.error"
err=$(cat "$SS/rejected/bad-class.json.error" 2>/dev/null)
check "a bad involvement entry rejects the whole file" grep -q "involvements\[1\].bsn': invalid BSN" <<<"$err"
check "... naming every bad entry" bash -c "grep -q 'involvements\[2\].until' <<<\"\$1\" && grep -q \"involvements\[3\]': unknown field 'x'\" <<<\"\$1\"" _ "$err"
# the example export script: CSV class list -> involvement spool file
EX="$ROOT/deploy/examples/school-involve-class.py"
printf 'bsn,pupil_ref,until\n%s,LL-22,2031-07-31\n%s,LL-23,\n' $B2 $BSN >"$E2E_DIR/class-3b.csv"
printf 'bsn,pupil_ref,until\n%s,LL-24,\n' $BAD_BSN >"$E2E_DIR/class-bad.csv"
out=$(python3 "$EX" "$E2E_DIR/class-bad.csv" "$SS" 2>&1); rc=$?
check "the export script refuses a bad line without echoing the BSN" \
	bash -c "[ $rc -ne 0 ] && grep -q 'line 2: invalid BSN' <<<\"\$1\" && ! grep -q $BAD_BSN <<<\"\$1\"" _ "$out"
check "the export script writes the class list" python3 "$EX" "$E2E_DIR/class-3b.csv" "$SS"
check "a valid involvement file goes to done/" e2e_wait_for 10 test -f "$SS/done/class-3b.json"
id2=$(sp $P submit --category drug-recruitment --weight 2 --bsn $B2 --summary "na registratie" --contact wijkagent --wait=10)
check "a signal about a registered pupil reaches the school with its reference" \
	e2e_wait_for 20 bash -c "'$SEINPOST' --config '$NET/$S/seinpost.conf' inbox | grep '$id2' | grep -q 'ref LL-22'"

# --- a local fault (map full) leaves a valid file in place ------------------
ZS="$NET/$Z/spool"
map_mb $Z 1
e2e_start $Z || exit 1
"$BUILD/tools/sp_load" --config "$NET/$Z/seinpost.conf" -n 700 --category drug-recruitment --weight 1 \
	--timeout-ms 3000 --quiet >/dev/null 2>"$E2E_DIR/load.err"
# Whichever write meets the full map first (an outbox entry, a verdict or
# feedback from the broker), the node says the database is full.
check "the node's map is full" grep -q "database full\|MDB_MAP_FULL" "$E2E_DIR/$Z.log"
drop "$ZS" while-full.json "$(signal ',"idempotency_key":"full-1"')"
check "the node says it keeps the file for a retry" e2e_wait_for 10 grep -q "while-full.json and any further files left in the spool (local fault)" "$E2E_DIR/$Z.log"
check "... once, not every 5 s" bash -c "sleep 6; [ \$(grep -c 'left in the spool' '$E2E_DIR/$Z.log') -eq 1 ]"
check "the valid file is not rejected but stays in the spool" test -f "$ZS/while-full.json" -a ! -f "$ZS/rejected/while-full.json"
e2e_stop $Z
map_mb $Z 64
e2e_start $Z || exit 1
check "after growing the map the file is imported" e2e_wait_for 15 test -f "$ZS/done/while-full.json.id"

drop "$SS" left-school.json "$(printf '{"type":"involvement","involvements":[{"bsn":"%s","remove":true}]}' $B2)"
check "an involvement file can end an involvement" e2e_wait_for 10 test -f "$SS/done/left-school.json"
sleep 1
id3=$(sp $P submit --category drug-recruitment --weight 2 --bsn $B2 --summary "na uitschrijving" --contact wijkagent --wait=10)
check "after the removal the school receives nothing new about the pupil" \
	bash -c "sleep 2; ! '$SEINPOST' --config '$NET/$S/seinpost.conf' inbox | grep -q '$id3'"

# --- the spool directory replaced while the node runs --------------------------
mv "$PS" "$PS.old" && mkdir -m 0750 "$PS"
check "the node notices its spool directory was moved" e2e_wait_for 5 grep -q "was removed or moved" "$E2E_DIR/$P.log"
check "... and watches the new one" e2e_wait_for 10 grep -q "is watched again" "$E2E_DIR/$P.log"
drop "$PS" after-move.json "$(signal ',"idempotency_key":"moved-1"')"
check "a file dropped into the new directory is imported" e2e_wait_for 10 test -f "$PS/done/after-move.json.id"

check "no BSN in any process log" bash -c "! grep -qE '$BSN|$BAD_BSN|$B2' '$E2E_DIR'/*.log"
e2e_done
