# tests/e2e/lib_audit.sh — helpers for the audit scenarios (source after lib.sh).
TAMPER="$BUILD/tools/sp_audit_tamper"
VERIFY_EXPORT="$ROOT/tests/tools/verify_export.py"

# Start the broker and the given nodes.
audit_start() { # org...
	e2e_start broker || exit 1
	for o in "$@"; do e2e_start "$o" || exit 1; done
}

# Submit the standard test signal from the police; prints its id. The school
# registers the pupil first: school tiers are if-involved in the policy.
audit_submit() { # bsn [weight]
	sp school-bonnefanten involve --bsn "$1" --ref "pupil" >/dev/null 2>&1
	sp politie-limburg submit --category drug-recruitment --weight "${2:-2}" --bsn "$1" \
		--summary "Benaderd voor koerierswerk" --contact "wijkagent 0612345678" --wait=10
}

# Wait until a node's witness state has a head of at least SIZE records.
audit_wait_witness() { # org size
	local org=$1 size=$2
	e2e_wait_for 15 bash -c "'$SEINPOST' --config '$NET/$org/seinpost.conf' audit witness --json | python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin).get(\"tree_head\", {}).get(\"tree_size\", 0) >= $size else 1)'"
}

# Broker log size (records).
audit_size() {
	"$SEINPOST" --config "$NET/broker/seinpost.conf" audit log --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'
}
