#!/usr/bin/env bash
# e2e: a keyed network (net init: every partner holds pseudo.key) moved to
# the pseudonymisation service with one command (`seinpost net migrate`),
# real processes. Before: the school is involved with a child, the police's
# signal reached it, and the youth care's signal about the same child waits
# in its outbox (the broker down). After: no node folder holds pseudo.key, a
# node with a [pseudonymiser] section refuses to start while one is back;
# the waiting signal goes out under the old epoch, still matches the old
# involvement and escalates with the police's old signal; the school
# re-registers from its own records and a new signal, under the service's
# pseudonym k·H(x), reaches it with its reference.
. "$(dirname "$0")/lib.sh"

e2e_setup
ALL="politie-limburg school-bonnefanten jeugdzorg-mh zvh-mh fg-mh"
for p in broker $ALL; do e2e_start "$p" || exit 1; done
BSN=111222333
inbox_has() { "$SEINPOST" --config "$NET/$1/seinpost.conf" inbox | grep -q "$2"; }

check "keyed: the school registers its pupil" sp school-bonnefanten involve --bsn $BSN --ref LL-7
id1=$(sp politie-limburg submit --category drug-recruitment --weight 2 --bsn $BSN --summary "oud" --wait=10)
check "keyed: the police's signal is accepted" test ${#id1} -eq 32
check "keyed: ... and reaches the involved school" e2e_wait_for 10 inbox_has school-bonnefanten "$id1"
e2e_stop broker
id0=$(sp jeugdzorg-mh submit --category drug-recruitment --weight 2 --bsn $BSN --summary "onderweg")
check "keyed: the youth care's signal waits in its outbox (broker down)" \
	bash -c "'$SEINPOST' --config '$NET/jeugdzorg-mh/seinpost.conf' outbox | grep '$id0' | grep -q pending"
e2e_stop_all

OPRF_PORT=$(e2e_free_port)
"$SEINPOST" net migrate "$NET" --pseudonymisers 1 --oprf-port "$OPRF_PORT" >"$E2E_DIR/migrate.out" 2>&1
rc=$?
cat "$E2E_DIR/migrate.out"
check "net migrate succeeds (rc=$rc)" test $rc -eq 0
check "no pseudo.key is left anywhere in the network's folder" test -z "$(find "$NET" -name pseudo.key)"
check "no configuration names a pseudonym_key" bash -c "! grep -l pseudonym_key '$NET'/*/seinpost.conf"
for o in $ALL; do
	check "$o pins the service's key ([pseudonymiser])" grep -q '^\[pseudonymiser\]' "$NET/$o/seinpost.conf"
done
check "the service is on the roster" bash -c "'$SEINPOST' roster show '$NET/roster.bin' | grep -q pseudo-mh"
"$SEINPOST" net migrate "$NET" --pseudonymisers 1 --oprf-port "$OPRF_PORT" >/dev/null 2>&1
check "a second migrate is refused (the service is there)" test $? -eq 1

# A pseudo.key back beside a node of the service network: the node refuses to start.
printf '00\n' >"$NET/school-bonnefanten/pseudo.key"
chmod 600 "$NET/school-bonnefanten/pseudo.key"
"$SEINPOSTD" --config "$NET/school-bonnefanten/seinpost.conf" --check-config >"$E2E_DIR/cc.out" 2>&1
rc=$?
check "a node with [pseudonymiser] and a pseudo.key refuses to start (rc=$rc)" test $rc -ne 0
check "... saying why" grep -q "refusing to start: .* a pseudonymisation key is still present" "$E2E_DIR/cc.out" || cat "$E2E_DIR/cc.out"
"$SEINPOST" --config "$NET/school-bonnefanten/seinpost.conf" pseudonym migrate --network "$NET/roster.bin" \
	--pseudonymiser "tcp://127.0.0.1:$OPRF_PORT" >/dev/null
check "pseudonym migrate (the per-node step) removes it again" test ! -e "$NET/school-bonnefanten/pseudo.key"
check "... and the node passes its checks" "$SEINPOSTD" --config "$NET/school-bonnefanten/seinpost.conf" --check-config

"$SEINPOSTD" --config "$NET/pseudo-mh/seinpost.conf" --verbose >>"$E2E_DIR/pseudo-mh.log" 2>&1 &
E2E_PIDS+=($!)
for _ in $(seq 1 200); do grep -q "listening on" "$E2E_DIR/pseudo-mh.log" 2>/dev/null && break; sleep 0.05; done
for p in broker $ALL; do e2e_start "$p" || exit 1; done
check "the nodes take their pseudonyms from the service" grep -q "pseudonyms from the pseudonymisation service" "$E2E_DIR/school-bonnefanten.log"

# The old epoch runs out under itself.
check "old epoch: the waiting signal is delivered to the school (old involvement)" \
	e2e_wait_for 15 inbox_has school-bonnefanten "$id0"
check "old epoch: it escalates with the police's old signal (ZVH referral)" e2e_wait_for 15 bash -c \
	"'$SEINPOST' --config '$NET/zvh-mh/seinpost.conf' referrals | grep -q '$id1' && '$SEINPOST' --config '$NET/zvh-mh/seinpost.conf' referrals | grep -q '$id0'"
check "old epoch: the police's old signal is still in the school's inbox with its reference" \
	bash -c "'$SEINPOST' --config '$NET/school-bonnefanten/seinpost.conf' inbox | grep '$id1' | grep -q 'ref LL-7'"

# The new epoch: re-registered from the school's own records.
printf '%s,LL-7\n' $BSN >"$E2E_DIR/records.csv"
check "the school re-registers from its records (involve --file)" sp school-bonnefanten involve --file "$E2E_DIR/records.csv" --quiet
id2=$(sp politie-limburg submit --category drug-recruitment --weight 2 --bsn $BSN --summary "nieuw" --wait=10)
check "new epoch: the police's new signal is accepted" test ${#id2} -eq 32
check "new epoch: it reaches the school with its reference" e2e_wait_for 10 bash -c \
	"'$SEINPOST' --config '$NET/school-bonnefanten/seinpost.conf' inbox | grep '$id2' | grep -q 'ref LL-7'"
P=$(sp fg-mh pseudonym $BSN)
check "the privacy officer's look-up gives the service's pseudonym" test ${#P} -eq 64
sleep 1
check "new epoch: the broker's store holds the service's pseudonym k·H(x)" python3 - "$NET/broker" "$P" <<'PYEOF'
import os, sys
root, p = sys.argv[1], bytes.fromhex(sys.argv[2])
blob = b"".join(open(os.path.join(d, f), "rb").read() for d, _, fs in os.walk(root) for f in fs
                if os.path.isfile(os.path.join(d, f)))
sys.exit(0 if p in blob else 1)
PYEOF
check "the service evaluated the re-registration and the new signal" \
	bash -c "'$SEINPOST' --config '$NET/pseudo-mh/seinpost.conf' audit log | grep -q 'oprf-evaluated school-bonnefanten'"
e2e_stop_all

# To 2-of-3 instances: a fresh keyed network, migrated, asks two of three.
rm -rf "$NET"
"$SEINPOST" net init "$NET" --port "$(e2e_free_port)" --policy "$ROOT/deploy/policy.example" >/dev/null || exit 1
OPRF_PORT=$(e2e_free_port)
"$SEINPOST" net migrate "$NET" --pseudonymisers 3 --threshold 2 --oprf-port "$OPRF_PORT" >"$E2E_DIR/migrate3.out" 2>&1
check "2-of-3: net migrate succeeds" test $? -eq 0
check "2-of-3: no pseudo.key is left" test -z "$(find "$NET" -name pseudo.key)"
check "2-of-3: the school names the three instances" grep -q '^service = pseudo-mh-1 pseudo-mh-2 pseudo-mh-3$' "$NET/school-bonnefanten/seinpost.conf"
for i in 1 2 3; do
	"$SEINPOSTD" --config "$NET/pseudo-mh-$i/seinpost.conf" --verbose >>"$E2E_DIR/pseudo-mh-$i.log" 2>&1 &
	E2E_PIDS+=($!)
done
for i in 1 2 3; do for _ in $(seq 1 200); do grep -q "listening on" "$E2E_DIR/pseudo-mh-$i.log" 2>/dev/null && break; sleep 0.05; done; done
for p in broker school-bonnefanten politie-limburg; do e2e_start "$p" || exit 1; done
check "2-of-3: the school registers its pupil" sp school-bonnefanten involve --bsn $BSN --ref LL-9
id3=$(sp politie-limburg submit --category drug-recruitment --weight 2 --bsn $BSN --summary "t-of-n" --wait=10)
check "2-of-3: a new signal reaches the school" e2e_wait_for 10 bash -c \
	"'$SEINPOST' --config '$NET/school-bonnefanten/seinpost.conf' inbox | grep '$id3' | grep -q 'ref LL-9'"
e2e_done
