#!/usr/bin/env bash
# Policy engine (issue 3), on loopback with real processes: involvement and
# if-involved routing (also when registered after the signal), Handle With
# Care, escalation to the ZVH with one referral, release of the ZVH's
# conditional grants, retention with crypto-shredding, expiry beyond the
# policy rejected. Each rule is checked positively and negatively.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_policy.sh"

TP=$(policy_test_file) || exit 1
e2e_setup --org police:politie-limburg --org school:school-bonnefanten --org school:school-sintmaartens \
          --org youthcare:jeugdzorg-mh --org zvh:zvh-mh --org municipality:gemeente-maastricht --policy "$TP"
rm -f "$TP"
FORGE="$BUILD/tools/sp_forge"
ORGS=(politie-limburg school-bonnefanten school-sintmaartens jeugdzorg-mh zvh-mh gemeente-maastricht)
for p in broker "${ORGS[@]}"; do e2e_start "$p" || exit 1; done

BSN=111222333 BSN2=123456782 SUMMARY="Benaderd voor koerierswerk" YCSUM="Jongere vertelt over klusjes bij station"

# --- involvement: bad input gets specific errors without personal data ------
out=$(sp school-bonnefanten involve --bsn 123456789 2>&1); rc=$?
check "involve: invalid BSN refused" bash -c "[ $rc -ne 0 ] && grep -q 'invalid BSN' <<<'$out' && ! grep -q 123456789 <<<'$out'"
out=$(sp school-bonnefanten involve --bsn $BSN --until 2030-02-30 2>&1); rc=$?
check "involve: impossible date refused" bash -c "[ $rc -ne 0 ] && grep -q 'invalid --until date' <<<'$out'"
out=$(sp school-bonnefanten involve --bsn $BSN --until 2001-01-01 2>&1); rc=$?
check "involve: an end date in the past refused" bash -c "[ $rc -ne 0 ] && grep -q 'already passed' <<<'$out'"
out=$(sp school-bonnefanten involve --bsn $BSN --until tomorrow 2>&1); rc=$?
check "involve: a non-date refused" bash -c "[ $rc -ne 0 ] && grep -q 'YYYY-MM-DD' <<<'$out'"
check "involve: school registers its pupil with its own reference" sp school-bonnefanten involve --bsn $BSN --ref P-0042

# --- Handle With Care ----------------------------------------------------------
t0=$SECONDS
hwc=$(sp politie-limburg submit --category gia --weight 1 --bsn $BSN --summary "Politie-inzet huiselijk geweld" \
	--contact "Politie Basisteam" --wait=10 2>/dev/null)
