# Scene: the audit log and its verification; nothing personal at the broker.
say "the broker's audit log, last 8 records (pseudonyms, never identities)"
"$SP" --config "$NET/broker/seinpost.conf" audit log | tail -8
say "audit verification: every record chained and signed"
"$SP" --config "$NET/broker/seinpost.conf" audit verify
echo "Each organisation's node keeps its own log too; the broker signs its log, the nodes check those"
echo "signatures (next scene):"
for org in "${ORGS[@]}"; do
	printf '%s %s\n' "$org" "$("$SP" --config "$NET/$org/seinpost.conf" audit verify --json | tr -d '\n')"
done | words verify

say "privacy check: the demo child's BSN and name appear nowhere in the broker's state or log"
if grep -rqaF -e 111222333 -e "Demo Leerling" "$NET/broker" "$DEMO_DIR/logs/broker.log"; then
	echo "FOUND personal data at the broker"; exit 1
fi
echo "none found"
