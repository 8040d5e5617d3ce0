#!/usr/bin/env bash
# who-saw complete and provably so (issue 12 items 2 and 3). The privacy
# officer's node keeps a verified copy of the broker's whole audit log and
# answers who-saw from it, with an inclusion path per entry and the signed
# head in --json (checked by tests/tools/verify_whosaw.py). A broker that
# deletes or alters entries of its who-saw index cannot shorten the answer
# without an alarm: a warning at the top and exit 1, in who-saw and in the
# art. 15 report. A witness alarm does the same.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_audit.sh"

e2e_setup --org police:politie-limburg --org school:school-bonnefanten --org youthcare:jeugdzorg-mh \
          --org zvh:zvh-mh --org privacy-officer:fg-mh
audit_start politie-limburg school-bonnefanten jeugdzorg-mh zvh-mh fg-mh
BSN=111222333 OTHER=123456782
BKEY=$(cat "$NET/broker/keys/sign.pub")
VERIFY="$ROOT/tests/tools/verify_whosaw.py"
fg() { sp fg-mh "$@"; }

for w in 2 3 2; do id=$(audit_submit $BSN $w); done
check "signals accepted" test ${#id} -eq 32
id2=$(audit_submit $OTHER 1)
check "school received the last one" e2e_wait_for 10 bash -c "'$SEINPOST' --config '$NET/school-bonnefanten/seinpost.conf' inbox | grep -q $id"
sp school-bonnefanten show "$id" --user mentor.a >/dev/null
check "the broker recorded the read" e2e_wait_for 15 bash -c "'$SEINPOST' --config '$NET/broker/seinpost.conf' audit log | grep -q ' read '"

out=$(fg audit who-saw --bsn $BSN); rc=$?
echo "$out" | head -3
check "who-saw is complete and exits 0 (rc=$rc)" test $rc -eq 0
check "... says it comes from the verified copy" grep -q "complete (from the verified copy" <<<"$out"
check "... no warning" bash -c "! grep -q WARNING <<<\"\$1\"" _ "$out"
n0=$(grep -cE '^[0-9]{4}-.* (signalled|disclosed|released|read|involved) ' <<<"$out")
check "... lists signals, disclosures, the read and the involvement ($n0 rows)" test "$n0" -ge 10
fg audit who-saw --bsn $BSN --json >"$E2E_DIR/ws.json"
check "the --json answer verifies with the independent verifier" python3 "$VERIFY" "$E2E_DIR/ws.json" --broker-key "$BKEY"
check "every entry carries its inclusion path and record" python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d['entries'] and all(e['proof']['inclusion_path'] is not None and e['proof']['record'] for e in d['entries']); assert d['signed_tree_head']['signature']" "$E2E_DIR/ws.json"
python3 - "$E2E_DIR/ws.json" "$E2E_DIR/ws-bad.json" <<'PY'
import base64, json, sys
d = json.load(open(sys.argv[1]))
r = bytearray(base64.b64decode(d["entries"][1]["proof"]["record"]))
r[-1] ^= 1
d["entries"][1]["proof"]["record"] = base64.b64encode(bytes(r)).decode()
json.dump(d, open(sys.argv[2], "w"))
PY
check "a changed record fails the verifier" bash -c "! python3 '$VERIFY' '$E2E_DIR/ws-bad.json' --broker-key '$BKEY' >/dev/null"
check "a wrong broker key fails the verifier" bash -c "! python3 '$VERIFY' '$E2E_DIR/ws.json' --broker-key $(cat "$NET/politie-limburg/keys/sign.pub") >/dev/null"
check "the privacy officer's status shows the verified copy" bash -c "'$SEINPOST' --config '$NET/fg-mh/seinpost.conf' status | grep -q 'records copied, verified'"

# --- the broker deletes and re-points entries of its who-saw index ----------
P=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['pseudonym'])" "$E2E_DIR/ws.json")
e2e_stop broker
"$SYSPY" - "$NET/broker/state" "$P" >"$E2E_DIR/idx.txt" <<'PY'
import lmdb, sys
env = lmdb.open(sys.argv[1], max_dbs=32, subdir=True)
db = env.open_db(b"auditx")
p = bytes.fromhex(sys.argv[2])
with env.begin(write=True, db=db) as t:
    keys = [k for k, _ in t.cursor() if k[:1] == b"p" and k[1:33] == p]
    # delete every second entry (the signal's delivery, a release, ...)
    gone = keys[1::2]
    for k in gone:
        t.delete(k)
    # and re-point one to record 1 (not about this subject)
    t.delete(keys[0])
    t.put(b"p" + p + (1).to_bytes(8, "big"), b"")