check "police GIA signal accepted" test ${#hwc} -eq 32
check "HWC: the involved school gets a notice within a minute" e2e_wait_for 60 inbox_has school-bonnefanten "$hwc"
check "HWC: ... in well under a minute ($((SECONDS - t0)) s)" test $((SECONDS - t0)) -lt 60
s=$(sp school-bonnefanten show "$hwc" --user zorgcoordinator 2>&1)
check "HWC: existence only, no details" bash -c "grep -q 'existence only' <<<\"\$1\" && ! grep -q 'huiselijk\|Basisteam' <<<\"\$1\"" _ "$s"
check "HWC: the notice names the rule gia-handle-with-care" grep -q "gia-handle-with-care" <<<"$s"
check "HWC: the school sees its own pupil reference" grep -q "P-0042" <<<"$s"
sleep 1.5
check "HWC: a school not involved with the child gets no notice" inbox_empty school-sintmaartens
check "HWC: the ZVH gets nothing (no rule, no escalation)" inbox_empty zvh-mh

# Involvement registered AFTER the signal still routes it.
check "late involvement registered" sp school-sintmaartens involve --bsn $BSN
check "late involvement: the signal held at the broker reaches the newly involved school" \
	e2e_wait_for 15 inbox_has school-sintmaartens "$hwc"

# --- escalation: not before, exactly when the rule fires -------------------------
d1=$(sp politie-limburg submit --category drug-recruitment --weight 2 --bsn $BSN --summary "$SUMMARY" \
	--contact "Wijkagent" --wait=10 2>/dev/null)
check "drug signal 1 (police, weight 2) accepted" test ${#d1} -eq 32
sleep 2
check "escalation: one organisation, summed weight 3 -> no referral yet" bash -c "referrals_of() { '$SEINPOST' --config '$NET/zvh-mh/seinpost.conf' referrals; }; referrals_of | grep -q 'no referrals'"
check "escalation: the ZVH holds nothing of signal 1 before escalation" inbox_empty zvh-mh
check "escalation: so the ZVH cannot open signal 1's summary" bash -c "! '$SEINPOST' --config '$NET/zvh-mh/seinpost.conf' show $d1 --user coordinator >/dev/null 2>&1"
log=$(sp broker audit log)
check "escalation: no escalated record yet" bash -c "! grep -q escalated <<<\"\$1\"" _ "$log"

d2=$(sp jeugdzorg-mh submit --category drug-recruitment --weight 2 --bsn $BSN --summary "$YCSUM" \
	--contact "Jeugdzorg MH" --wait=10 2>/dev/null)
check "drug signal 2 (youth care, weight 2) accepted" test ${#d2} -eq 32
check "escalation: referral appears at the ZVH once 2 orgs reach weight 4" \
	e2e_wait_for 15 bash -c "'$SEINPOST' --config '$NET/zvh-mh/seinpost.conf' referrals | grep -q '^referral '"
refs=$(sp zvh-mh referrals)
check "escalation: exactly one referral" test "$(grep -c '^referral ' <<<"$refs")" = 1
check "escalation: the referral names rule ijam-multi" grep -q "escalation rule ijam-multi" <<<"$refs"
check "escalation: it lists both drug signals" bash -c "grep -q '$d1' <<<\"\$1\" && grep -q '$d2' <<<\"\$1\"" _ "$refs"
check "escalation: the GIA signal (no ZVH rule) is counted, not listed" bash -c "grep -q '1 not shareable' <<<\"\$1\" && ! grep -q '$hwc' <<<\"\$1\"" _ "$refs"
check "escalation: the ZVH received signal 1" e2e_wait_for 10 inbox_has zvh-mh "$d1"
z=$(sp zvh-mh show "$d1" --user coordinator 2>&1)
check "escalation: the ZVH can now open signal 1's summary" grep -q "$SUMMARY" <<<"$z"
check "escalation: ... and not the identity (no full-tier rule at weight 2)" bash -c "! grep -q '$BSN' <<<\"\$1\"" _ "$z"
check "escalation: the ZVH's show names the referral" grep -q "referral .*ijam-multi" <<<"$z"
log=$(sp broker audit log)
check "audit: one escalated record with the rule" test "$(grep -c 'escalated .*rule=ijam-multi' <<<"$log")" = 1
check "audit: release of signal 1 to the ZVH with the rule" grep -q "released .*-> zvh-mh .*signal=$d1.*rule=ijam-multi" <<<"$log"
check "audit: release of signal 2 to the ZVH with the rule" grep -q "released .*-> zvh-mh .*signal=$d2.*rule=ijam-multi" <<<"$log"
check "audit: delivered to the ZVH with the summary tier" grep -q "delivered .*-> zvh-mh .*signal=$d1.*summary" <<<"$log"
d3=$(sp politie-limburg submit --category drug-recruitment --weight 2 --bsn $BSN --summary "derde" --wait=10 2>/dev/null)
check "escalation: a later signal joins the same referral" e2e_wait_for 10 bash -c "'$SEINPOST' --config '$NET/zvh-mh/seinpost.conf' referrals | grep -q '$d3'"
check "escalation: still exactly one referral" test "$(sp zvh-mh referrals | grep -c '^referral ')" = 1
refs=$(sp zvh-mh referrals)
rj=$(sp zvh-mh referrals --json)
check "referrals --json: the same referral as the text, with every field" python3 - "$rj" "$refs" "$d1" "$d2" "$d3" <<'PY'
import json, re, sys
rj, text, d1, d2, d3 = sys.argv[1:]
a = json.loads(rj)
assert isinstance(a, list) and len(a) == 1, a
r = a[0]
head = re.search(r"^referral ([0-9a-f]{32})$", text, re.M).group(1)
subj = re.search(r"^  subject ([0-9a-f]{16})", text, re.M).group(1)
assert r["id"] == head and r["subject"] == subj, (r, head, subj)
assert r["rule"] == "ijam-multi" and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", r["fired_at"]), r
assert r["orgs"] == 2 and r["weight_sum"] >= 4 and r["hidden"] == 1 and r["basis"], r
assert "ref" not in r, r  # the ZVH registered no reference of its own
sigs = {s["id"]: s for s in r["signals"]}
assert {d1, d2, d3} <= set(sigs), sigs
for d in (d1, d2, d3):
    s = sigs[d]
    assert s["category"] == "drug-recruitment" and s["weight"] == 2 and s["rule"], s
    assert "summary" in s["tiers"], s
assert sigs[d1]["from"] == "politie-limburg" and sigs[d2]["from"] == "jeugdzorg-mh", sigs
assert [s["id"] for s in r["signals"]] == re.findall(r"^    ([0-9a-f]{32})  ", text, re.M), r
for s in r["signals"]:  # each agrees with the text's line
    if "received" in s:
        assert set(s) == {"id", "received"} and s["received"] is False, s
        assert re.search(r"^    %s  \(not yet received" % s["id"], text, re.M), s
        continue
    assert set(s) == {"id", "from", "category", "weight", "tiers", "rule"}, s
    line = re.search(r"^    %s  from (\S+) +(\S+) +w(\d+)  tiers (\S+) +rule (\S+)$" % s["id"], text, re.M)
    assert line and line.groups() == (s["from"], s["category"], str(s["weight"]), ",".join(s["tiers"]), s["rule"]), (s, line)
PY
check "referrals --json: no BSN, summary or contact in the output" \
	bash -c "! grep -q -e '$BSN' -e '$SUMMARY' -e 'Wijkagent' <<<\"\$1\"" _ "$rj"
check "referrals --json: valid JSON [] on a node without referrals" \
	python3 -c 'import json,sys; assert json.loads(sys.argv[1]) == []' "$(sp school-bonnefanten referrals --json)"
out=$(sp zvh-mh referrals --jsn 2>&1); rc=$?
check "referrals: an unknown option is a usage error naming --json" bash -c "[ $rc -eq 2 ] && grep -q 'referrals \[--json\]' <<<'$out'"

# --- retention: expiry follows the policy; crypto-shredding ---------------------
v=$("$FORGE" longexpiry "$NET/politie-limburg/seinpost.conf")
check "a signal whose expiry exceeds the policy's retention is rejected ($v)" grep -q "^REJECTED -11 .*retention" <<<"$v"
ab=$(sp school-bonnefanten submit --category school-absence --weight 1 --bsn $BSN2 --summary "Verzuim 18 uur" \
	--contact "Mentor" --wait=10 2>/dev/null)
check "absence signal (test policy: kept 6 seconds) accepted" test ${#ab} -eq 32
check "the attendance officer receives it" e2e_wait_for 5 inbox_has gemeente-maastricht "$ab"
check "and can open it before expiry" bash -c "'$SEINPOST' --config '$NET/gemeente-maastricht/seinpost.conf' show $ab --user lpa | grep -q 'Verzuim'"
# With the node stopped nothing sweeps: past the deadline the copy is still
# on disk, and still may not be opened (storage limitation from the deadline).
e2e_stop gemeente-maastricht
sleep 7
out=$("$SEINPOST" --config "$NET/gemeente-maastricht/seinpost.conf" show $ab --user lpa 2>&1); rc=$?
check "past its retention, a copy not yet swept is refused ($out)" bash -c "[ $rc -ne 0 ] && grep -q 'past its retention' <<<\"\$1\" && ! grep -q Verzuim <<<\"\$1\"" _ "$out"
e2e_start gemeente-maastricht
check "expiry: the recipient's copy is deleted" e2e_wait_for 15 bash -c "! '$SEINPOST' --config '$NET/gemeente-maastricht/seinpost.conf' inbox | grep -q $ab"
check "expiry: the sender's copy is deleted" e2e_wait_for 5 bash -c "! '$SEINPOST' --config '$NET/school-bonnefanten/seinpost.conf' outbox | grep -q $ab"
check "expiry: nobody can open it afterwards (recipient)" bash -c "! '$SEINPOST' --config '$NET/gemeente-maastricht/seinpost.conf' show $ab --user lpa >/dev/null 2>&1"
check "expiry: nobody can open it afterwards (sealed copy gone at the sender)" bash -c "! '$FORGE' open-as '$NET/gemeente-maastricht/seinpost.conf' '$NET/school-bonnefanten/seinpost.conf' $ab >/dev/null 2>&1"
log=$(sp broker audit log)
check "expiry: the broker audited 'expired'" e2e_wait_for 5 bash -c "'$SEINPOST' --config '$NET/broker/seinpost.conf' audit log | grep -q 'expired .*signal=$ab'"
check "expiry: the recipient audited 'expired'" bash -c "'$SEINPOST' --config '$NET/gemeente-maastricht/seinpost.conf' audit log | grep -q 'expired .*signal=$ab'"
check "expiry: the broker holds no index entry or grant for it" bash -c "! mdb_dump -s signals '$NET/broker/state' 2>/dev/null | grep -qi '$ab'"
check "expiry: other signals are kept" inbox_has zvh-mh "$d1"

check "broker audit chain verifies" sp broker audit verify
e2e_done
