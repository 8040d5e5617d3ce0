#!/usr/bin/env bash
# Delivery hooks (issue 7): a received signal is handed to the organisation's
# own systems — a command with the granted content as JSON on stdin, or a
# spool-out directory — retried until it succeeds, killed at its timeout,
# visible in status while pending, kept through a restart, and handed over
# exactly once after success. The ZVH's example hook turns referrals into
# CSV lines.
. "$(dirname "$0")/lib.sh"

e2e_setup --org police:politie-limburg --org school:school-bonnefanten --org youthcare:jeugdzorg-mh \
          --org zvh:zvh-mh
H="$E2E_DIR/hook"
mkdir -p "$H/in"

# Youth care: a hook that hangs while $H/hang exists, fails while $H/ok is
# absent, and otherwise stores its stdin and counts a success.
cat >"$H/flaky" <<HOOK
#!/bin/sh
echo "start \$SEINPOST_ITEM_ID \$SEINPOST_KIND \$SEINPOST_ORG \$\$" >>"$H/calls.log"
for f in /proc/\$\$/fd/*; do readlink "\$f"; done >>"$H/fds.log"
cat >"$H/in/\$SEINPOST_ITEM_ID.json.part"
[ -e "$H/hang" ] && exec sleep 100
[ -e "$H/ok" ] || exit 3
mv "$H/in/\$SEINPOST_ITEM_ID.json.part" "$H/in/\$SEINPOST_ITEM_ID.json"
echo "ok \$SEINPOST_ITEM_ID" >>"$H/ok.log"
HOOK
# The ZVH: the example hook, wrapped to name its CSV (a hook gets no arguments).
cat >"$H/zvh" <<HOOK
#!/bin/sh
ZVH_CSV="$H/zvh.csv" exec "$ROOT/deploy/examples/zvh-referrals-to-csv"
HOOK
chmod +x "$H/flaky" "$H/zvh"
printf '\n[hook]\ncommand = %s\ntimeout_s = 2\nretry_s = 1\n' "$H/flaky" >>"$NET/jeugdzorg-mh/seinpost.conf"
printf '\n[hook]\nout = %s\n' "$H/out" >>"$NET/school-bonnefanten/seinpost.conf"
printf '\n[hook]\ncommand = %s\nretry_s = 1\n' "$H/zvh" >>"$NET/zvh-mh/seinpost.conf"
for p in broker politie-limburg school-bonnefanten jeugdzorg-mh zvh-mh; do e2e_start "$p" || exit 1; done

BSN=111222333 BSN2=123456782 NAME="Jan Testpersoon" SUMMARY="Benaderd voor koerierswerk" CONTACT="Wijkagent 0612345678"
calls() { grep -c "^start $1" "$H/calls.log" 2>/dev/null || echo 0; }
oks() { grep -c "^ok $1" "$H/ok.log" 2>/dev/null || echo 0; }
yc_status() { sp jeugdzorg-mh status "$@" 2>&1; }

check "the school registers its pupil" sp school-bonnefanten involve --bsn $BSN --ref LL-7
touch "$H/hang"
s1=$(sp politie-limburg submit --category drug-recruitment --weight 2 --bsn $BSN --name "$NAME" \
	--birthdate 2009-03-14 --summary "$SUMMARY" --contact "$CONTACT" --wait=10 2>/dev/null)
check "police signal accepted" test ${#s1} -eq 32
item1="$s1-signal-1"

# --- a hook that hangs is killed at its timeout and retried ---------------------
check "youth care's hook is started for the new signal" e2e_wait_for 10 grep -q "^start $item1 signal jeugdzorg-mh" "$H/calls.log"
check "the hanging hook is killed after its 2 s timeout" e2e_wait_for 10 bash -c "'$SEINPOST' --config '$NET/jeugdzorg-mh/seinpost.conf' status | grep -q 'killed after 2 s timeout'"
rm -f "$H/hang"
check "status shows the item pending with its id" bash -c "grep -q 'pending.*1, oldest queued' <<<\"\$1\" && grep -q '$item1' <<<\"\$1\"" _ "$(yc_status)"

# --- a failing hook is retried; status turns unhealthy; then exactly once ------
check "the failing hook is retried (3 attempts)" e2e_wait_for 15 bash -c "'$SEINPOST' --config '$NET/jeugdzorg-mh/seinpost.conf' status | grep -q '3 failed attempt(s), last error: exit 3'"
yc_status >/dev/null; rc=$?
check "status exits 1 once the hook failed 3 times (rc=$rc)" test $rc -eq 1
check "status --json carries the hook lines" bash -c "yc=\$('$SEINPOST' --config '$NET/jeugdzorg-mh/seinpost.conf' status --json); python3 -c 'import json,sys; d=json.loads(sys.argv[1]); l=[x for x in d[\"lines\"] if x[\"section\"]==\"hook\"]; assert l and l[0][\"level\"]==\"BAD\" and not d[\"healthy\"]' \"\$yc\""
check "nothing handed over yet" test "$(oks "$item1")" = 0
touch "$H/ok"
kill -HUP "$(e2e_pid jeugdzorg-mh)"   # the operator says: fixed, try now
check "SIGHUP retries the pending hand-over at once" e2e_wait_for 5 grep -q "retrying the pending hand-over now (SIGHUP)" "$E2E_DIR/jeugdzorg-mh.log"
check "after the fix the hook succeeds" e2e_wait_for 15 test -s "$H/ok.log"
sleep 1.5
check "... exactly once (ok count $(oks "$item1"))" test "$(oks "$item1")" = 1
check "... after $(calls "$item1") attempts, no further run" test "$(calls "$item1")" -ge 4
n=$(calls "$item1"); sleep 1.2
check "no run after the success" test "$(calls "$item1")" = "$n"
check "status healthy again, nothing pending" bash -c "out=\$('$SEINPOST' --config '$NET/jeugdzorg-mh/seinpost.conf' status) && grep -q 'pending *0' <<<\"\$out\""
j="$H/in/$item1.json"
check "the hook got the granted summary and contact on stdin" bash -c "python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d[\"summary\"]==sys.argv[2] and d[\"contact\"]==sys.argv[3] and d[\"kind\"]==\"signal\" and d[\"item_id\"]==sys.argv[4] and d[\"id\"]==sys.argv[5]' '$j' '$SUMMARY' '$CONTACT' '$item1' '$s1'"
check "... and not the tier youth care has no grant for (no BSN, name, birth date)" bash -c "! grep -Eq '$BSN|$NAME|2009-03-14|\"bsn\"' '$j'"
check "the hand-over is audited as a read by user 'system:hook'" bash -c "'$SEINPOST' --config '$NET/jeugdzorg-mh/seinpost.conf' audit log | grep -q 'read.*user=system:hook signal=$s1'"
check "... once" test "$(sp jeugdzorg-mh audit log | grep -c "read.*user=system:hook signal=$s1")" = 1
check "show refuses a person named like the node's own hand-overs" bash -c "! '$SEINPOST' --config '$NET/jeugdzorg-mh/seinpost.conf' show $s1 --user system:hook >/dev/null 2>&1"
check "the hook inherits no database, socket or key descriptor of the daemon" bash -c "test -s '$H/fds.log' && ! grep -Eq 'mdb|socket|key' '$H/fds.log'"
check "no personal data in the node's log" bash -c "! grep -Eq '$BSN|$NAME|$SUMMARY|$CONTACT' '$E2E_DIR/jeugdzorg-mh.log'"

# --- spool-out: one file per item, written then renamed -------------------------
f1="$H/out/$item1.json"
check "the school's spool-out directory gets the signal as <item>.json" e2e_wait_for 10 test -s "$f1"
check "... valid JSON with the school's tiers and its own pupil ref" bash -c "python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d[\"contact\"]==sys.argv[2] and d[\"ref\"]==\"LL-7\" and \"bsn\" not in d' '$f1' '$CONTACT'"
check "... mode 0600" test "$(stat -c %a "$f1")" = 600
check "... no temp file left" bash -c "! ls -A '$H/out' | grep -q tmp"
check "the spool-out hand-over is audited as user 'system:spool-out'" bash -c "'$SEINPOST' --config '$NET/school-bonnefanten/seinpost.conf' audit log | grep -q 'read.*user=system:spool-out signal=$s1'"

# --- restart with a pending item: delivered after the restart, once --------------
rm -f "$H/ok"
touch "$H/hang"
s3=$(sp politie-limburg submit --category drug-recruitment --weight 2 --bsn $BSN2 --summary "tweede" --wait=10 2>/dev/null)
item3="$s3-signal-2"
check "a second signal's hook is running (it hangs)" e2e_wait_for 10 grep -q "^start $item3" "$H/calls.log"
hpid=$(grep "^start $item3" "$H/calls.log" | head -1 | cut -d' ' -f5)
e2e_stop jeugdzorg-mh
check "stopping the node stops the running hook" bash -c "! kill -0 '$hpid' 2>/dev/null"
check "... says so in the log" grep -q "item $item3: hook stopped at shutdown" "$E2E_DIR/jeugdzorg-mh.log"
check "pending in status while the node is down, not counted as a failure" bash -c "'$SEINPOST' --config '$NET/jeugdzorg-mh/seinpost.conf' status | grep -q '$item3: not tried yet'"
rm -f "$H/hang"
touch "$H/ok"
e2e_start jeugdzorg-mh || exit 1
check "after the restart the pending item is handed over" e2e_wait_for 10 grep -q "^ok $item3" "$H/ok.log"
sleep 1.2
check "... exactly once" test "$(oks "$item3")" = 1
check "the first item was not handed over again" test "$(oks "$item1")" = 1

# --- referral at the ZVH: the example hook writes one CSV line per referred signal -
s2=$(sp jeugdzorg-mh submit --category drug-recruitment --weight 2 --bsn $BSN --summary "Klusjes bij station" --wait=10 2>/dev/null)
check "youth care's signal accepted (escalation: 2 orgs, weight 4)" test ${#s2} -eq 32
check "the ZVH's hook writes the referral CSV" e2e_wait_for 15 bash -c "[ \$(grep -c ijam-multi '$H/zvh.csv' 2>/dev/null) -ge 2 ]"
sleep 1
csvc=$(python3 -c 'import csv,sys; r=list(csv.DictReader(open(sys.argv[1]))); print(len(r), len({x["item_id"] for x in r}), sorted({x["signal_id"] for x in r}) == sorted(sys.argv[2:]), all(x["rule"]=="ijam-multi" and x["summary"] for x in r))' "$H/zvh.csv" "$s1" "$s2")
check "CSV: one line per referred signal, both signals, rule and summary ($csvc)" test "$csvc" = "2 2 True True"
check "the ZVH's hook queue is empty" bash -c "'$SEINPOST' --config '$NET/zvh-mh/seinpost.conf' status | grep -q 'pending *0'"
line=$(sed -n 2p "$H/zvh.csv"); iid=${line%%,*}
echo '{"id":"x","referral":{"id":"r"}}' | SEINPOST_ITEM_ID="$iid" SEINPOST_KIND=referral ZVH_CSV="$H/zvh.csv" "$ROOT/deploy/examples/zvh-referrals-to-csv"
check "the example is idempotent on SEINPOST_ITEM_ID" test "$(grep -c "^$iid," "$H/zvh.csv")" = 1

e2e_done
