# Scene: trend figures for the M-VIK monitor (`seinpost stats`, docs/stats.md).
# Only complete months are counted, and the demo network was made a minute
# ago, so a second, small network stands in for last month's traffic: its
# daemons run with the wall clock 45 days back (SEINPOST_TEST_CLOCK_FILE, a
# test-only setting, never for production). Its broker then counts what it
# accepted, hides small cells (with complementary suppression) and draws the
# chart a meeting can look at.
HIST="$DEMO_DIR/history"
rm -rf "$HIST"
mkdir -p "$HIST"
say "last month's traffic: a second demo network whose clock is 45 days back (test-only setting)"
hport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
"$SP" net init "$HIST/net" --port "$hport" --policy "$ROOT/deploy/policy.example" >/dev/null || exit 1
echo $((-45 * 86400)) >"$HIST/clock"
HPIDS=()
for p in broker politie-limburg school-bonnefanten jeugdzorg-mh; do
	SEINPOST_TEST_CLOCK_FILE="$HIST/clock" "$SPD" --config "$HIST/net/$p/seinpost.conf" \
		>"$DEMO_DIR/logs/history-$p.log" 2>&1 &
	HPIDS+=($!) PIDS+=($!)
done
for p in politie-limburg school-bonnefanten jeugdzorg-mh; do
	for _ in $(seq 1 100); do [ -S "$HIST/net/$p/state/submit.sock" ] && break; sleep 0.05; done
done
# Fictional BSNs that pass the elfproef, one per signal.
set -- $(python3 -c '
import random
random.seed(2026)
out = []
while len(out) < 40:
    d = [random.randint(1, 9)] + [random.randint(0, 9) for _ in range(7)]
    last = sum(x * w for x, w in zip(d, range(9, 1, -1))) % 11
    if last <= 9:
        out.append("".join(map(str, d)) + str(last))
print(" ".join(out))')
hsubmit() { # org category weight count BSN...
	local org=$1 cat=$2 w=$3 cnt=$4
	shift 4
	for _ in $(seq 1 "$cnt"); do
		SEINPOST_TEST_CLOCK_FILE="$HIST/clock" "$SP" --config "$HIST/net/$org/seinpost.conf" submit \
			--category "$cat" --weight "$w" --bsn "$1" --summary "demo" >/dev/null || return 1
		shift
	done
}
n=0
sub() { hsubmit "$@" "${BSNS[@]:n}" && n=$((n + $4)); }
BSNS=("$@")
sub politie-limburg drug-recruitment 2 12 && sub politie-limburg gia 2 9 && sub politie-limburg weapon 3 2 &&
	sub school-bonnefanten school-absence 1 11 && sub jeugdzorg-mh drug-recruitment 2 6 || exit 1
for _ in $(seq 1 100); do
	[ "$("$SP" --config "$HIST/net/broker/seinpost.conf" audit log --json 2>/dev/null | grep -c '"submitted"')" -ge "$n" ] && break
	sleep 0.2
done
for p in "${HPIDS[@]}"; do kill -TERM "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
echo "$n signals accepted by that broker, dated $(date -u -d '-45 days' +%B\ %Y)"

say "the broker's trend figures per month and category: counts below 5 hidden, and one more where a total would give them away"
"$SP" --config "$HIST/net/broker/seinpost.conf" stats || exit 1
"$SP" --config "$HIST/net/broker/seinpost.conf" stats --by role \
	--svg "$DEMO_DIR/stats-by-role.svg" || exit 1
echo "the same per sending role, as a bar chart for the meeting: $DEMO_DIR/stats-by-role.svg"
echo "(computed from the broker's own records: category, weight, sending role, time; never content, never a pseudonym)"
