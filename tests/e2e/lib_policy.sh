# tests/e2e/lib_policy.sh — helpers for the policy-engine scenarios (source
# after lib.sh). Kept apart from lib.sh so features do not collide there.

# A copy of the example policy with a short retention for school-absence
# weight 1, so expiry can be tested without waiting days. Prints its path;
# the caller removes it once `net init` has copied it.
policy_test_file() {
	local f
	f=$(mktemp "${TMPDIR:-/tmp}/sp-policy-XXXXXX")
	sed 's/^retention_w1   = 180 days$/retention_w1   = 6 seconds/' "$ROOT/deploy/policy.example" >"$f"
	grep -q '6 seconds' "$f" || { echo "test policy: substitution failed" >&2; rm -f "$f"; return 1; }
	echo "$f"
}

# inbox of an org mentions the id
inbox_has() { sp "$1" inbox | grep -q "$2"; }
inbox_empty() { sp "$1" inbox | grep -q 'is empty'; }
referrals_of() { sp "$1" referrals; }
