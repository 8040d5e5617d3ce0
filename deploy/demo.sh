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

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
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
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()' 2>/dev/null || echo 7700)

say "1. seinpost net init: broker, police, school, youth care, ZVH on 127.0.0.1:$port"
"$SP" net init "$DEMO_DIR/net" --port "$port" --policy "$ROOT/deploy/policy.example" || exit 1
NET="$DEMO_DIR/net"
ORGS=(politie-limburg school-bonnefanten jeugdzorg-mh zvh-mh)

say "2. start the broker and the nodes (logs in $DEMO_DIR/logs)"
for p in broker "${ORGS[@]}"; do
	"$SPD" --config "$NET/$p/seinpost.conf" >"$DEMO_DIR/logs/$p.log" 2>&1 &
	PIDS+=($!)
done
for p in "${ORGS[@]}"; do
	for _ in $(seq 1 100); do [ -S "$NET/$p/state/submit.sock" ] && break; sleep 0.05; done
done
echo "running: ${#PIDS[@]} processes"

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

say "6. the school opens the drug-recruitment signal (contact tier only)"
"$SP" --config "$NET/school-bonnefanten/seinpost.conf" show "$id1" --user zorgcoordinator.demo
say "7. youth care opens it (contact and summary, never the identity)"
"$SP" --config "$NET/jeugdzorg-mh/seinpost.conf" show "$id1" --user hulpverlener.demo

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

cleanup
PIDS=()
say "done; state left in $DEMO_DIR for inspection"
