#!/usr/bin/env bash
# e2e: the node's pseudonyms come from the pseudonymisation service (issue
# 13), real processes: a node named the service in its configuration blinds
# kind‖BSN, the service evaluates, the node checks the proof and unblinds;
# submit, involve and bulk involve (batches of blinded points) all use it, so
# the broker matches on k·H(x) — the same pseudonym `seinpost pseudonym`
# gives — and never on a pseudo.key pseudonym. With the service down a submit
# waits, held encrypted, and nothing is half-stored.
. "$(dirname "$0")/lib.sh"

OPRF_PORT=$(e2e_free_port)
e2e_setup --pseudonymisers 1 --oprf-port "$OPRF_PORT"
SVC="$NET/pseudo-mh"
svc_start() {
	"$SEINPOSTD" --config "$SVC/seinpost.conf" --verbose >>"$E2E_DIR/pseudo-mh.log" 2>&1 &
	PID_pseudo_mh=$!
	E2E_PIDS+=($!)
	for _ in $(seq 1 200); do
		[ "$(grep -c "listening on" "$E2E_DIR/pseudo-mh.log" 2>/dev/null)" -gt "${1:-0}" ] && return 0
		sleep 0.05
	done
	echo "pseudonymiser did not start"; cat "$E2E_DIR/pseudo-mh.log"; return 1
}
svc_start 0 || exit 1
# the police also submit through a spool directory (docs/spool.md)
PS="$NET/politie-limburg/spool"
printf '\n[spool]\nin = spool\n' >>"$NET/politie-limburg/seinpost.conf"
mkdir -p "$PS"
for p in broker politie-limburg school-bonnefanten jeugdzorg-mh zvh-mh fg-mh; do e2e_start "$p" || exit 1; done
check "the node says its pseudonyms come from the service" grep -q "pseudonyms from the pseudonymisation service (pseudo-mh)" "$E2E_DIR/school-bonnefanten.log"

BSN=111222333
P=$(sp fg-mh pseudonym $BSN)
check "the network pseudonym of the BSN (look-up)" test "${#P}" -eq 64

