# Scene: what happened with my signal (terugkoppeling, issue 16). The ZVH's
# process coordinator accepts the referral of 50-policy.sh with a reason; the
# police, who sent two of its signals, see in their own outbox what happened:
# delivered to which role, opened, part of a referral, and the referral's
# status. Existence tier only: no content of anyone else's signal, no names.
ZVH_CONF="$NET/zvh-mh/seinpost.conf"
POL_CONF="$NET/politie-limburg/seinpost.conf"
ref=$("$SP" --config "$ZVH_CONF" referrals --json | python3 -c 'import json,sys; r=json.load(sys.stdin); print(r[0]["id"] if r else "")')
[ -n "$ref" ] || { echo "demo: no referral at the ZVH"; exit 1; }
say "the ZVH's process coordinator accepts the referral, with a reason (kept in the audit log)"
"$SP" --config "$ZVH_CONF" referral status "$ref" accepted --user procesregisseur.demo \
	--reason "Casus besproken in het netwerkoverleg; regie bij het ZVH" || exit 1
"$SP" --config "$ZVH_CONF" referral status "$ref" intervention family-coaching --user procesregisseur.demo \
	--reason "Gezin stemt in met begeleiding" || exit 1
for _ in $(seq 1 50); do
	"$SP" --config "$POL_CONF" outbox | grep -q 'intervention' && break; sleep 0.2
done
say "the police's outbox: what happened with their signals (roles and events only, no content)"
"$SP" --config "$POL_CONF" outbox
echo "(the reason stays with the ZVH and the privacy officer; the police learn that their signal is"
echo " part of a referral the ZVH accepted, and that an intervention followed)"
