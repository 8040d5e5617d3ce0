#!/usr/bin/env bash
# tests/bench/run.sh — `make bench`: raw component limits and the real
# processes (broker, sender and recipient nodes on loopback, durable LMDB,
# CURVE, tests/bench/bench.policy) measured in the same run. Prints a table
# and writes tests/bench/results.json. BENCH_SCALE=full for the long version;
# BENCH_ONLY=e2e [E2E_RUNS="1000"] for the end-to-end runs alone (see below);
# BENCH_ONLY=oprf [OPRF_N=35644] for the pseudonymisation service alone.
# Everything lives in one temp dir and every process started is stopped, also
# on failure or Ctrl-C. Ports are chosen free at run time.
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
SEINPOST="$BUILD/seinpost"
SEINPOSTD="$BUILD/seinpostd"
B="$BUILD/bench"
HERE="$ROOT/tests/bench"
SCALE=${BENCH_SCALE:-default}
if [ "$SCALE" = full ]; then
	E2E_MAX_N=${E2E_MAX_N:-50000}; E2E_SECS=${E2E_SECS:-30}; INVOLVE_N=${INVOLVE_N:-2500000}
	AUDIT_N=${AUDIT_N:-10000000}; RAW_MSGS=200000
else
	E2E_MAX_N=${E2E_MAX_N:-10000}; E2E_SECS=${E2E_SECS:-10}; INVOLVE_N=${INVOLVE_N:-1000000}
	AUDIT_N=${AUDIT_N:-1000000}; RAW_MSGS=100000
fi
WINDOW=${E2E_WINDOW:-64}
# BENCH_ONLY=e2e: only the end-to-end runs listed in E2E_RUNS (default all
# three: 100 1000 max), with CPU per signal for each; no raw part, involve,
# audit or footprint (quick latency work: BENCH_ONLY=e2e E2E_RUNS=1000).
ONLY=${BENCH_ONLY:-}
E2E_RUNS=${E2E_RUNS:-100 1000 max}
# Signals spread over many people, as in reality: the broker evaluates the
# escalation rules over each subject's signals, so one subject for every
# signal would measure an O(n) scan that no real subject has.
SUBJECTS=${E2E_SUBJECTS:-10000}
OUT="$HERE/results.json"
DIR=$(mktemp -d "${TMPDIR:-/tmp}/sp-bench-XXXXXX")
PIDS=()
R="$DIR/results"; mkdir -p "$R"

