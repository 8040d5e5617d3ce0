#!/usr/bin/env bash
# e2e: the 2-of-3 pseudonymisation key made and rotated between machines
# (docs/pseudonymiser.md, "Between machines"): each instance has its own
# directory and keys and runs its own commands; only files travel (enrol.json,
# signed deals, the rotation proposal, the sealed translation file). Then a
# 2-of-3 network on the result: any pair of instances gives the same
# pseudonym, a signal goes through, and after the rotation the nodes take the
# new key without an alarm and the broker has translated.
. "$(dirname "$0")/lib.sh"

E2E_DIR=$(mktemp -d "${TMPDIR:-/tmp}/sp-e2e-XXXXXX")
E2E_PORT=$(e2e_free_port)
trap e2e_teardown EXIT
NET="$E2E_DIR/net"
EP="tcp://127.0.0.1:$E2E_PORT"
PORTS=($(e2e_free_port) $(e2e_free_port) $(e2e_free_port))
EPS="tcp://127.0.0.1:${PORTS[0]} tcp://127.0.0.1:${PORTS[1]} tcp://127.0.0.1:${PORTS[2]}"
BSN=111222333
q() { "$@" >>"$E2E_DIR/commands.out"; } # what the commands print, kept out of the test's output

check "the operator creates the network" q "$SEINPOST" network create "$NET" --name e2e-region --listen "$EP" \
	--policy "$ROOT/deploy/policy.example" --state "$NET/broker/state"
OPK=$(cat "$NET/operator.pub")

# --- each instance on its own machine ------------------------------------------
mkdir -p "$E2E_DIR/peers" "$E2E_DIR/deals"
for i in 1 2 3; do
	M="$E2E_DIR/machine-$i"
	"$SEINPOST" keygen "$M/keys" --org "pseudo-mh-$i" --role pseudonymiser >/dev/null || exit 1
	cp "$M/keys/enrol.json" "$E2E_DIR/peers/$i.json" # handed to the operator, who hands all to all
	cp "$NET/roster.bin" "$M/roster.bin"
	cp "$NET/policy.ini" "$M/policy.ini"
	mkdir -p "$M/state"
	cat >"$M/seinpost.conf" <<EOF
[seinpost]
role = pseudonymiser
org = pseudo-mh-$i
keys = keys
state = state
roster = roster.bin
operator_key = $OPK
policy = policy.ini
log = stderr

[pseudonymiser]
listen = tcp://127.0.0.1:${PORTS[$((i - 1))]}

[limits]
map_size_mb = 64
EOF
done
svc() { "$SEINPOST" --config "$E2E_DIR/machine-$1/seinpost.conf" "${@:2}"; }

for i in 1 2 3; do
	check "instance $i deals (its own machine)" q svc $i ceremony deal "$E2E_DIR/machine-$i/out" --peers "$E2E_DIR/peers" --threshold 2
	cp "$E2E_DIR/machine-$i/out/deal-$i.bin" "$E2E_DIR/deals/"
done

# refusals first: nothing is written on any of them
before=$(sha256sum "$E2E_DIR/machine-1/keys/oprf.key")
mkdir -p "$E2E_DIR/short" && cp "$E2E_DIR/deals/deal-1.bin" "$E2E_DIR/deals/deal-2.bin" "$E2E_DIR/short/"
out=$(svc 1 ceremony combine "$E2E_DIR/short" --peers "$E2E_DIR/peers" 2>&1); rc=$?
check "combine without every instance's deal is refused (rc=$rc)" bash -c "[ $rc -eq 1 ] && grep -q 'no deal of pseudo-mh-3' <<<\"\$1\"" _ "$out"
mkdir -p "$E2E_DIR/bad" && cp "$E2E_DIR/deals/"* "$E2E_DIR/bad/"
python3 - "$E2E_DIR/bad/deal-3.bin" <<'EOF'
import sys
p = sys.argv[1]; b = bytearray(open(p, 'rb').read()); b[60] ^= 1; open(p, 'wb').write(b)
EOF
out=$(svc 1 ceremony combine "$E2E_DIR/bad" --peers "$E2E_DIR/peers" 2>&1); rc=$?
check "a deal altered in transit is refused (rc=$rc)" test $rc -eq 1
check "... and nothing was written" test "$before" = "$(sha256sum "$E2E_DIR/machine-1/keys/oprf.key")"

