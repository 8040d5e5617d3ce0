# tests/e2e/lib_delivery.sh — helpers for the delivery and fault scenarios.
# Source after lib.sh. Uses the test policy tests/e2e/data/delivery.policy:
# category delivery-test goes immediately to youth care and the ZVH, so
# both recipients are entitled to every signal the tests submit.
DL_POLICY="$ROOT/tests/e2e/data/delivery.policy"
SP_LOAD="$BUILD/tools/sp_load"
DL_SENDER=politie-limburg
DL_RECIPIENTS=(jeugdzorg-mh zvh-mh)

dl_setup() { # [extra net init args...]
	E2E_DIR=$(mktemp -d "${TMPDIR:-/tmp}/sp-e2e-XXXXXX")
	E2E_PORT=$(e2e_free_port)
	trap dl_teardown EXIT
	"$SEINPOST" net init "$E2E_DIR/net" --port "$E2E_PORT" --policy "$DL_POLICY" \
		--org police:$DL_SENDER --org youthcare:jeugdzorg-mh --org zvh:zvh-mh "$@" >"$E2E_DIR/netinit.log" \
		|| { cat "$E2E_DIR/netinit.log"; echo "net init failed"; exit 1; }
	NET="$E2E_DIR/net"
	# Fast retries so the tests finish in seconds, not minutes.
	for p in broker $DL_SENDER "${DL_RECIPIENTS[@]}"; do
		dl_set "$p" retry_ms 300
		dl_set "$p" heartbeat_ms 500
	done
}

DL_MOUNTS=()
dl_teardown() {
	e2e_stop_all
	for m in "${DL_MOUNTS[@]}"; do umount "$m" 2>/dev/null; done
	if [ "${KEEP:-0}" = 1 ]; then echo "kept $E2E_DIR"; else rm -rf "$E2E_DIR"; fi
}

# Set a key of the [limits] section (or any existing key) in NAME's config.
dl_set() { # name key value
	local f="$NET/$1/seinpost.conf"
	if grep -q "^$2 *=" "$f"; then
		sed -i "s|^$2 *=.*|$2 = $3|" "$f"
	else
		sed -i "/^\[limits\]/a $2 = $3" "$f"
	fi
}

# Kill with SIGKILL (no clean shutdown) and start again.
dl_crash() { # name
	e2e_stop "$1" KILL
	[ "$1" = broker ] || rm -f "$NET/$1/state/submit.sock"
	dl_start "$1"
}

dl_listens() { cat "$E2E_DIR/broker.log" 2>/dev/null | grep -c "listening on"; }

# Start and make sure it stays up (a failed start is a test failure).
dl_start() { # name
	local before=0
	[ "$1" = broker ] && before=$(dl_listens)
	e2e_start "$1" || return 1
	if [ "$1" = broker ]; then
		for _ in $(seq 1 100); do
			[ "$(dl_listens)" -gt "$before" ] && return 0
			kill -0 "$(e2e_pid broker)" 2>/dev/null || break
			sleep 0.05
		done
		echo "broker did not start again"; tail -5 "$E2E_DIR/broker.log"; return 1
	fi
}

dl_load() { # sender args... — sp_load for the delivery-test category
	local org=$1; shift
	"$SP_LOAD" --config "$NET/$org/seinpost.conf" --category delivery-test "$@"
}

# Value of one status line, e.g. dl_status broker queue zvh-mh
dl_status() { # name section key
	sp "$1" status --json 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
for l in d["lines"]:
    if l["section"] == sys.argv[1] and l["key"] == sys.argv[2]:
        print(l["value"])' "$2" "$3"
}

# Everything delivered and settled: broker queues empty, sender outbox empty.
dl_drained() {
	[ "$(dl_status broker delivery undelivered)" = 0 ] &&
	[ "$(dl_status $DL_SENDER outbox pending | cut -d' ' -f1)" = 0 ]
}