check "the school registers its pupil" sp school-bonnefanten involve --bsn $BSN --ref LL-7
id=$(sp politie-limburg submit --category drug-recruitment --weight 2 --bsn $BSN --summary "benaderd" --wait=10 2>"$E2E_DIR/submit.err")
rc=$?
check "the police submit is accepted (rc=$rc)" test $rc -eq 0 -a ${#id} -eq 32
check "the involved school receives it: the broker matched the service's pseudonyms" \
	e2e_wait_for 10 bash -c "'$SEINPOST' --config '$NET/school-bonnefanten/seinpost.conf' inbox | grep -q $id"
check "... and sees its own reference" bash -c "'$SEINPOST' --config '$NET/school-bonnefanten/seinpost.conf' inbox | grep -q 'ref LL-7'"
# The broker's store holds k·H(x) and the audit of the service shows the two evaluations.
sleep 1
check "the broker's store holds the service's pseudonym k·H(x)" python3 - "$NET/broker" "$P" <<'EOF'
import os, sys
root, p = sys.argv[1], bytes.fromhex(sys.argv[2])
blob = b"".join(open(os.path.join(d, f), "rb").read() for d, _, fs in os.walk(root) for f in fs
                if os.path.isfile(os.path.join(d, f)))
sys.exit(0 if p in blob else 1)
EOF
n=$("$SEINPOST" --config "$SVC/seinpost.conf" audit log | grep -c "oprf-evaluated \(politie-limburg\|school-bonnefanten\)")
check "the service evaluated the school's and the police's requests ($n)" test "$n" -ge 2

# The privacy officer's who-saw by BSN asks the service too (a look-up).
out=$(sp fg-mh audit who-saw --bsn $BSN); rc=$?
check "who-saw --bsn on the privacy officer's node (rc=$rc)" test $rc -eq 0
check "... finds the police's signal under the service's pseudonym" grep -q "signalled .*politie-limburg" <<<"$out"

# Bulk: 2,500 pupils in one file are pseudonymised in requests of 512 blinded
# points (the command line sends 2,048 + 452, the node asks 4 × 512 + 452,
# several in flight).
python3 -c '
out = 0; x = 20000000
while out < 2500:
    d = [int(c) for c in "%08d" % x]; x += 1
    s = sum((9 - i) * d[i] for i in range(8)) % 11
    if s == 10: continue
    print("%08d%d,LL-%d,2030-01-01" % (x - 1, s, out)); out += 1
' >"$E2E_DIR/class.csv"
before=$("$SEINPOST" --config "$SVC/seinpost.conf" audit log | grep -c "oprf-evaluated school-bonnefanten")
check "the school registers 2,500 pupils from a file" sp school-bonnefanten involve --file "$E2E_DIR/class.csv" --quiet
after=$("$SEINPOST" --config "$SVC/seinpost.conf" audit log | grep -c "oprf-evaluated school-bonnefanten")
check "... in 5 service requests (of at most 512), not 2,500 ($((after - before)))" test $((after - before)) -eq 5
B2=$(sed -n 2p "$E2E_DIR/class.csv" | cut -d, -f1)
id2=$(sp politie-limburg submit --category drug-recruitment --weight 2 --bsn "$B2" --summary "x" --wait=10 2>/dev/null)
check "a signal about a pupil of the bulk list reaches the school" \
	e2e_wait_for 10 bash -c "'$SEINPOST' --config '$NET/school-bonnefanten/seinpost.conf' inbox | grep -q '$id2.*ref LL-1'"
B3=$(sed -n 2400p "$E2E_DIR/class.csv" | cut -d, -f1)
id4=$(sp politie-limburg submit --category drug-recruitment --weight 2 --bsn "$B3" --summary "x" --wait=10 2>/dev/null)
check "... and about one in the last request (answers matched to their request)" \
	e2e_wait_for 10 bash -c "'$SEINPOST' --config '$NET/school-bonnefanten/seinpost.conf' inbox | grep -q '$id4.*ref LL-2399'"

# The service down: a submit waits, held encrypted (test_oprf_wait.sh); the node stays up.
e2e_stop pseudo-mh
out=$(sp politie-limburg submit --category drug-recruitment --weight 2 --bsn $BSN --summary "y" 2>&1); rc=$?
check "service down: the submit is held (rc=$rc)" test $rc -eq 0
check "... saying it waits for the pseudonymisation service" grep -q "waiting: the pseudonymisation service cannot be reached" <<<"$out"
check "... without echoing the BSN" bash -c "! grep -q $BSN <<<\"\$1\"" _ "$out"
check "... and the node is still running" kill -0 "$(e2e_pid politie-limburg)"
# A spool file waits (the fault is not the file's) and goes once the service is back.
printf '{"type":"signal","category":"drug-recruitment","weight":2,"bsn":"%s","summary":"gespoold"}' $BSN >"$PS/.w.tmp"
mv "$PS/.w.tmp" "$PS/while-down.json"
check "service down: the spool file is kept for a retry" \
	e2e_wait_for 15 grep -q "while-down.json and any further files left in the spool" "$E2E_DIR/politie-limburg.log"
check "... not rejected" test -f "$PS/while-down.json" -a ! -f "$PS/rejected/while-down.json"
check "... and status shows it waiting" bash -c "'$SEINPOST' --config '$NET/politie-limburg/seinpost.conf' status | grep -Eq 'spool +waiting +1 files'"
svc_start 1 || exit 1
check "the service back: the spool file becomes a signal" e2e_wait_for 20 test -f "$PS/done/while-down.json"
idw=$(cat "$PS/done/while-down.json.id" 2>/dev/null)
check "... which the involved school receives ($idw)" \
	e2e_wait_for 10 bash -c "'$SEINPOST' --config '$NET/school-bonnefanten/seinpost.conf' inbox | grep -q '${idw:-none}'"
id3=$(sp politie-limburg submit --category drug-recruitment --weight 2 --bsn $BSN --summary "z" --wait=10 2>/dev/null)
check "the service back: submits work again" test ${#id3} -eq 32

# No partner node holds a pseudonymisation secret: no pseudo.key anywhere in
# their folders, and the service's OPRF key (the only such secret) is in no
# node's files nor in the memory of any node process (network and key holder).
NODES="politie-limburg school-bonnefanten jeugdzorg-mh zvh-mh fg-mh"
check "no pseudo.key in the network folder or any node's folder" bash -c "[ -z \"\$(find '$NET' -name pseudo.key)\" ]"
check "no node configuration names a pseudonym_key" bash -c "! grep -q '^pseudonym_key' $(printf "'$NET/%s/seinpost.conf' " $NODES)"
pids=""
for o in $NODES; do
	p=$(e2e_pid "$o"); pids="$pids $p $(pgrep -P "$p" | tr '\n' ' ')"
done
cat >"$E2E_DIR/scan.py" <<'EOF'
import os, sys
args = sys.argv[2:]
cut = args.index("--")
pids, dirs = args[:cut], args[cut + 1:]
hx = open(sys.argv[1]).read().strip()
needles = [bytes.fromhex(hx), hx.encode()]
bad = []
for d in dirs:
    for root, _, fs in os.walk(d):
        for f in fs:
            p = os.path.join(root, f)
            if os.path.isfile(p) and any(n in open(p, "rb").read() for n in needles):
                bad.append(p)
scanned = skipped = 0
STEP, BIG = 16 << 20, 1 << 30  # regions over 1 GiB: sanitizer shadow memory, reserved, never a key
for pid in pids:
    with open("/proc/%s/maps" % pid) as m, open("/proc/%s/mem" % pid, "rb", 0) as mem:
        for line in m:
            addr, perm = line.split()[:2]
            if "r" not in perm:
                continue
            lo, hi = (int(x, 16) for x in addr.split("-"))
            if hi - lo > BIG:
                skipped += 1
                continue
            for at in range(lo, hi, STEP):
                try:
                    mem.seek(at)
                    chunk = mem.read(min(STEP + 64, hi - at))  # overlap: a key across two steps
                except (OSError, ValueError, OverflowError):
                    break
                scanned += len(chunk)
                if any(n in chunk for n in needles):
                    bad.append("pid %s" % pid)
                    break
print("scanned %d processes, %d MiB of memory (%d regions over 1 GiB skipped); found in: %s"
      % (len(pids), scanned >> 20, skipped, bad or "nothing"))
sys.exit(1 if bad else 0 if scanned else 2)
EOF
check "the service's OPRF key is in no node's files nor in the memory of the 10 node processes" \
	bash -c "[ $(wc -w <<<"$pids") -eq 10 ] && python3 '$E2E_DIR/scan.py' '$SVC/keys/oprf.key' $pids -- $(printf "$NET/%s " $NODES)"
check "... (control: the same scan finds it in the service's own memory)" \
	bash -c "python3 '$E2E_DIR/scan.py' '$SVC/keys/oprf.key' $(e2e_pid pseudo-mh) -- '$E2E_DIR/empty'; [ \$? -eq 1 ]"

# No identifier in the service's state or log.
check "the service's state and log hold no BSN" bash -c "! grep -rqaF $BSN '$SVC/state' '$E2E_DIR/pseudo-mh.log'"
e2e_done
