# Scene: police submits signals; each organisation sees only its tiers.
say "police signals: a pupil approached for drug courier work (weight 2, medium)"
id1=$("$SP" --config "$NET/politie-limburg/seinpost.conf" submit --category drug-recruitment --weight 2 \
	--bsn 111222333 --name "Demo Leerling" --birthdate 2010-05-01 \
	--summary "Seen being recruited for parcel courier work near the station" \
	--contact "Wijkagent Maastricht-Centrum, 0900-8844" --wait=10 2>/dev/null) || exit 1
echo "stored and accepted by the broker as signal $(short "$id1")"

say "police signals domestic violence at home (weight 2) about the same child"
id2=$("$SP" --config "$NET/politie-limburg/seinpost.conf" submit --category gia --weight 2 \
	--bsn 111222333 --summary "Police call-out for domestic violence last night" \
	--contact "Politie Basisteam Maastricht" --wait=10 2>/dev/null) || exit 1
echo "stored and accepted by the broker as signal $(short "$id2")"
sleep 1

say "what youth care received: both signals, with whom to call and what happened"
"$SP" --config "$NET/jeugdzorg-mh/seinpost.conf" inbox --json | words inbox
say "the school and the ZVH received nothing yet"
echo "  The school only hears of a pupil it has registered as its own (below)."
echo "  The ZVH only hears of a case once the escalation rule fires (below)."
for org in school-bonnefanten zvh-mh; do
	printf '  %-20s ' "$org:"; "$SP" --config "$NET/$org/seinpost.conf" inbox --json | words inbox | sed 's/^ *//'
done
say "a youth care worker opens the first signal: whom to call and what happened, never who the child is"
"$SP" --config "$NET/jeugdzorg-mh/seinpost.conf" show "$id1" --user hulpverlener.demo
