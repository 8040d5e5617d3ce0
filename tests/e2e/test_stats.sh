#!/usr/bin/env bash
# seinpost stats (issue 16): trend figures from the broker's metadata, per
# complete month or quarter, with small-cell and complementary suppression,
# never a pseudonym. The network runs with its clock 100 days back
# (SEINPOST_TEST_CLOCK_FILE, test-only) so that its signals fall in a
# complete period when stats runs on today's clock.
. "$(dirname "$0")/lib.sh"

e2e_setup --org police:politie-limburg --org school:school-bonnefanten --org youthcare:jeugdzorg-mh \
          --org zvh:zvh-mh
echo $((-100 * 86400)) >"$E2E_DIR/clock"
export SEINPOST_TEST_CLOCK_FILE="$E2E_DIR/clock"
for p in broker politie-limburg school-bonnefanten jeugdzorg-mh zvh-mh; do e2e_start "$p" || exit 1; done

# 12 gia and 3 weapon signals from the police, 7 school-absence from the school
bsns=$(python3 -c '
import random
random.seed(7)
out = []
while len(out) < 22:
    d = [random.randint(0, 9) for _ in range(8)]
    s = sum(x * w for x, w in zip(d, range(9, 1, -1)))
    last = s % 11
    if last <= 9 and d[0] != 0:
        out.append("".join(map(str, d)) + str(last))
print(" ".join(out))')
set -- $bsns
n=0
submit() { # org category weight bsn
	sp "$1" submit --category "$2" --weight "$3" --bsn "$4" --summary "statistiek test" --wait=15 >/dev/null 2>&1 && n=$((n + 1))
}
for i in $(seq 1 12); do submit politie-limburg gia 2 "$1"; shift; done
for i in $(seq 1 3); do submit politie-limburg weapon 2 "$1"; shift; done
for i in $(seq 1 7); do submit school-bonnefanten school-absence 1 "$1"; shift; done
check "22 signals accepted under the stepped clock ($n)" test "$n" -eq 22

unset SEINPOST_TEST_CLOCK_FILE
period=$(date -u -d '-100 days' +%Y-%m)
quarter=$(date -u -d '-100 days' +%Y)-Q$(( ($(date -u -d '-100 days' +%-m) - 1) / 3 + 1 ))

json=$(sp broker stats --period month --json); rc=$?
check "stats --json exits 0" test $rc -eq 0
echo "$json" >"$E2E_DIR/stats.json"
py() { python3 -c "import json,sys; d=json.load(open('$E2E_DIR/stats.json')); $1"; }
check "the period of the signals is a row ($period)" py "assert d['periods'] == ['$period'], d['periods']"
check "groups are the categories" py "assert d['groups'] == ['gia', 'school-absence', 'weapon'], d['groups']"
check "gia: 12 shown" py "assert d['counts'][0][0] == 12"
check "school-absence: 7 shown" py "assert d['counts'][1][0] == 7"
check "weapon: 3 is below 5 and hidden (null)" py "assert d['counts'][2][0] is None"
check "the month's total 22 is shown" py "assert d['period_totals'][0] == 22"
# 22 - 12 - 7 would give the weapon count away: a second cell is hidden
check "complementary suppression: at least two cells of the month hidden" \
	py "assert sum(1 for g in d['counts'] if g[0] is None) >= 2"
check "k comes from the policy default (5)" py "assert d['min_cell'] == 5"
check "generated_at is RFC 3339 UTC" py "import re; assert re.fullmatch(r'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ', d['generated_at'])"

text=$(sp broker stats)
check "text output marks hidden cells as <5" grep -q '<5' <<<"$text"
check "text output shows the gia count" grep -Eq '^gia +12 ' <<<"$text"

q=$(sp broker stats --period quarter --by category,role --csv)
check "quarter CSV has the quarter ($quarter)" grep -q "\"$quarter\"" <<<"$q"
check "CSV by category and role: gia from police 12" grep -q "\"$quarter\",\"gia police\",12" <<<"$q"
check "CSV hides the weapon cell" grep -q "\"$quarter\",\"weapon police\",<5" <<<"$q"

check "stats --svg writes a chart" sp broker stats --by weight --svg "$E2E_DIR/chart.svg"
check "the SVG is well-formed XML with a hidden-cell marker" python3 -c "
import xml.etree.ElementTree as ET
t = ET.parse('$E2E_DIR/chart.svg'); s = open('$E2E_DIR/chart.svg').read()
assert t.getroot().tag.endswith('svg'); assert '&lt;5' in s or 'w2' in s"

# never a pseudonym, a signal id or an organisation id
sp broker audit log --json >"$E2E_DIR/log.json"
python3 - "$E2E_DIR/log.json" >"$E2E_DIR/secrets.txt" <<'EOF'
import json, sys
for r in json.load(open(sys.argv[1])):
    for k in ('subject', 'signal'):
        if r.get(k): print(r[k])
EOF
all=$(sp broker stats --json; sp broker stats --csv --by category,weight,role; cat "$E2E_DIR/chart.svg")
leak=0
while read -r s; do [ -n "$s" ] && grep -qF "$s" <<<"$all" && leak=1; done <"$E2E_DIR/secrets.txt"
check "no pseudonym or signal id in any output ($(wc -l <"$E2E_DIR/secrets.txt") checked)" test $leak -eq 0
check "no organisation id in any output" bash -c "! grep -Eq 'politie-limburg|school-bonnefanten' <<<\"\$1\"" _ "$all"

# the running period is never shown: a run today sees nothing of today
echo 0 >"$E2E_DIR/clock0"
SEINPOST_TEST_CLOCK_FILE="$E2E_DIR/clock0" sp politie-limburg submit --category gia --weight 2 --bsn 111222333 --wait=15 >/dev/null 2>&1
sleep 1
cur=$(sp broker stats --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["periods"])')
check "the running month is not a row ($cur)" bash -c "! grep -q $(date -u +%Y-%m) <<<'$cur'"

out=$(sp broker stats --period week 2>&1); rc=$?
check "free periods refused (exit 2)" test $rc -eq 2
out=$(sp politie-limburg stats 2>&1); rc=$?
check "stats on a node refused (exit 2)" test $rc -eq 2

# profiling categories are refused by the policy validator
sed 's/^\[category weapon\]/[category ethnic-origin]/; s/^category = weapon$/category = ethnic-origin/' \
	"$ROOT/deploy/policy.example" >"$E2E_DIR/profiling.policy"
out=$("$SEINPOST" policy check "$E2E_DIR/profiling.policy" 2>&1); rc=$?
check "a category about ethnicity is refused (rc=$rc)" bash -c "[ $rc -ne 0 ] && grep -q profiling <<<'$out'"
awk '/^\[category gia\]/{print; getline; print "description    = Nationaliteit en religie van de ouders"; next} {print}' \
	"$ROOT/deploy/policy.example" >"$E2E_DIR/profiling2.policy"
out=$("$SEINPOST" policy check "$E2E_DIR/profiling2.policy" 2>&1); rc=$?
check "a description about nationality or religion is refused" bash -c "[ $rc -ne 0 ] && grep -q profiling <<<'$out'"

e2e_done
