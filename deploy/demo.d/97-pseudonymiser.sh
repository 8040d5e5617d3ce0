# Scene: the oblivious pseudonymisation service, 2-of-3 (docs/pseudonymiser.md).
say "the privacy officer asks the 2-of-3 pseudonymisation service for the pseudonym of BSN 111222333"
echo "(the BSN is blinded before it leaves fg-mh; two instances each evaluate with their share and prove it)"
P=$("$SP" --config "$NET/fg-mh/seinpost.conf" pseudonym 111222333) || exit 1
echo "  network pseudonym: ${P:0:16}…"
say "no recipient ever sees that pseudonym: each knows the child by one of its own (signed by the broker)"
echo "(the signed header carries only a commitment to it; docs/policy-engine.md, per-recipient pseudonyms)"
for org in jeugdzorg-mh school-bonnefanten zvh-mh; do
	s=$("$SP" --config "$NET/$org/seinpost.conf" inbox --json | python3 -c \
		'import json,sys; e=json.load(sys.stdin); print(e[0]["subject"] if e else "-")')
	printf '  %-20s knows the child as %s…\n' "$org" "$s"
done
say "one instance of the service down: the other two give the same pseudonym"
kill "${PSEUDO_PIDS[0]}" 2>/dev/null # pseudo-mh-1
P2=$("$SP" --config "$NET/fg-mh/seinpost.conf" pseudonym 111222333) || exit 1
[ "$P2" = "$P" ] && echo "  the same pseudonym, from pseudo-mh-2 and pseudo-mh-3" || { echo "  DIFFERENT pseudonym"; exit 1; }
say "what an instance saw: organisations and counts, never a BSN (its own audit log)"
"$SP" --config "$NET/pseudo-mh-2/seinpost.conf" audit log | grep oprf-
