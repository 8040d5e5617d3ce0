# Scene: the privacy officer (FG) answers "who saw what about this child?"
sleep 3 # read receipts (scenes 6-7) and tree heads travel on the nodes' next round
say "the school's node checked the broker's signed log: nothing was rewritten"
"$SP" --config "$NET/school-bonnefanten/seinpost.conf" audit witness
say "the privacy officer asks: who saw information about this child (BSN 111222333)?"
echo "(the BSN is pseudonymised on the FG's node; the broker only sees the pseudonym; the query is audited)"
"$SP" --config "$NET/fg-mh/seinpost.conf" audit who-saw --bsn 111222333 --json | words whosaw || exit 1
say "the report the child or parent may ask for (AVG art. 15), as HTML: $DEMO_DIR/report-111222333.html"
"$SP" --config "$NET/fg-mh/seinpost.conf" audit report --bsn 111222333 --format html \
	>"$DEMO_DIR/report-111222333.html" || exit 1
echo "(Dutch, each disclosure once; --lang en for English; docs/art15.md)"
python3 - "$DEMO_DIR/report-111222333.html" <<'PY'
import html, re, sys
s = open(sys.argv[1], encoding="utf-8").read()
for row in re.findall(r'<tr class="disclosure">(.*?)</tr>', s, flags=re.S):
    c = [" ".join(html.unescape(re.sub(r"<[^>]+>", " ", x)).split()) for x in re.findall(r"<td>(.*?)</td>", row, flags=re.S)]
    print("  %s: %s kreeg %s. Geopend: %s" % (c[0], c[1], c[2], c[5]))
PY
