#!/usr/bin/env bash
# Who saw what: a full flow (submit, deliver, open) gives the privacy officer
# the expected who-saw list and subject access report, with every record
# proven against the broker's signed tree head; queries are audited, only
# the privacy officer may query, the broker never sees the BSN; the export
# verifies with an independent tool; witnessing nodes stay in agreement.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_audit.sh"

e2e_setup --org police:politie-limburg --org school:school-bonnefanten --org youthcare:jeugdzorg-mh \
          --org zvh:zvh-mh --org privacy-officer:fg-mh
audit_start politie-limburg school-bonnefanten jeugdzorg-mh zvh-mh fg-mh
BSN=111222333 OTHER=123456782

id=$(audit_submit $BSN); check "signal accepted" test ${#id} -eq 32
id2=$(audit_submit $OTHER 1); check "second subject's signal accepted" test ${#id2} -eq 32
check "school received it" e2e_wait_for 10 bash -c "'$SEINPOST' --config '$NET/school-bonnefanten/seinpost.conf' inbox | grep -q $id"
check "youth care received it" e2e_wait_for 10 bash -c "'$SEINPOST' --config '$NET/jeugdzorg-mh/seinpost.conf' inbox | grep -q $id"
sp school-bonnefanten show "$id" --user "mentor.a" >/dev/null
sp jeugdzorg-mh show "$id" --user "o'brien<b>" >/dev/null
# read receipts travel on the node's next round (every 2 s) until acknowledged
check "the broker recorded both reads" e2e_wait_for 15 bash -c "[ \$('$SEINPOST' --config '$NET/broker/seinpost.conf' audit log | grep -c ' read ') -eq 2 ]"

out=$(sp fg-mh audit who-saw --bsn $BSN); rc=$?
echo "$out"
check "who-saw succeeds on the privacy officer's node (rc=$rc)" test $rc -eq 0
check "who-saw: police signalled" grep -q "signalled .*politie-limburg" <<<"$out"
check "who-saw: school (involved) disclosed existence,contact,summary under drug-w2-school" grep -qE "disclosed +school-bonnefanten .*existence,contact,summary +drug-w2-school" <<<"$out"
check "who-saw: the release to the school names the school" grep -qE "released +school-bonnefanten .*drug-w2-school" <<<"$out"
check "who-saw: youth care disclosed summary" grep -qE "disclosed +jeugdzorg-mh .*existence,contact,summary" <<<"$out"
check "who-saw: school's read by mentor.a with rule and basis" grep -qE "read +school-bonnefanten +mentor.a .*drug-w2-school +AVG" <<<"$out"
check "who-saw: youth care's read by its user" grep -qE "read +jeugdzorg-mh +o'brien<b>" <<<"$out"
check "who-saw: nothing about zvh (not disclosed)" bash -c "! grep -q zvh-mh <<<\"\$1\"" _ "$out"
check "who-saw: only this subject (one signal)" test "$(grep -cE '^[0-9-]+ .* (disclosed|signalled) ' <<<"$out")" -eq 3
check "who-saw: every record proven against the signed head" grep -q "every record proven included" <<<"$out"

json=$(sp fg-mh audit who-saw --bsn $BSN --json)
check "who-saw --json lists 2 reads" test "$(python3 -c 'import json,sys; print(sum(e["what"]=="read" for e in json.load(sys.stdin)["entries"]))' <<<"$json")" = 2

html=$(sp fg-mh audit report --bsn $BSN --format html); rc=$?
check "report html (rc=$rc)" test $rc -eq 0
check "report: one table of disclosures" grep -q 'class="disclosures"' <<<"$html"
check "report: no employee's name, raw or escaped (art. 15 names recipients, not staff)" bash -c "! grep -qE \"brien|mentor.a\" <<<\"\$1\"" _ "$html"
check "report: the BSN is masked" bash -c "! grep -q $BSN <<<\"\$1\" && grep -q '\*\*\*\*\*2333' <<<\"\$1\"" _ "$html"
rj=$(sp fg-mh audit report --bsn $BSN --format json)
check "report json parses, head verified" python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["tree_head"]["verified"] and d["entries"]' <<<"$rj"

log=$(sp fg-mh audit log --org school-bonnefanten)
check "remote audit log filtered by org" bash -c "grep -q 'delivered .*school-bonnefanten' <<<\"\$1\" && ! grep -q 'jeugdzorg-mh' <<<\"\$1\"" _ "$log"
log=$(sp fg-mh audit log --signal $id2 --json)
check "remote audit log filtered by signal" python3 -c "import json,sys; d=json.load(sys.stdin); assert d and all(r['signal']=='$id2' for r in d)" <<<"$log"
log=$(sp fg-mh audit log --since 2000-01-01 --until 2000-01-02)
check "remote audit log filtered by time (nothing in 2000)" test -z "$log"

out=$(sp school-bonnefanten audit log --org fg-mh 2>&1)
check "a school's node keeps its own local log" bash -c "! grep -qi 'only the privacy officer' <<<\"\$1\"" _ "$out"
blog=$("$SEINPOST" --config "$NET/broker/seinpost.conf" audit log)
check "every privacy-officer query is audited" test "$(grep -c 'audit-query .*fg-mh' <<<"$blog")" -ge 6
check "who-saw queries are audited by pseudonym, not BSN" grep -q 'audit-query .*fg-mh .*subject=.*who-saw' <<<"$blog"

# broker offline who-saw by pseudonym gives the same disclosures
ps=$(python3 -c 'import json,sys; print([r for r in json.load(sys.stdin) if r["event"]=="submitted" and r["signal"]=="'$id'"][0]["subject"])' \
	< <("$SEINPOST" --config "$NET/broker/seinpost.conf" audit log --json))
check "broker log shows a pseudonym prefix" test -n "$ps"
check "broker who-saw --bsn is refused (no pseudonymisation key)" bash -c "! '$SEINPOST' --config '$NET/broker/seinpost.conf' audit who-saw --bsn $BSN 2>/dev/null"

# witnessing and verification
check "police node witnessed the broker's heads" audit_wait_witness politie-limburg 3
check "school node witnessed the broker's heads" audit_wait_witness school-bonnefanten 3
check "witness status OK on every node" bash -c "for o in politie-limburg school-bonnefanten jeugdzorg-mh zvh-mh fg-mh; do '$SEINPOST' --config '$NET/'\$o/seinpost.conf audit witness >/dev/null || exit 1; done"
check "broker audit verify (records + signed heads)" bash -c "'$SEINPOST' --config '$NET/broker/seinpost.conf' audit verify | grep -q 'signed tree heads verified'"

"$SEINPOST" --config "$NET/broker/seinpost.conf" audit export --json >"$E2E_DIR/export.json"
check "export verifies with the independent python verifier" python3 "$VERIFY_EXPORT" "$E2E_DIR/export.json"

e2e_stop_all
check "the broker never saw the BSN" bash -c "! grep -rqaF $BSN '$NET/broker' '$E2E_DIR/broker.log'"
check "no log holds a user name from a read" bash -c "! grep -qaF 'mentor.a' '$E2E_DIR'/*.log"
e2e_done
