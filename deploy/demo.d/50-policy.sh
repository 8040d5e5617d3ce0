# Scene: Handle With Care at the school and an escalation referral at the ZVH,
# with the rules that allowed them. Runs after 10-first-signal.sh (which sent a
# drug-recruitment and a GIA signal about the demo pupil from the police).
say "11. the school registers the pupil as its own (the reference stays at the school)"
"$SP" --config "$NET/school-bonnefanten/seinpost.conf" involve --bsn 111222333 --ref "leerling 2231" || exit 1
sleep 2
say "12. Handle With Care: the school now holds an existence-only notice of the GIA signal"
"$SP" --config "$NET/school-bonnefanten/seinpost.conf" inbox
"$SP" --config "$NET/school-bonnefanten/seinpost.conf" show "$id2" --user zorgcoordinator.demo

say "13. youth care also signals drug recruitment: 2 organisations, summed weight 4 -> escalation"
id3=$("$SP" --config "$NET/jeugdzorg-mh/seinpost.conf" submit --category drug-recruitment --weight 2 \
	--bsn 111222333 --summary "Young person tells of paid 'jobs' near the station" \
	--contact "Jeugdzorg MH, team Centrum" --wait=10) || exit 1
echo "signal id: $id3"
for _ in $(seq 1 50); do
	"$SP" --config "$NET/zvh-mh/seinpost.conf" referrals | grep -q '^referral ' && break; sleep 0.2
done
say "14. the ZVH's referral: one case, the signals in the window, the rule that fired"
"$SP" --config "$NET/zvh-mh/seinpost.conf" referrals
say "15. the ZVH coordinator opens a released signal (summary released on escalation)"
"$SP" --config "$NET/zvh-mh/seinpost.conf" show "$id3" --user procesregisseur.demo
say "16. the rules that allowed it, in the broker's audit log"
"$SP" --config "$NET/broker/seinpost.conf" audit log | grep -E 'escalated|released' || true
