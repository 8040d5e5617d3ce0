#!/usr/bin/env bash
# make demo — a local seinpost network on loopback, end to end.
# Creates a network in $DEMO_DIR, starts the broker and four nodes, submits
# signals, shows what each organisation received and the audit verification,
# stops the processes and leaves the state in $DEMO_DIR for inspection.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
DEMO_DIR=${DEMO_DIR:-./demo}
SP="$BUILD/seinpost"
SPD="$BUILD/seinpostd"
PIDS=()

STEP=0
say() { STEP=$((STEP + 1)); local m="$*"; m=${m#[0-9]. }; m=${m#[0-9][0-9]. }; printf '\n\033[1m== %d. %s\033[0m\n' "$STEP" "$m"; }
cleanup() {
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
}
trap cleanup EXIT

if [ -e "$DEMO_DIR/net" ]; then
	echo "demo: removing the previous demo network in $DEMO_DIR/net"
	rm -rf "$DEMO_DIR/net"
fi
mkdir -p "$DEMO_DIR/logs"
# The broker's port and the three after it (the pseudonymisation instances), all free.
port=$(python3 "$ROOT/tests/tools/free_ports.py" 4 2>/dev/null || echo 7700)

say "a network on this machine: a broker, and nodes for the police, a school, youth care, the ZVH and the privacy officer"
echo "and a 2-of-3 pseudonymisation service (pseudo-mh-1..3, its key from a local DKG) on the next three ports"
"$SP" net init "$DEMO_DIR/net" --port "$port" --policy "$ROOT/deploy/policy.example" \
	--pseudonymisers 3 --threshold 2 || exit 1
NET="$DEMO_DIR/net"
ORGS=(politie-limburg school-bonnefanten jeugdzorg-mh zvh-mh fg-mh)
# The ZVH hands each referral to its case system (scene 60-hooks.sh): a hook
# must be configured before the node starts. The example hook, wrapped to
# name its CSV (a hook gets no arguments and a clean environment).
# The hook runs under Landlock: it writes below a directory that exists when
# the node starts and is not on the way to keys/ (docs/privsep.md).
mkdir -p "$DEMO_DIR/import"
HOOK_CSV="$(cd "$DEMO_DIR" && pwd)/import/zvh-referrals.csv"
rm -f "$HOOK_CSV"
printf '#!/bin/sh\nZVH_CSV=%q exec %q\n' "$HOOK_CSV" "$ROOT/deploy/examples/zvh-referrals-to-csv" \
	>"$NET/zvh-mh/import-referrals" && chmod 0755 "$NET/zvh-mh/import-referrals" || exit 1
printf '\n[hook]\ncommand = import-referrals\n' >>"$NET/zvh-mh/seinpost.conf" || exit 1

say "start the broker and the nodes (their logs are in $DEMO_DIR/logs)"
for p in broker "${ORGS[@]}"; do
	"$SPD" --config "$NET/$p/seinpost.conf" >"$DEMO_DIR/logs/$p.log" 2>&1 &
	PIDS+=($!)
done
for p in "${ORGS[@]}"; do
	for _ in $(seq 1 100); do [ -S "$NET/$p/state/submit.sock" ] && break; sleep 0.05; done
done
PSEUDOS=(pseudo-mh-1 pseudo-mh-2 pseudo-mh-3)
PSEUDO_PIDS=()
for p in "${PSEUDOS[@]}"; do
	"$SPD" --config "$NET/$p/seinpost.conf" >"$DEMO_DIR/logs/$p.log" 2>&1 &
	PIDS+=($!)
	PSEUDO_PIDS+=($!)
done
for p in "${PSEUDOS[@]}"; do
	for _ in $(seq 1 100); do grep -q "listening on" "$DEMO_DIR/logs/$p.log" 2>/dev/null && break; sleep 0.05; done
done
echo "running: the broker, ${#ORGS[@]} organisations' nodes and ${#PSEUDOS[@]} pseudonymisation instances"

# Plain words for the reader: deploy/demo.d/words.py turns --json output into
# aligned tables, with the policy's own descriptions for categories and rules.
POLICY_JSON="$DEMO_DIR/policy.json"
"$SP" policy check "$ROOT/deploy/policy.example" --json >"$POLICY_JSON" || exit 1
words() { python3 "$ROOT/deploy/demo.d/words.py" "$1" "$POLICY_JSON"; }
short() { printf '%s…' "${1:0:8}"; }  # a signal id, shortened for reading

# The demo's scenes live in deploy/demo.d/NN-name.sh, sourced in order, so
# each feature adds its own scene. They share: SP, NET, ORGS, DEMO_DIR, say,
# words, short.
for scene in "$ROOT"/deploy/demo.d/[0-9]*.sh; do
	. "$scene" || exit 1
done

cleanup
PIDS=()
say "done; state left in $DEMO_DIR for inspection"