# a cheating dealer: instance 3 commits to another polynomial than the one
# its sealed sub-shares come from, and signs that as its deal
mkdir -p "$E2E_DIR/cheat" && cp "$E2E_DIR/deals/"* "$E2E_DIR/cheat/"
ASAN_OPTIONS=detect_leaks=0 "$BUILD/tools/sp_ceremony_forge" "$E2E_DIR/deals/deal-3.bin" "$E2E_DIR/deals/deal-2.bin" "$E2E_DIR/machine-3/keys" \
	"$E2E_DIR/cheat/deal-3.bin" || exit 1
out=$(svc 1 ceremony combine "$E2E_DIR/cheat" --peers "$E2E_DIR/peers" 2>&1); rc=$?
check "a dealer whose sub-share fails its own commitments: a complaint naming it (rc=$rc)" \
	bash -c "[ $rc -eq 1 ] && grep -q 'complaint: the sub-share from pseudo-mh-3' <<<\"\$1\"" _ "$out"
check "... and nothing was written" test "$before" = "$(sha256sum "$E2E_DIR/machine-1/keys/oprf.key")"

for i in 1 2 3; do
	svc $i ceremony combine "$E2E_DIR/deals" --peers "$E2E_DIR/peers" >"$E2E_DIR/combine-$i.out" 2>&1
	check "instance $i combines its share" test $? -eq 0
done
G=$(sed -n 's/^group key \([0-9a-f]*\).*/\1/p' "$E2E_DIR/combine-1.out")
check "all three instances name the same group key" bash -c "[ ${#G} -eq 64 ] && grep -q $G '$E2E_DIR/combine-2.out' && grep -q $G '$E2E_DIR/combine-3.out'"
check "the three shares differ" test "$(cat "$E2E_DIR"/machine-*/keys/oprf.key | sort -u | wc -l)" -eq 3
check "each share is 0600" bash -c "for i in 1 2 3; do [ \$(stat -c %a '$E2E_DIR'/machine-\$i/keys/oprf.key) = 600 ] || exit 1; done"

# --- the operator ---------------------------------------------------------------
out=$("$SEINPOST" ceremony commit "$NET/roster.bin" "$E2E_DIR/deals" --peers "$E2E_DIR/peers" 2>&1); rc=$?
check "the operator puts the commitments on the roster (rc=$rc)" test $rc -eq 0
check "... the same group key" grep -q "$G" <<<"$out"
for i in 1 2 3; do
	check "roster add pseudo-mh-$i (its share's key checked against the commitments)" \
		q "$SEINPOST" roster add "$NET/roster.bin" "$E2E_DIR/machine-$i/keys/enrol.json"
done