cleanup() {
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do
		for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.05; done
		kill -9 "$p" 2>/dev/null
	done
	PIDS=()
	if [ "${KEEP:-0}" = 1 ]; then echo "kept $DIR"; else rm -rf "$DIR"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { printf '%s  %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { say "bench: $*"; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
now_ms() { date +%s%3N; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; } # user + system, all threads
rss_mb() { awk '/^VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }
set_conf() { # conf key value — in [limits]
	sed -i "s/^$2 = .*/$2 = $3/" "$1"
}

# start NETDIR NAME -> sets STARTED_PID, STARTED_MS (exec to READY=1)
start() {
	local line
	line=$(python3 "$HERE/start.py" "$SEINPOSTD" "$1/$2/seinpost.conf" "$DIR/$2.log") || die "$2 did not start (log: $(tail -3 "$DIR/$2.log"))"
	STARTED_PID=${line% *}; STARTED_MS=${line#* }
	PIDS+=("$STARTED_PID")
}
stop() { # pid
	kill -TERM "$1" 2>/dev/null
	for _ in $(seq 1 100); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.05; done
	kill -9 "$1" 2>/dev/null
}

stop_many() { # pids — TERM all at once, then wait
	for p in "$@"; do kill -TERM "$p" 2>/dev/null; done
	for p in "$@"; do
		for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.05; done
		kill -9 "$p" 2>/dev/null
	done
	return 0
}

T0=$(date +%s)
say "bench: scale $SCALE, $(nproc) cores, dir $DIR"

# ---- 6. the oblivious pseudonymisation service (issues 13, 14): per-element
# cost on one core (sp_bench_oprf, CPU time); the pseudonyms of OPRF_N persons
# (Maastricht's youths: 35,644) through the real service and a node's CLI;
# then the node's bulk path: `seinpost involve --file` of OPRF_N (and
# OPRF_BIG_N) involvements with one instance and with 2-of-3, from the
# command's start until the broker holds every one; and a submit's added
# latency (sp_bench_oprfc: one pseudonym from the service, as a submit asks).
OPRF_N=${OPRF_N:-35644}
OPRF_BIG_N=${OPRF_BIG_N:-100000}
# oprf_net DIR INSTANCES THRESHOLD — a network with the service, its limits raised
oprf_net() {
	local args=(--pseudonymisers "$2") s
	[ "$3" -gt 1 ] && args+=(--threshold "$3")
	"$SEINPOST" net init "$1" --port "$(free_port)" --oprf-port "$(free_port)" "${args[@]}" \
		--policy "$HERE/bench.policy" --org school:school-a --org police:politie-a >/dev/null 2>&1 \
		|| die "net init (oprf, $2 instances) failed"
	for s in "$1"/pseudo-mh*; do
		printf '\n[limits school]\noprf_per_day = 10000000\noprf_per_request = 4096\n' >>"$s/policy.ini"
		printf '\n[limits police]\noprf_per_day = 10000000\noprf_per_request = 4096\n' >>"$s/policy.ini"
	done
	for s in broker school-a politie-a; do set_conf "$1/$s/seinpost.conf" map_size_mb 4096; done
}
# oprf_involve NAME INSTANCES THRESHOLD N — prints "<ms> <count at the broker>"
oprf_involve() {
	local onet="$DIR/onet-$1" p pids=() t got deadline ms
	oprf_net "$onet" "$2" "$3"
	for p in "$onet"/pseudo-mh*; do start "$onet" "$(basename "$p")"; pids+=("$STARTED_PID"); done
	start "$onet" broker; pids+=("$STARTED_PID")
	start "$onet" school-a; pids+=("$STARTED_PID")
	python3 "$HERE/gen_bsn.py" "$4" 30000000 >"$DIR/oinv.csv"
	t=$(now_ms)
	"$SEINPOST" --config "$onet/school-a/seinpost.conf" involve --file "$DIR/oinv.csv" --quiet \
		>"$R/$1.log" 2>&1 || die "involve --file ($1) failed: $(tail -3 "$R/$1.log")"
	deadline=$(( $(date +%s) + 300 ))
	while :; do
		got=$("$B/sp_bench_times" involve "$onet/broker/seinpost.conf")
		[ "$got" -ge "$4" ] && break
		[ "$(date +%s)" -ge "$deadline" ] && break
		sleep 0.05
	done
	ms=$(( $(now_ms) - t ))
	if [ -n "${PERF_DIR:-}" ]; then cp "$DIR"/*.log "$PERF_DIR/" 2>/dev/null; fi
	stop_many "${pids[@]}"
	rm -rf "$onet" "$DIR/oinv.csv"
	echo "$ms $got"
}
oprf_bench() {
	local onet="$DIR/onet" t svc iv
	say "oprf: per-element cost, one core"
	"$B/sp_bench_oprf" 4096 2 >"$R/oprf_raw.json" || die "sp_bench_oprf failed"
	oprf_net "$onet" 1 1
	start "$onet" pseudo-mh; svc=$STARTED_PID
	python3 "$HERE/gen_bsn.py" "$OPRF_N" 30000000 | cut -d, -f1 >"$DIR/oprf.txt"
	t=$(now_ms)
	/usr/bin/time -f "%U %S" -o "$R/oprf.time" "$SEINPOST" --config "$onet/school-a/seinpost.conf" \
		pseudonym --file "$DIR/oprf.txt" >"$DIR/oprf.out" 2>"$R/oprf.log" \
		|| die "pseudonym --file failed: $(tail -3 "$R/oprf.log")"
	OPRF_MS=$(( $(now_ms) - t ))
	OPRF_NODE_CPU_MS=$(awk '{ printf "%d", ($1 + $2) * 1000 }' "$R/oprf.time")
	[ "$(wc -l <"$DIR/oprf.out")" -eq "$OPRF_N" ] || die "oprf: $(wc -l <"$DIR/oprf.out") of $OPRF_N pseudonyms"
	OPRF_SVC_CPU_MS=$(( $(cpu_ticks "$svc") * 1000 / $(getconf CLK_TCK) ))
	say "oprf: a submit's added latency (one pseudonym from the service, 1,000 times)"
	"$B/sp_bench_oprfc" "$onet/politie-a/seinpost.conf" 1000 >"$R/oprf_submit.json" \
		|| die "sp_bench_oprfc failed"
	stop "$svc"
	rm -rf "$onet" "$DIR/oprf.txt" "$DIR/oprf.out"
	say "oprf: $OPRF_N involvements, one instance"
	iv=$(oprf_involve oinv1 1 1 "$OPRF_N"); IV1_MS=${iv% *}; IV1_N=${iv#* }
	say "oprf: $IV1_N at the broker in $IV1_MS ms; $OPRF_N involvements, 2-of-3"
	iv=$(oprf_involve oinv3 3 2 "$OPRF_N"); IV3_MS=${iv% *}; IV3_N=${iv#* }
	say "oprf: $IV3_N at the broker in $IV3_MS ms; $OPRF_BIG_N involvements, one instance"
	iv=$(oprf_involve oinvb 1 1 "$OPRF_BIG_N"); IVB_MS=${iv% *}; IVB_N=${iv#* }
	say "oprf: $IVB_N at the broker in $IVB_MS ms"
	python3 - "$R/oprf_raw.json" "$R/oprf_submit.json" "$OPRF_N" "$OPRF_MS" "$OPRF_SVC_CPU_MS" "$OPRF_NODE_CPU_MS" \
		"$IV1_MS" "$IV1_N" "$IV3_MS" "$IV3_N" "$OPRF_BIG_N" "$IVB_MS" "$IVB_N" >"$R/oprf.json" <<'PY'
import json, sys
raw = json.load(open(sys.argv[1])); sub = json.load(open(sys.argv[2]))
n, ms, cpu, ncpu, iv1, iv1n, iv3, iv3n, bign, ivb, ivbn = map(int, sys.argv[3:14])
raw.update({"pseudonyms_n": n, "pseudonyms_ms": ms, "service_cpu_ms": cpu, "node_cpu_ms": ncpu,
            "pseudonyms_per_s": round(n * 1000.0 / ms) if ms else 0,
            "involve_n": n, "involve_1_ms": iv1, "involve_1_got": iv1n,
            "involve_2of3_ms": iv3, "involve_2of3_got": iv3n,
            "involve_big_n": bign, "involve_big_ms": ivb, "involve_big_got": ivbn,
            "submit": sub})
print(json.dumps(raw))
PY
	say "oprf: $(cat "$R/oprf.json")"
}
if [ "$ONLY" = oprf ]; then
	oprf_bench
	exit 0
fi

# ---- the network: 2 senders (police), 2 recipients (youth care, ZVH), a school
NET="$DIR/net"
PORT=$(free_port)
"$SEINPOST" net init "$NET" --port "$PORT" --policy "$HERE/bench.policy" \
	--org police:politie-a --org police:politie-b --org youthcare:jeugdzorg-a --org zvh:zvh-a \
	--org school:school-a >"$DIR/netinit.log" 2>&1 || die "net init failed: $(cat "$DIR/netinit.log")"
for o in broker politie-a politie-b jeugdzorg-a zvh-a school-a; do
	set_conf "$NET/$o/seinpost.conf" map_size_mb 16384
	sed -i 's/^log = stderr/log = stderr/' "$NET/$o/seinpost.conf"
done

# ---- 1. raw components (same run, same signal as the senders build)
if [ "$ONLY" != e2e ]; then
	say "raw: zmq CURVE, LMDB, Ed25519, broker steps"
	"$B/sp_bench_raw" --messages "$RAW_MSGS" --dir "$DIR/raw" --sender "$NET/politie-a/seinpost.conf" \
		--broker "$NET/broker/seinpost.conf" --category bench-signal >"$R/raw.json" || die "sp_bench_raw failed"
	rm -rf "$DIR/raw"
	say "raw: the key holder's round trip (privilege separation, docs/privsep.md)"
	"$B/sp_bench_kh" 20000 | tee "$R/keyholder.json" || die "sp_bench_kh failed"
fi

# ---- 5a. start-up times and idle RSS
start "$NET" broker; BROKER=$STARTED_PID; BROKER_START_MS=$STARTED_MS
declare -A NODE
for o in politie-a politie-b jeugdzorg-a zvh-a school-a; do
	start "$NET" "$o"; NODE[$o]=$STARTED_PID
	[ "$o" = school-a ] && NODE_START_MS=$STARTED_MS
done
sleep 2
NODE_RSS=$(rss_mb "${NODE[school-a]}")
say "start-up: broker ${BROKER_START_MS} ms, node ${NODE_START_MS} ms; idle node RSS ${NODE_RSS} MB"

# ---- 2. end to end
conf() { echo "$NET/$1/seinpost.conf"; }
run_load() { # name offered_per_s count_per_sender window
	local name=$1 rate=$2 n=$3 w=$4 from dl
	from=$(( $("$B/sp_bench_times" auditsize "$(conf broker)") + 1 ))
	: >"$R/$name.ids"
	local args=(); [ "$rate" != max ] && args=(--rate "$(python3 -c "print($rate/2)")")
	"$BUILD/tools/sp_load" --config "$(conf politie-a)" --category bench-signal -n "$n" --window "$w" --subjects "$SUBJECTS" \
		"${args[@]}" --out "$R/$name.a" 2>"$R/$name.a.log" &
	local pa=$!
	"$BUILD/tools/sp_load" --config "$(conf politie-b)" --category bench-signal -n "$n" --window "$w" --subjects "$SUBJECTS" \
		"${args[@]}" --out "$R/$name.b" 2>"$R/$name.b.log"
	wait $pa
	cat "$R/$name.a" "$R/$name.b" >"$R/$name.ids"
	local want=$(( $(wc -l <"$R/$name.ids") * 2 )) deadline=$(( $(date +%s) + 120 ))
	while :; do
		dl=$("$B/sp_bench_times" delivered "$(conf broker)" "$from")
		[ "${dl% *}" -ge "$want" ] && break
		[ "$(date +%s)" -ge "$deadline" ] && { say "e2e $name: only ${dl% *} of $want delivered"; break; }
		sleep 0.2
	done
	"$B/sp_bench_times" inbox "$(conf jeugdzorg-a)" >"$R/$name.in1"
	"$B/sp_bench_times" inbox "$(conf zvh-a)" >"$R/$name.in2"
	python3 "$HERE/e2e_stats.py" "$rate" "$R/$name.ids" "${dl#* }" "$R/$name.in1" "$R/$name.in2" >"$R/$name.json"
	say "e2e $name: $(cat "$R/$name.json")  [$(tail -1 "$R/$name.a.log")]"
}
# CPU time of every process during a run: where a signal's cost goes
declare -A CPU0
HZ=$(getconf CLK_TCK)
cpu_start() { for o in broker "${!NODE[@]}"; do pid=${NODE[$o]:-$BROKER}; CPU0[$o]=$(cpu_ticks "$pid"); done; }
cpu_report() { # name -> $R/cpu_<name>.json (us per signal per process)
	local n; n=$(wc -l <"$R/$1.ids")
	{
		printf '{'
		sep=
		for o in broker politie-a politie-b jeugdzorg-a zvh-a; do
			pid=${NODE[$o]:-$BROKER}
			printf '%s"%s": %s' "$sep" "$o" "$(python3 -c "print(round(($(cpu_ticks "$pid") - ${CPU0[$o]}) / $HZ * 1e6 / max(1, $n), 1))")"
			sep=', '
		done
		printf '}\n'
	} >"$R/cpu_$1.json"
	say "CPU per signal (us) during $1: $(cat "$R/cpu_$1.json")"
}
if [ "$ONLY" = e2e ]; then
	# BENCH_ONLY=e2e: just the end-to-end runs named in E2E_RUNS, each with
	# its CPU per signal; no table, no results.json.
	for run in $E2E_RUNS; do
		cpu_start
		case $run in
		100) run_load e2e100 100 $((100 * E2E_SECS / 2)) 16; cpu_report e2e100 ;;
		1000) run_load e2e1000 1000 $((1000 * E2E_SECS / 2)) 64; cpu_report e2e1000 ;;
		max) run_load e2emax max "$E2E_MAX_N" "$WINDOW"; cpu_report e2emax ;;
		*) die "E2E_RUNS: unknown run '$run' (100, 1000, max)" ;;
		esac
	done
	exit 0
fi
run_load e2e100 100 $((100 * E2E_SECS / 2)) 16
run_load e2e1000 1000 $((1000 * E2E_SECS / 2)) 64
cpu_start
run_load e2emax max "$E2E_MAX_N" "$WINDOW"
cpu_report e2emax
cp "$R/cpu_e2emax.json" "$R/cpu.json"

# ---- 3. bulk involvement from one node (school)
say "involve: $INVOLVE_N involvements from school-a"
python3 "$HERE/gen_bsn.py" "$INVOLVE_N" >"$DIR/involve.csv"
IV_T0=$(now_ms)
if "$SEINPOST" --config "$(conf school-a)" involve --file "$DIR/involve.csv" >"$R/involve.log" 2>&1; then
	deadline=$(( $(date +%s) + 600 ))
	while :; do
		got=$("$B/sp_bench_times" involve "$(conf broker)")
		[ "$got" -ge "$INVOLVE_N" ] && break
		[ "$(date +%s)" -ge "$deadline" ] && { say "involve: only $got at the broker"; break; }
		sleep 0.1
	done
	IV_MS=$(( $(now_ms) - IV_T0 ))
	IV_OK=$got
else
	say "involve --file failed: $(tail -3 "$R/involve.log")"
	IV_MS=0; IV_OK=0
fi
say "involve: $IV_OK at the broker in $IV_MS ms"
stop_many "${NODE[@]}"; stop "$BROKER"
rm -f "$DIR/involve.csv"

# ---- 4. audit: a broker log of AUDIT_N records; real `audit verify` and `who-saw`
say "audit: filling a broker log of $AUDIT_N records"
ANET="$DIR/anet"
"$SEINPOST" net init "$ANET" --port "$(free_port)" --policy "$HERE/bench.policy" \
	--org police:politie-a --org privacy-officer:fg-mh >/dev/null 2>&1 || die "net init (audit) failed"
set_conf "$ANET/broker/seinpost.conf" map_size_mb 65536
set_conf "$ANET/fg-mh/seinpost.conf" map_size_mb 1024
"$BUILD/tools/sp_audit_bench" "$ANET/broker/state" "$AUDIT_N" "$ANET/broker/keys" "$ANET/fg-mh/pseudo.key" \
	>"$R/audit_fill.log" 2>&1 || die "sp_audit_bench failed: $(tail -3 "$R/audit_fill.log")"
WHOSAW_BSN=$(sed -n 's/^who-saw subject: //p' "$R/audit_fill.log")
t=$(now_ms)
"$SEINPOST" --config "$ANET/broker/seinpost.conf" audit verify >"$R/verify.log" 2>&1 || die "audit verify failed: $(tail -3 "$R/verify.log")"
VERIFY_MS=$(( $(now_ms) - t ))
start "$ANET" broker; AB=$STARTED_PID
start "$ANET" fg-mh; AF=$STARTED_PID
sleep 1
# The privacy officer's node first mirrors and verifies the broker's log (a
# million records): until then who-saw says its answer is not proven
# complete. On a busy machine that takes longer than a second: wait for it
# (at most 3 minutes), then time the queries.
for _ in $(seq 1 180); do
	"$SEINPOST" --config "$ANET/fg-mh/seinpost.conf" audit who-saw --bsn "$WHOSAW_BSN" >"$R/whosaw.log" 2>&1 && break
	sleep 1
done
WHOSAW=()
for i in 1 2 3 4 5; do
	t=$(now_ms)
	"$SEINPOST" --config "$ANET/fg-mh/seinpost.conf" audit who-saw --bsn "$WHOSAW_BSN" >"$R/whosaw.log" 2>&1 \
		|| die "who-saw failed: $(tail -3 "$R/whosaw.log")"
	WHOSAW+=($(( $(now_ms) - t )))
done
WHOSAW_ROWS=$(grep -c . "$R/whosaw.log")
stop "$AF"; stop "$AB"
rm -rf "$ANET"

# ---- 5b. broker with 100 connected nodes
say "footprint: broker with 100 connected nodes"
FNET="$DIR/fnet"
orgs=(); for i in $(seq -w 1 100); do orgs+=(--org "youthcare:jz-$i"); done
"$SEINPOST" net init "$FNET" --port "$(free_port)" --policy "$HERE/bench.policy" "${orgs[@]}" >/dev/null 2>&1 \
	|| die "net init (100 orgs) failed"
start "$FNET" broker; FB=$STARTED_PID
confs=(); for i in $(seq -w 1 100); do confs+=("$FNET/jz-$i/seinpost.conf"); done
"$B/sp_bench_conns" 30 "${confs[@]}" >"$R/conns.log" 2>&1 &
CP=$!; PIDS+=("$CP")
for _ in $(seq 1 300); do grep -q '^connected' "$R/conns.log" 2>/dev/null && break; sleep 0.1; done
sleep 1
CONNECTED=$(sed -n 's/^connected //p' "$R/conns.log")
BROKER_RSS=$(rss_mb "$FB")
stop "$CP"; stop "$FB"
say "broker RSS with ${CONNECTED:-0} nodes: $BROKER_RSS MB"

oprf_bench

# ---- results
ELAPSED=$(( $(date +%s) - T0 ))
python3 "$HERE/report.py" "$R" "$OUT" <<EOF2
{"scale": "$SCALE", "cores": $(nproc), "elapsed_s": $ELAPSED,
 "broker_start_ms": $BROKER_START_MS, "node_start_ms": $NODE_START_MS,
 "node_rss_mb": $NODE_RSS, "broker_rss_mb": $BROKER_RSS, "broker_nodes": ${CONNECTED:-0},
 "involve_n": $IV_OK, "involve_ms": $IV_MS, "involve_target": $INVOLVE_N,
 "audit_records": $AUDIT_N, "verify_ms": $VERIFY_MS,
 "whosaw_ms_runs": [$(IFS=,; echo "${WHOSAW[*]}")], "whosaw_rows": $WHOSAW_ROWS}
EOF2
