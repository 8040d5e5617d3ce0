#!/usr/bin/env bash
# The AVG art. 15 report, for the person it is about (issue 16): a network
# with signals, releases, reads and a referral about one child; the privacy
# officer's report is Dutch by default and carries, item by item, what art.
# 15(1)(a)-(h) and 15(2) require; each disclosure appears once; no
# pseudonym, internal id or other child's BSN appears; --lang en works and a
# bad --lang is a usage error. Then a real browser (headless Chromium from
# Debian, `make deps`) renders the page: the screenshot must be a real page
# and the DOM must hold the headings. Without chromium the test fails.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_audit.sh"
PNG_CHECK="$ROOT/tests/tools/png_check.py"

e2e_setup --org police:politie-limburg --org school:school-bonnefanten --org youthcare:jeugdzorg-mh \
          --org zvh:zvh-mh --org privacy-officer:fg-mh
audit_start politie-limburg school-bonnefanten jeugdzorg-mh zvh-mh fg-mh
BSN=111222333 OTHER=123456782

pol=$(audit_submit $BSN)                  # the school is involved: an if-involved release
yc=$(sp jeugdzorg-mh submit --category gia --weight 2 --bsn $BSN --summary "thuis" --wait=15)
oth=$(audit_submit $OTHER 1)              # another child
check "three signals accepted" test ${#pol} -eq 32 -a ${#yc} -eq 32 -a ${#oth} -eq 32
refid() { "$SEINPOST" --config "$NET/zvh-mh/seinpost.conf" referrals --json | python3 -c 'import json,sys; r=json.load(sys.stdin); print(r[0]["id"] if r else "")'; }
check "the ZVH gets a referral (escalation)" e2e_wait_for 20 bash -c "$(declare -f refid); SEINPOST='$SEINPOST' NET='$NET'; [ -n \"\$(refid)\" ]"
REF=$(refid)
out=$(sp zvh-mh referral status "$REF" accepted --reason "besproken in het netwerkoverleg" 2>&1); rc=$?
check "the coordinator accepts the referral (rc=$rc)" test $rc -eq 0
check "the school received the police signal" e2e_wait_for 15 bash -c "'$SEINPOST' --config '$NET/school-bonnefanten/seinpost.conf' inbox | grep -q $pol"
check "the ZVH received the police signal" e2e_wait_for 15 bash -c "'$SEINPOST' --config '$NET/zvh-mh/seinpost.conf' inbox | grep -q $pol"
sp school-bonnefanten show "$pol" --user mentor.a >/dev/null
sp zvh-mh show "$pol" --user coordinator.b >/dev/null

# Everything settled: every release delivered, both reads at the broker.
settled() {
	"$SEINPOST" --config "$NET/fg-mh/seinpost.conf" audit who-saw --bsn $BSN --json | python3 -c '
import json, sys
e = json.load(sys.stdin)["entries"]
rel = {(x["signal"], x["organisation"]) for x in e if x["what"] == "released"}
dl = {(x["signal"], x["organisation"]) for x in e if x["what"] == "disclosed"}
sys.exit(0 if rel and rel <= dl and sum(x["what"] == "read" for x in e) == 2 else 1)'
}
check "every release delivered and both reads recorded" e2e_wait_for 30 bash -c "$(declare -f settled); SEINPOST='$SEINPOST' NET='$NET' BSN=$BSN; settled"
sp fg-mh audit who-saw --bsn $BSN --json >"$E2E_DIR/whosaw.json"

HTML="$E2E_DIR/report.html"
sp fg-mh audit report --bsn $BSN --format html >"$HTML"; rc=$?
check "the report is made (rc=$rc)" test $rc -eq 0
# The page's text, one line per block, per section (class = the item).
python3 - "$HTML" >"$E2E_DIR/report.txt" <<'PY'
import html, re, sys
s = open(sys.argv[1], encoding="utf-8").read()
s = re.sub(r"<style>.*?</style>", "", s, flags=re.S)
for cls, body in re.findall(r'<section class="([a-z]+)">(.*?)</section>', s, flags=re.S):
    t = re.sub(r"<(tr|li|h2|p|br)[^>]*>", "\n", body)
    t = html.unescape(re.sub(r"<[^>]+>", " ", t))
    for line in t.splitlines():
        if line.strip():
            print(cls + "\t" + " ".join(line.split()))
PY
section() { awk -F'\t' -v c="$1" '$1 == c { print $2 }' "$E2E_DIR/report.txt"; }
has() { # section pattern... — every pattern (grep -E) occurs in the section
	local s; s=$(section "$1"); shift
	[ -n "$s" ] || return 1
	for p in "$@"; do grep -qE "$p" <<<"$s" || { echo "missing in section: $p" >&2; return 1; }; done
}
check "the page is Dutch (html lang=nl)" grep -q '<html lang="nl">' "$HTML"
check "title: Uw gegevens in Seinpost" grep -q '<h1>Uw gegevens in Seinpost</h1>' "$HTML"
check "the controller from the policy's [report] section" grep -q 'Verantwoordelijk voor uw gegevens: Gemeente Maastricht' "$HTML"

# Art. 15, item by item: name | section | patterns (Dutch, plain words).
while IFS='|' read -r name sec pats; do
	[ -n "$name" ] || continue
	eval "set -- $pats"
	check "art. 15$name" has "$sec" "$@"
done <<'ITEMS'
(1)(a) purposes, with each rule's purpose from the policy|purposes|"Waarvoor worden uw gegevens gebruikt" "veiligheid van jongeren" "Only the school that registered" "Youth care offers help"
(1)(b) categories of personal data, in plain words|data|"Welke gegevens over u gaat het om" "dat er een zorg is gemeld" "contactgegevens" "een korte samenvatting" "het volledige signaal" "werving voor drugsklusjes" "huiselijk geweld"
(1)(c) recipients by display name, legal basis, opened or not|recipients|"Met wie is informatie over u gedeeld" "Bonnefanten College" "Jeugdzorg Maastricht-Heuvelland" "Zorg- en Veiligheidshuis Maastricht-Heuvelland" "Wettelijke grondslag" "AVG art. 6\(1\)\(e\)" "Ja, geopend op [0-9]+ december|Ja, geopend op" "Nee, niet geopend"
(1)(d) retention period from the policy|retention|"Hoe lang wordt de informatie bewaard" "werving voor drugsklusjes, een bevestigde zorg: 730 dagen" "1825 dagen" "gewist"
(1)(e) rectification, erasure, restriction, objection|rights|"Uw rechten" "verbeteren \(rectificatie" "wissen" "beperken" "bezwaar" "privacy@maastricht.example" "fg@maastricht.example"
(1)(f) complaint to the Autoriteit Persoonsgegevens|complaint|"Een klacht indienen" "Autoriteit Persoonsgegevens"
(1)(g) source: which organisation signalled|source|"Waar komt de informatie vandaan" "Politie Limburg, basisteam Maastricht meldde op .* werving voor drugsklusjes" "Jeugdzorg Maastricht-Heuvelland meldde op .* huiselijk geweld"
(1)(h) automated decision-making: none|automated|"Worden er automatisch besluiten over u genomen" "^Nee\. " "artikel 22"
(2) transfers outside the EU: none|transfers|"buiten de Europese Unie" "^Nee\. "
the referral and its status|events|"doorgestuurd naar het Zorg- en Veiligheidshuis" "heeft Zorg- en Veiligheidshuis Maastricht-Heuvelland de doorverwijzing aangenomen"
completeness|complete|"Ja\. Elke regel"
ITEMS

# Each disclosure once: one row per delivery; a release and its delivery are one row.
rows=$(grep -c '<tr class="disclosure">' "$HTML")
read -r ndel nrel < <(python3 -c '
import json, sys
e = json.load(open(sys.argv[1]))["entries"]
print(sum(x["what"] == "disclosed" for x in e), sum(x["what"] == "released" for x in e))' "$E2E_DIR/whosaw.json")
check "each disclosure appears exactly once ($rows rows, $ndel deliveries, $nrel releases)" test "$rows" -eq "$ndel" -a "$nrel" -ge 3
check "no row twice, and what was shared in plain words (no tier names)" python3 -c '
import re, sys
s = open(sys.argv[1], encoding="utf-8").read()
rows = re.findall(r"<tr class=\"disclosure\">(.*?)</tr>", s, flags=re.S)
assert len(rows) == len(set(rows)), "a row appears twice"
for r in rows:
    what = re.findall(r"<td>(.*?)</td>", r, flags=re.S)[2]
    assert "dat er een zorg is gemeld" in what, what
    assert not re.search(r"\b(existence|contact|summary|full)\b", what), what
' "$HTML"
sp fg-mh audit report --bsn $BSN --format json >"$E2E_DIR/report.json"; rc=$?
check "the JSON report lists the same disclosures, each release paired with its delivery (rc=$rc)" python3 -c '
import json, sys
d = json.load(open(sys.argv[1])); n = int(sys.argv[2]); nrel = int(sys.argv[3])
ds = d["disclosures"]
assert d["lang"] == "nl" and len(ds) == n, (len(ds), n)
assert sum("made_available_at" in x for x in ds) == nrel
assert len({(x["signal"], x["organisation"], x["received_at"]) for x in ds}) == n
assert any(x["opened"] and x["organisation_name"] == "Bonnefanten College" for x in ds)
a = d["art15"]
assert all(a[k] for k in ("controller", "contact", "dpo", "purposes", "rights", "complaint",
                          "automated_decision_making", "transfers_outside_eu", "retention"))
assert {s["organisation"] for s in d["sources"]} == {"politie-limburg", "jeugdzorg-mh"}
' "$E2E_DIR/report.json" "$rows" "$nrel"

# Nothing that identifies a record or another child.
ps=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["pseudonym"])' "$E2E_DIR/report.json")
check "no pseudonym in the page" bash -c "[ \${#1} -eq 64 ] && ! grep -qi \"\$1\" '$HTML' && ! grep -qi \"\${1:0:16}\" '$HTML'" _ "$ps"
check "no signal id in the page" bash -c "! grep -qiE '$pol|$yc|$oth' '$HTML'"
check "no hex id of 8 or more digits anywhere in the page" bash -c "! grep -qE '[0-9a-fA-F]{8,}' '$HTML'"
check "no BSN: the subject's is masked, the other child's absent" bash -c "! grep -qE '$BSN|$OTHER|2782' '$HTML' && grep -q '\*\*\*\*\*2333' '$HTML'"
check "no employee's name" bash -c "! grep -qE 'mentor\.a|coordinator\.b' '$HTML'"

# --lang en, and a bad --lang.
sp fg-mh audit report --bsn $BSN --format html --lang en >"$E2E_DIR/report_en.html"; rc=$?
check "--lang en (rc=$rc): English page" bash -c "[ $rc -eq 0 ] && grep -q '<html lang=\"en\">' '$E2E_DIR/report_en.html' && grep -q 'Your data in Seinpost' '$E2E_DIR/report_en.html' && grep -q 'lodge a complaint' '$E2E_DIR/report_en.html' && grep -q 'outside the European Union' '$E2E_DIR/report_en.html' && ! grep -q 'Uw rechten' '$E2E_DIR/report_en.html'"
check "--lang en: categories from the policy's (English) description" bash -c "grep -q 'Recruitment of a young person' '$E2E_DIR/report_en.html' && ! grep -q 'werving voor drugsklusjes' '$E2E_DIR/report_en.html'"
check "--lang en: the same rows" test "$(grep -c '<tr class="disclosure">' "$E2E_DIR/report_en.html")" -eq "$rows"
check "--lang en --format json" bash -c "'$SEINPOST' --config '$NET/fg-mh/seinpost.conf' audit report --bsn $BSN --format json --lang en | python3 -c 'import json,sys; assert json.load(sys.stdin)[\"lang\"] == \"en\"'"
out=$(sp fg-mh audit report --bsn $BSN --format html --lang de 2>&1); rc=$?
check "--lang de: usage error, exit 2 (rc=$rc)" bash -c "[ $rc -eq 2 ] && grep -q 'nl or en' <<<\"\$1\"" _ "$out"
out=$(sp fg-mh audit report --bsn $BSN --format html --lang 2>&1); rc=$?
check "--lang without a value: exit 2 (rc=$rc)" test $rc -eq 2
out=$(sp fg-mh audit who-saw --bsn $BSN --lang en 2>&1); rc=$?
check "--lang is for the report only: who-saw says usage, exit 2 (rc=$rc)" test $rc -eq 2
out=$(sp fg-mh audit report --pseudonym "$ps" --format html 2>&1); rc=$?
check "the report takes a BSN, not a pseudonym: exit 2 (rc=$rc)" test $rc -eq 2
out=$(sp fg-mh audit report --kvk 12345678 --format html 2>&1); rc=$?
check "the report is about a person, not a business (--kvk): exit 2 (rc=$rc)" test $rc -eq 2
out=$(sp fg-mh audit report --bsn $BSN --format pdf 2>&1); rc=$?
check "--format pdf: exit 2 (rc=$rc)" test $rc -eq 2

# A real browser: headless Chromium renders the page.
check "chromium is installed (make deps)" command -v chromium
chrome() { timeout 120 chromium --headless --no-sandbox --disable-gpu --user-data-dir="$E2E_DIR/chromium" "$@" 2>>"$E2E_DIR/chromium.out"; }
chrome --screenshot="$E2E_DIR/report.png" --window-size=1200,2000 "file://$HTML" >/dev/null
check "the screenshot exists and is not trivial (size)" bash -c "[ \$(stat -c %s '$E2E_DIR/report.png' 2>/dev/null || echo 0) -gt 20000 ]"
check "the screenshot is 1200x2000 and not a single colour" python3 "$PNG_CHECK" "$E2E_DIR/report.png" 1200 2000 20
chrome --dump-dom "file://$HTML" >"$E2E_DIR/dom.html"
for h in "Uw gegevens in Seinpost" "Waarvoor worden uw gegevens gebruikt?" "Welke gegevens over u gaat het om?" \
         "Met wie is informatie over u gedeeld?" "Hoe lang wordt de informatie bewaard?" "Uw rechten" \
         "Een klacht indienen" "Waar komt de informatie vandaan?" "Worden er automatisch besluiten over u genomen?" \
         "Gaat de informatie naar het buitenland?"; do
	check "the browser's DOM holds the heading: $h" grep -qF ">$h</h" "$E2E_DIR/dom.html"
done
check "the browser's DOM holds the disclosure rows" test "$(grep -o '<tr class="disclosure">' "$E2E_DIR/dom.html" | wc -l)" -eq "$rows"

e2e_done
