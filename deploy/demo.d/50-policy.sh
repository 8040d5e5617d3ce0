# Scene: Handle With Care at the school and an escalation referral at the ZVH,
# with the rules that allowed them. Runs after 10-first-signal.sh (which sent a
# drug-recruitment and a GIA signal about the demo pupil from the police).
say "the school registers the pupil as its own (its pupil number stays at the school)"
"$SP" --config "$NET/school-bonnefanten/seinpost.conf" involve --bsn 111222333 --ref "leerling 2231" || exit 1
sleep 2
say "the school now holds what the policy gives a pupil's own school"
echo "  the drug signal: whom to call and what happened; the night at home (Handle With Care): only"
echo "  that something happened, so staff can be there for the child without knowing the details"
"$SP" --config "$NET/school-bonnefanten/seinpost.conf" inbox --json | words inbox
"$SP" --config "$NET/school-bonnefanten/seinpost.conf" show "$id2" --user zorgcoordinator.demo

say "youth care signals drug recruitment too: now two organisations are worried about the same child"
id3=$("$SP" --config "$NET/jeugdzorg-mh/seinpost.conf" submit --category drug-recruitment --weight 2 \
	--bsn 111222333 --summary "Young person tells of paid 'jobs' near the station" \
	--contact "Jeugdzorg MH, team Centrum" --wait=10 2>/dev/null) || exit 1
echo "stored and accepted by the broker as signal $(short "$id3")"
echo "The escalation rule asks for signals from at least 2 organisations with a total weight of at"
echo "least 4. Police (2 signals, weight 2 each) and youth care (weight 2) make 3 signals of total"
echo "weight 6, so the ZVH gets one referral for the child."
for _ in $(seq 1 50); do
	"$SP" --config "$NET/zvh-mh/seinpost.conf" referrals | grep -q '^referral ' && break; sleep 0.2
done
say "the ZVH's referral: one case, with the signals the ZVH may now see"
"$SP" --config "$NET/zvh-mh/seinpost.conf" referrals --json | words referrals
say "the ZVH process coordinator opens one of them (what happened; the identity stays closed)"
"$SP" --config "$NET/zvh-mh/seinpost.conf" show "$id3" --user procesregisseur.demo
