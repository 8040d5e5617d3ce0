#!/usr/bin/env bash
# Hostile local accounts (issue 12 item 1): the spool writer and the hook
# importer can write the directories the node writes into. The documented
# attack — replace rejected/ by a link and plant a link at the temp name of
# the .error file — must not make the node overwrite another file; a spool
# or spool-out directory that is a symbolic link is refused.
. "$(dirname "$0")/lib.sh"

e2e_setup --org police:politie-limburg --org school:school-bonnefanten --org youthcare:jeugdzorg-mh
P=politie-limburg S=school-bonnefanten
printf '\n[spool]\nin = spool\n' >>"$NET/$P/seinpost.conf"
PS="$NET/$P/spool"
VICTIM="$E2E_DIR/victim"
printf 'precious\n' >"$VICTIM"
chmod 600 "$VICTIM"
for p in broker $P jeugdzorg-mh; do e2e_start "$p" || exit 1; done
check "the spool's rejected/ exists" e2e_wait_for 10 test -d "$PS/rejected"
PID=$(e2e_pid $P)

# --- the attack from the issue, as the partner account would do it --------
mv "$PS/rejected" "$PS/rejected.orig"
mkdir "$PS/att"
ln -s att "$PS/rejected"
ln -s "$VICTIM" "$PS/att/bad.json.error.tmp.$PID"
# the temp names the node uses now, planted too (in the directory it holds open)
ln -s "$VICTIM" "$PS/rejected.orig/.bad.json.error.tmp"
ln -s "$VICTIM" "$PS/rejected.orig/bad.json.error.tmp.$PID"
printf '{"type":"signal","category":"knitting"}' >"$PS/.bad.tmp" && mv "$PS/.bad.tmp" "$PS/bad.json"
check "the bad file is handled (moved out of the spool)" e2e_wait_for 10 bash -c "[ ! -e '$PS/bad.json' ]"
check "the file the links pointed at is untouched" bash -c "[ \"\$(cat '$VICTIM')\" = precious ] && [ \$(stat -c %a '$VICTIM') = 600 ]"
check "the .error went into the rejected/ directory the node holds open" test -f "$PS/rejected.orig/bad.json.error"
check "... a regular file, not through a link" bash -c "[ ! -L '$PS/rejected.orig/bad.json.error' ] && grep -q bsn '$PS/rejected.orig/bad.json.error'"
check "the rejected file itself is there too" test -f "$PS/rejected.orig/bad.json"
check "nothing was written through the replaced rejected/ link" bash -c "[ ! -e '$PS/att/bad.json.error' ] && [ ! -e '$PS/att/bad.json' ]"
check "the node is still running" kill -0 "$PID"

# --- a spool directory that is a symbolic link is refused ------------------
e2e_stop $P
mv "$PS" "$PS.real"
ln -s "$PS.real" "$PS"
"$SEINPOSTD" --config "$NET/$P/seinpost.conf" >"$E2E_DIR/linked.log" 2>&1 &
lp=$!
for _ in $(seq 1 100); do kill -0 $lp 2>/dev/null || break; sleep 0.1; done
kill -0 $lp 2>/dev/null && { kill $lp; wait $lp 2>/dev/null; }
check "a node whose spool directory is a link does not start" bash -c "! kill -0 $lp 2>/dev/null"
check "... and says why" grep -q "symbolic link" "$E2E_DIR/linked.log"
rm "$PS"; mv "$PS.real" "$PS"
"$SEINPOSTD" --config "$NET/$P/seinpost.conf" >"$E2E_DIR/linked2.log" 2>&1 &
lp=$!
for _ in $(seq 1 100); do kill -0 $lp 2>/dev/null || break; sleep 0.1; done
kill -0 $lp 2>/dev/null && { kill $lp; wait $lp 2>/dev/null; }
check "a restart with rejected/ still a link is refused too" grep -q "symbolic link" "$E2E_DIR/linked2.log"
rm "$PS/rejected"; mv "$PS/rejected.orig" "$PS/rejected"
e2e_start $P || exit 1

# --- the spool-out directory of a hook: a link is refused -------------------
H="$E2E_DIR/hook"
mkdir -p "$H/elsewhere"
ln -s "$H/elsewhere" "$H/out"
printf '\n[hook]\nout = %s\nretry_s = 1\n' "$H/out" >>"$NET/$S/seinpost.conf"
e2e_start $S || exit 1
sp $S involve --bsn 111222333 --ref "pupil 1" >/dev/null
sleep 1
id=$(sp $P submit --category gia --weight 2 --bsn 111222333 --summary "s" --wait=10 2>/dev/null)
check "the police signal is accepted ($id)" test ${#id} -eq 32
check "the school receives the notice" e2e_wait_for 15 bash -c "'$SEINPOST' --config '$NET/$S/seinpost.conf' inbox --json | grep -q '$id'"
sleep 2
check "nothing is written through the linked spool-out directory" bash -c "[ -z \"\$(ls -A '$H/elsewhere')\" ]"
check "the node says the spool-out directory is refused" grep -q "spool-out.*symbolic link" "$E2E_DIR/$S.log"
check "the item stays pending in status" bash -c "sp() { '$SEINPOST' --config '$NET/$S/seinpost.conf' \"\$@\"; }; sp status | grep -i hook | grep -qi 'pending\|fail\|symbolic'"
# the operator replaces the link by a real directory; a planted temp link is removed, not followed
rm "$H/out"; mkdir "$H/out"
e2e_stop $S; e2e_start $S || exit 1
check "after the fix the item is written" e2e_wait_for 15 bash -c "ls '$H/out' | grep -q '\.json$'"
check "the victim is still untouched" bash -c "[ \"\$(cat '$VICTIM')\" = precious ]"
e2e_done
