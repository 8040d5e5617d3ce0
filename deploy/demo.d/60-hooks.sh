# Scene: delivery hooks. The ZVH's node hands each referral it received in
# 50-policy.sh to its case system: deploy/examples/zvh-referrals-to-csv, run
# as the ZVH's [hook] command (configured in demo.sh before the node started),
# appends one CSV line per referred signal. docs/hooks.md.
ZVH_CONF="$NET/zvh-mh/seinpost.conf"
say "the ZVH's delivery hook: every new referral goes to its own case system"
sed -n '/^\[hook\]/,$p' "$ZVH_CONF"
echo "(import-referrals: ZVH_CSV=$HOOK_CSV exec deploy/examples/zvh-referrals-to-csv)"
for _ in $(seq 1 50); do
	"$SP" --config "$ZVH_CONF" status 2>/dev/null | grep -q '^  hook *pending *0$' && break; sleep 0.2
done

say "the file the hook wrote for the case system, one line per referred signal (text columns not shown)"
python3 - "$HOOK_CSV" <<'PY' || exit 1
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="", encoding="utf-8")))
cols = ["from", "category", "weight", "fired"]
table = [cols] + [[r[c] for c in cols] for r in rows]
w = [max(len(t[i]) for t in table) for i in range(len(cols))]
for t in table:
    print("  " + "  ".join(c.ljust(w[i]) for i, c in enumerate(t)).rstrip())
print("  %d line%s; the file also holds: %s" % (len(rows), "" if len(rows) == 1 else "s",
      ", ".join(c for c in (rows[0].keys() if rows else []) if c not in cols)))
PY
echo "(each line has an item id; the hook skips an id it already wrote, so a repeat adds nothing)"

say "the ZVH node's health: nothing waiting for the case system (a failing hand-over would show here)"
"$SP" --config "$ZVH_CONF" status || true
echo "(each hand-over is recorded in the audit log as a read by the ZVH's case system)"