dl_wait_drained() { # seconds
	e2e_wait_for "$1" dl_drained && return 0
	# Say why: a daemon that died (e.g. libzmq 4.3.4's "Assertion failed:
	# !_io_error", an upstream abort that systemd's Restart=on-failure
	# recovers from in production) shows in the last line of its log.
	local l
	for l in "$E2E_DIR"/*.log; do
		grep -h "Assertion failed\|AddressSanitizer\|runtime error" "$l" | tail -1 | sed "s|^|  $(basename "$l" .log): |"
	done
	return 1
}

# The proof: every id in IDS (the submits that returned an id) was delivered
# exactly once to every entitled recipient, nothing else was delivered, and
# the audit chains verify. Prints the counts; nonzero on any violation.
# ATTEMPTED = how many submits were tried (sp_load's "submitted").
dl_verify() { # ids-file attempted [--in-order]
	local ids=$1 attempted=$2 order=${3:-}
	local j="$E2E_DIR/verify"
	mkdir -p "$j"
	sp broker audit log --json >"$j/broker-audit.json" || return 1
	sp $DL_SENDER outbox --json >"$j/outbox.json" || return 1
	for r in "${DL_RECIPIENTS[@]}"; do
		sp "$r" inbox --json >"$j/inbox-$r.json" || return 1
		sp "$r" audit log --json >"$j/audit-$r.json" || return 1
	done
	for p in broker $DL_SENDER "${DL_RECIPIENTS[@]}"; do
		sp "$p" audit verify >"$j/verify-$p.txt" 2>&1 || { echo "audit chain of $p does not verify"; cat "$j/verify-$p.txt"; return 1; }
	done
	python3 - "$ids" "$attempted" "$j" "$order" "${DL_RECIPIENTS[@]}" <<'PY'
import json, sys, collections
ids_file, attempted, j, order, recips = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5:]
acked = [l.split()[0] for l in open(ids_file) if l.strip()]
acked_set = set(acked)
outbox = {e["id"]: e for e in json.load(open(f"{j}/outbox.json"))}
baudit = json.load(open(f"{j}/broker-audit.json"))
delivered = collections.Counter((r["signal"], r["recipient"]) for r in baudit if r["event"] == "delivered")
accepted = collections.Counter(r["signal"] for r in baudit if r["event"] == "submitted")
bad = []
tot_deliv = dups = lost = foreign = extra = 0
for r in recips:
    inbox = [e["id"] for e in json.load(open(f"{j}/inbox-{r}.json"))]
    raudit = json.load(open(f"{j}/audit-{r}.json"))
    received = [x["signal"] for x in raudit if x["event"] == "received"]
    rc = collections.Counter(received)
    inset = set(inbox)
    for i in acked:
        if i not in inset:
            lost += 1
        if rc[i] > 1 or delivered[(i, r)] > 1:
            dups += 1
        if delivered[(i, r)] == 0 and i in inset:
            bad.append(f"{r}: {i} stored but its delivery was never audited")
    for i in inset:
        if i not in outbox:
            foreign += 1
        elif i not in acked_set:
            extra += 1
    tot_deliv += len(inset)
    if order:
        seq = [i for i in received if i in acked_set]
        if seq != acked:
            first = next((k for k, (a, b) in enumerate(zip(seq, acked)) if a != b), min(len(seq), len(acked)))
            bad.append(f"{r}: received out of submit order (first difference at position {first})")
        else:
            print(f"{r}: all {len(seq)} signals arrived in submit order")
pending = sum(1 for e in outbox.values() if e["state"] == "pending")
rejected = sum(1 for e in outbox.values() if e["state"] == "rejected")
multi = sum(1 for v in accepted.values() if v > 1)
print(f"submitted {attempted}, acked {len(acked)} (ids returned), broker accepted {len(accepted)}, "
      f"delivered {tot_deliv} to {len(recips)} recipients, duplicates {dups}, lost {lost}, "
      f"foreign {foreign}, extra {extra} (stored before a crash, id never returned), "
      f"outbox pending {pending}, rejected {rejected}")
if lost: bad.append(f"{lost} acknowledged deliveries lost")
if dups: bad.append(f"{dups} duplicates")
if foreign: bad.append(f"{foreign} deliveries of signals the sender never stored")
if pending: bad.append(f"{pending} still pending in the sender's outbox")
if rejected: bad.append(f"{rejected} rejected by the broker")
if multi: bad.append(f"{multi} signals audited as submitted more than once")
for b in bad: print("VIOLATION:", b)
sys.exit(1 if bad else 0)
PY
}
