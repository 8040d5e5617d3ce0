# Scene: police submits signals; each organisation sees only its tiers.
say "3. police signals: a pupil approached for drug courier work (weight 2)"
id1=$("$SP" --config "$NET/politie-limburg/seinpost.conf" submit --category drug-recruitment --weight 2 \
	--bsn 111222333 --name "Demo Leerling" --birthdate 2010-05-01 \
	--summary "Seen being recruited for parcel courier work near the station" \
	--contact "Wijkagent Maastricht-Centrum, 0900-8844" --wait=10) || exit 1
echo "signal id: $id1"

say "4. police signals domestic violence at home (GIA, weight 2) about the same child"
id2=$("$SP" --config "$NET/politie-limburg/seinpost.conf" submit --category gia --weight 2 \
	--bsn 111222333 --summary "Police call-out for domestic violence last night" \
	--contact "Politie Basisteam Maastricht" --wait=10) || exit 1
echo "signal id: $id2"
sleep 1

for org in school-bonnefanten jeugdzorg-mh zvh-mh; do
	say "5. inbox of $org"
	"$SP" --config "$NET/$org/seinpost.conf" inbox
done

say "6. the school holds nothing yet: school tiers are if-involved (it registers the pupil below)"
"$SP" --config "$NET/school-bonnefanten/seinpost.conf" inbox
say "7. youth care opens it (contact and summary, never the identity)"
"$SP" --config "$NET/jeugdzorg-mh/seinpost.conf" show "$id1" --user hulpverlener.demo

