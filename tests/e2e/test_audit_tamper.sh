#!/usr/bin/env bash
# Tampering with the broker's audit log is detected: modified, deleted,
# reordered and truncated records and a replaced tree head are named by
# `audit verify` (and the independent export verifier); a broker that
# rewrites its history consistently — chain, tree and heads re-signed with
# its own key — passes its own verify but is caught by witnessing nodes.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_audit.sh"

e2e_setup --org police:politie-limburg --org school:school-bonnefanten --org privacy-officer:fg-mh
audit_start politie-limburg school-bonnefanten fg-mh
id=$(audit_submit 111222333); check "signal accepted" test ${#id} -eq 32
check "school received it" e2e_wait_for 10 bash -c "'$SEINPOST' --config '$NET/school-bonnefanten/seinpost.conf' inbox | grep -q $id"
sp school-bonnefanten show "$id" --user mentor.a >/dev/null
check "the read reached the broker" e2e_wait_for 15 bash -c "'$SEINPOST' --config '$NET/broker/seinpost.conf' audit log | grep -q ' read '"
audit_submit 123456782 >/dev/null
size=$(audit_size)
check "school witnessed the current history ($size records)" audit_wait_witness school-bonnefanten "$size"
check "police witnessed the current history" audit_wait_witness politie-limburg "$size"
e2e_stop_all
check "intact log verifies" "$SEINPOST" --config "$NET/broker/seinpost.conf" audit verify
cp -a "$NET/broker/state" "$E2E_DIR/pristine"

# Each tamper kind on a fresh copy of the stopped broker's state.
tamper_case() { # description expected-regex tamper-args...
	local d=$1 want=$2; shift 2
	rm -rf "$NET/broker/state"; cp -a "$E2E_DIR/pristine" "$NET/broker/state"
	"$TAMPER" "$NET/broker/state" "$@" || { fail "$d: tamper tool failed"; return; }
	local out; out=$("$SEINPOST" --config "$NET/broker/seinpost.conf" audit verify); local rc=$?
	echo "   $out"
	check "$d: detected (rc=$rc)" bash -c "[ $rc -ne 0 ] && grep -qE -- \"\$1\" <<<\"\$2\"" _ "$want" "$out"
	"$SEINPOST" --config "$NET/broker/seinpost.conf" audit export --json >"$E2E_DIR/t.json" 2>/dev/null
	check "$d: independent verifier agrees" bash -c "! python3 '$VERIFY_EXPORT' '$E2E_DIR/t.json' >/dev/null"
}
tamper_case "modified record 3" "BROKEN at record 3" modify 3
tamper_case "deleted record 4" "BROKEN at record 4: record 4 missing" delete 4
tamper_case "reordered records 2 and 5" "BROKEN at record 2" swap 2 5
tamper_case "truncated to 3 records" "BROKEN at (record 4|tree head of size [0-9]+).*truncated" truncate 3
first_head=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["tree_heads"][0]["tree_size"])' \
	<("$SEINPOST" --config "$NET/broker/seinpost.conf" audit export --json) 2>/dev/null || echo 1)
rm -rf "$NET/broker/state"; cp -a "$E2E_DIR/pristine" "$NET/broker/state"
first_head=$("$SEINPOST" --config "$NET/broker/seinpost.conf" audit export --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["tree_heads"][0]["tree_size"])')
tamper_case "replaced tree head of size $first_head" "BROKEN at tree head of size $first_head" head "$first_head"

# A dishonest broker: drops the read, rebuilds everything, re-signs.
rm -rf "$NET/broker/state"; cp -a "$E2E_DIR/pristine" "$NET/broker/state"
"$TAMPER" "$NET/broker/state" rewrite "$NET/broker/keys"
check "a consistent rewrite passes the broker's own verify" "$SEINPOST" --config "$NET/broker/seinpost.conf" audit verify
check "the read is gone from the rewritten log" bash -c "! '$SEINPOST' --config '$NET/broker/seinpost.conf' audit log | grep -q ' read '"
audit_start politie-limburg school-bonnefanten fg-mh
check "the school's witness raises the alarm" e2e_wait_for 15 bash -c "! '$SEINPOST' --config '$NET/school-bonnefanten/seinpost.conf' audit witness >/dev/null"
out=$(sp school-bonnefanten audit witness); echo "   $out"
check "alarm says the history shrank or forked" grep -qE "ALARM: the broker's audit history (shrank|forked)" <<<"$out"
check "the police witness raises it too" e2e_wait_for 15 bash -c "! '$SEINPOST' --config '$NET/politie-limburg/seinpost.conf' audit witness >/dev/null"
check "the alarm is logged" grep -q "ALARM: the broker's audit history" "$E2E_DIR/school-bonnefanten.log"
# The alarm is sticky and the kept head is evidence: more traffic does not clear it.
audit_submit 111222333 >/dev/null
sleep 3
check "the alarm stays raised" bash -c "! '$SEINPOST' --config '$NET/school-bonnefanten/seinpost.conf' audit witness >/dev/null"
check "seinpost status exits non-zero and names the alarm" bash -c "out=\$('$SEINPOST' --config '$NET/school-bonnefanten/seinpost.conf' status); rc=\$?; [ \$rc -ne 0 ] && grep -q ALARM <<<\"\$out\""
e2e_done