for ro in police:politie-limburg school:school-bonnefanten privacy-officer:fg-mh; do
	role=${ro%%:*} id=${ro#*:}
	"$SEINPOST" keygen "$NET/$id/keys" --org "$id" --role "$role" >/dev/null || exit 1
	"$SEINPOST" roster add "$NET/roster.bin" "$NET/$id/keys/enrol.json" >/dev/null || exit 1
done
for id in politie-limburg school-bonnefanten fg-mh; do
	check "node config $id pins the group key" q "$SEINPOST" node config "$NET/$id" --network "$NET/roster.bin" \
		--broker "$EP" --state "$NET/$id/state" --pseudonymiser "$EPS"
	echo "timeout_ms = 1500" >>"$NET/$id/seinpost.conf"
done
check "the pinned key is the DKG's group key" grep -q "^key = $G" "$NET/fg-mh/seinpost.conf"
for i in 1 2 3; do cp "$NET/roster.bin" "$E2E_DIR/machine-$i/roster.bin"; done # the instances' copy

# --- a 2-of-3 network on the result -----------------------------------------------
svc_start() { # i
	local log="$E2E_DIR/pseudo-mh-$1.log" before
	before=$(grep -c "listening on" "$log" 2>/dev/null)
	(cd "$E2E_DIR/machine-$1" && exec "$SEINPOSTD" --config seinpost.conf --verbose) >>"$log" 2>&1 &
	eval "PID_pseudo_mh_$1=$!"
	E2E_PIDS+=($!)
	for _ in $(seq 1 200); do
		[ "$(grep -c "listening on" "$log" 2>/dev/null)" -gt "${before:-0}" ] && return 0
		sleep 0.05
	done
	echo "pseudo-mh-$1 did not start"; cat "$log"; return 1
}
for i in 1 2 3; do svc_start $i || exit 1; done
for p in broker politie-limburg school-bonnefanten fg-mh; do e2e_start "$p" || exit 1; done
P0=$(sp fg-mh pseudonym $BSN)
check "a pseudonym from the ceremony's key" test "${#P0}" -eq 64
for down in 1 2 3; do
	e2e_stop "pseudo-mh-$down"
	check "instance $down down: the same pseudonym" test "$(sp fg-mh pseudonym $BSN 2>/dev/null)" = "$P0"
	svc_start $down || exit 1
done
check "the school registers its pupil" q sp school-bonnefanten involve --bsn $BSN --ref LL-3 2>&1
id=$(sp politie-limburg submit --category drug-recruitment --weight 2 --bsn $BSN --summary x --contact y --wait=10 2>/dev/null)
check "a signal through the network" test ${#id} -eq 32
check "... reaches the involved school" e2e_wait_for 15 bash -c "'$SEINPOST' --config '$NET/school-bonnefanten/seinpost.conf' inbox | grep -q '${id:-none}'"

# --- the rotation between machines --------------------------------------------------
for i in 1 2 3; do e2e_stop "pseudo-mh-$i"; done
mkdir -p "$E2E_DIR/rdeals"
for i in 1 2 3; do
	check "instance $i deals its rotation round" q svc $i ceremony deal "$E2E_DIR/machine-$i/rout"
	cp "$E2E_DIR/machine-$i/rout/deal-$i.bin" "$E2E_DIR/rdeals/"
done
for i in 1 2 3; do
	check "instance $i combines: its new share" q svc $i ceremony combine "$E2E_DIR/rdeals" "$E2E_DIR/machine-$i/prop"
done
check "the translation file for the broker is 0600" test "$(stat -c %a "$E2E_DIR/machine-2/prop/translation-1.bin")" = 600
cp "$E2E_DIR/machine-2/prop/rotation-1.bin" "$E2E_DIR/rot-bad.bin"
python3 -c 'import sys; p = sys.argv[1]; b = bytearray(open(p, "rb").read()); b[-70] ^= 1; open(p, "wb").write(b)' "$E2E_DIR/rot-bad.bin"
rbefore=$(sha256sum "$NET/roster.bin")
out=$("$SEINPOST" ceremony commit "$NET/roster.bin" "$E2E_DIR/rdeals" --rotation "$E2E_DIR/rot-bad.bin" 2>&1); rc=$?
check "a rotation proposal altered in transit is refused (rc=$rc)" test $rc -eq 1
check "... the roster unchanged" test "$rbefore" = "$(sha256sum "$NET/roster.bin")"
check "the operator checks and commits the rotation" q "$SEINPOST" ceremony commit "$NET/roster.bin" "$E2E_DIR/rdeals" \
	--rotation "$E2E_DIR/machine-2/prop/rotation-1.bin"
for i in 1 2 3; do cp "$NET/roster.bin" "$E2E_DIR/machine-$i/roster.bin"; done
e2e_stop broker
out=$("$SEINPOST" --config "$NET/broker/seinpost.conf" pseudonym translate "$E2E_DIR/machine-3/prop/translation-1.bin" 2>&1); rc=$?
check "the broker opens the sealed delta and translates (rc=$rc)" bash -c "[ $rc -eq 0 ] && grep -q 'into key epoch 1' <<<\"\$1\"" _ "$out"
e2e_start broker || exit 1
for i in 1 2 3; do svc_start $i || exit 1; done
check "the nodes take the rotated key, proven from their pin" \
	e2e_wait_for 20 grep -q "pseudonymisation key rotated (epoch 0 -> 1)" "$E2E_DIR/fg-mh.log"
P1=$(sp fg-mh pseudonym $BSN)
check "a new pseudonym" test "${#P1}" -eq 64 -a "$P1" != "$P0"
for down in 1 2 3; do
	e2e_stop "pseudo-mh-$down"
	check "after the rotation, instance $down down: the same new pseudonym" test "$(sp fg-mh pseudonym $BSN 2>/dev/null)" = "$P1"
	svc_start $down || exit 1
done
id2=$(sp politie-limburg submit --category drug-recruitment --weight 2 --bsn $BSN --summary x2 --contact y --wait=10 2>/dev/null)
check "the school's involvement was translated: a signal after the rotation reaches it" \
	e2e_wait_for 15 bash -c "'$SEINPOST' --config '$NET/school-bonnefanten/seinpost.conf' inbox | grep -q '${id2:-none}'"
check "no node raised an alarm" bash -c "! grep -l ALARM '$E2E_DIR'/politie-limburg.log '$E2E_DIR'/school-bonnefanten.log '$E2E_DIR'/fg-mh.log"

e2e_done