print(len(keys), len(gone) + 1)
PY
read nkeys ndel <"$E2E_DIR/idx.txt"
check "the broker's index held the subject ($nkeys entries, $ndel removed or re-pointed)" test "$ndel" -ge 3
e2e_start broker || exit 1
check "the broker's own audit verify still passes (the index is not covered)" "$SEINPOST" --config "$NET/broker/seinpost.conf" audit verify
check "the witness sees nothing wrong either" e2e_wait_for 10 sp fg-mh audit witness

out=$(fg audit who-saw --bsn $BSN); rc=$?
echo "$out" | head -4
check "who-saw exits 1 (rc=$rc)" test $rc -eq 1
check "... the first line is a warning" bash -c "head -1 <<<\"\$1\" | grep -q '^WARNING'" _ "$out"
check "... naming the records the broker left out" grep -q "left out .* record(s) about this subject" <<<"$out"
check "... among them the re-pointed one (the broker's answer drops a record not about the subject)" \
	bash -c "! grep -q 'policy-loaded' <<<\"\$1\"" _ "$out"
n1=$(grep -cE '^[0-9]{4}-.* (signalled|disclosed|released|read|involved) ' <<<"$out")
check "... the list is not shorter ($n1 >= $n0 rows)" test "$n1" -ge "$n0"
check "... and says NOT verified at the bottom" bash -c "tail -1 <<<\"\$1\" | grep -q 'NOT verified'" _ "$out"
rep=$(fg audit report --bsn $BSN --format html); rc=$?
check "the art. 15 report exits 1 too (rc=$rc)" test $rc -eq 1
check "... with the warning before the title" python3 -c "import sys; s=sys.stdin.read(); assert 0 <= s.find('WARNING') < s.find('<h1>')" <<<"$rep"
fg audit report --bsn $BSN --format json >"$E2E_DIR/rep.json"; rc=$?
check "report --format json: exit 1, warnings, complete false (rc=$rc)" python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d['warnings'] and d['complete'] is False and $rc == 1" "$E2E_DIR/rep.json"
check "the verifier refuses an answer that reports warnings" bash -c "! python3 '$VERIFY' '$E2E_DIR/rep.json' --broker-key '$BKEY' >/dev/null"
out=$(fg audit who-saw --bsn $OTHER); rc=$?
check "another subject's who-saw is unaffected (rc=$rc)" test $rc -eq 0

# --- an in-place edit of a record the copy already holds ---------------------
seq=$(fg audit who-saw --bsn $OTHER --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["entries"][0]["seq"])')
e2e_stop broker
"$TAMPER" "$NET/broker/state" modify "$seq" >/dev/null
e2e_start broker || exit 1
out=$(fg audit who-saw --bsn $OTHER); rc=$?
echo "$out" | head -2
check "after an in-place edit of record $seq who-saw exits 1 (rc=$rc)" test $rc -eq 1
check "... with the failed proof at the top" bash -c "head -1 <<<\"\$1\" | grep -q 'WARNING: .*inclusion checks'" _ "$out"

# --- a re-signed rewrite: witness alarm on the privacy officer's node -------
e2e_stop broker
"$TAMPER" "$NET/broker/state" rewrite "$NET/broker/keys" >/dev/null
e2e_start broker || exit 1
check "the privacy officer's witness raises the alarm" e2e_wait_for 20 bash -c "! '$SEINPOST' --config '$NET/fg-mh/seinpost.conf' audit witness >/dev/null"
out=$(fg audit who-saw --bsn $OTHER); rc=$?
echo "$out" | head -3
check "who-saw exits 1 under a witness alarm (rc=$rc)" test $rc -eq 1
check "... with the witness alarm at the top" bash -c "head -3 <<<\"\$1\" | grep -q 'WARNING: .*ALARM'" _ "$out"
check "... never 'every record proven included'" bash -c "! grep -q 'every record proven' <<<\"\$1\"" _ "$out"
check "the privacy officer's status is unhealthy" bash -c "! '$SEINPOST' --config '$NET/fg-mh/seinpost.conf' status >/dev/null"
e2e_done
