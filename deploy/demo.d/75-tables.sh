# Scene: op- en afschalen. The ZVH moves the referral from the netwerkoverleg
# up to the overleg jonge aanwas, with its reason; the police, members of that
# table, now receive what was sealed for them when youth care signalled —
# nothing more. Runs after 50-policy.sh (the referral and $id3).
ref=$("$SP" --config "$NET/zvh-mh/seinpost.conf" referrals --json |
	python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])') || exit 1
say "the referral sits at the netwerkoverleg; the ZVH scales it up to the overleg jonge aanwas, with a reason"
"$SP" --config "$NET/zvh-mh/seinpost.conf" referral move "$ref" jonge-aanwas \
	--reason "pattern of recruitment near the station: discuss with the police" --user procesregisseur.demo || exit 1
for _ in $(seq 1 50); do
	"$SP" --config "$NET/politie-limburg/seinpost.conf" inbox | grep -q "${id3:0:8}" && break; sleep 0.2
done
"$SP" --config "$NET/zvh-mh/seinpost.conf" referrals | grep '  table:'
say "the police, at that table, open youth care's signal (sealed for them at submit, released by the move)"
"$SP" --config "$NET/politie-limburg/seinpost.conf" show "$id3" --user wijkagent.demo
echo "The move, its reason and each release are in the broker's audit log; the signallers learn"
echo "that the referral moved, never the reason. docs/casework.md, section Tables."
