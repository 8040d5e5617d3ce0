# Scene: delivery hooks. The ZVH's node hands each referral it received in
# 50-policy.sh to its case system: deploy/examples/zvh-referrals-to-csv, run
# as the ZVH's [hook] command (configured in demo.sh before the node started),
# appends one CSV line per referred signal. docs/hooks.md.
ZVH_CONF="$NET/zvh-mh/seinpost.conf"
say "17. the ZVH's delivery hook: every new referral goes to its case system"
sed -n '/^\[hook\]/,$p' "$ZVH_CONF"
echo "(import-referrals: ZVH_CSV=$HOOK_CSV exec deploy/examples/zvh-referrals-to-csv)"
for _ in $(seq 1 50); do
	"$SP" --config "$ZVH_CONF" status 2>/dev/null | grep -q '^  hook *pending *0$' && break; sleep 0.2
done

say "18. the referral CSV the hook wrote, one line per referred signal (summary and contact columns not shown)"
python3 - "$HOOK_CSV" <<'PY' || exit 1
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="", encoding="utf-8")))
cols, widths = ["item_id", "from", "category", "weight", "rule"], (45, 16, 16, 6, 10)
for r in [dict(zip(cols, cols))] + rows:
    print("  ".join("%-*s" % (w, r[c]) for c, w in zip(cols, widths)).rstrip())
print("%d line(s); columns: %s" % (len(rows), ", ".join(rows[0].keys()) if rows else "-"))
PY
echo "(item_id = <signal id>-referral-<n>: the hook skips an id already in the CSV, so a re-run adds nothing)"

say "19. seinpost status on the ZVH: 'hook pending 0' (a failing hook would show here, and BAD after 3 tries)"
"$SP" --config "$ZVH_CONF" status || true
echo "(each hand-over was audited as a read by user 'system:hook', like seinpost show)"
