# Scene: the audit log and its verification; nothing personal at the broker.
say "8. the broker's audit log (pseudonyms, never identities)"
"$SP" --config "$NET/broker/seinpost.conf" audit log
say "9. audit verification"
"$SP" --config "$NET/broker/seinpost.conf" audit verify
for org in "${ORGS[@]}"; do
	printf '%-20s ' "$org:"; "$SP" --config "$NET/$org/seinpost.conf" audit verify
done

say "10. privacy check: the demo's BSN and name appear nowhere in the broker's state or log"
if grep -rqaF -e 111222333 -e "Demo Leerling" "$NET/broker" "$DEMO_DIR/logs/broker.log"; then
	echo "FOUND personal data at the broker"; exit 1
fi
echo "none found"

