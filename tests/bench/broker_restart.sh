#!/usr/bin/env bash
# Broker restart-to-ready time on a store holding N signals (docs/operations.md,
# the failover estimate). Fills a store through a node with sp_load, stops the
# broker (SIGTERM), restarts it, and measures from exec to "listening on"
# (after the store's page probe, the schema check and the policy load) and to
# the first signal accepted again.
#   BUILD=build tests/bench/broker_restart.sh [N ...]      (default: 1000 5000)
. "$(dirname "$0")/../e2e/lib.sh"
LOAD="$BUILD/tools/sp_load"
e2e_setup --org police:politie-limburg --org youthcare:jeugdzorg-mh
for p in broker politie-limburg jeugdzorg-mh; do e2e_start "$p" || exit 1; done
total=0
for n in "${@:-1000 5000}"; do
	for want in $n; do
		add=$((want - total))
		[ $add -gt 0 ] && "$LOAD" --config "$NET/politie-limburg/seinpost.conf" -n $add --quiet \
			--category drug-recruitment --weight 2 --out /dev/null 2>/dev/null
		total=$want
		e2e_stop broker
		bytes=$(stat -c %s "$NET/broker/state/data.mdb")
		: >"$E2E_DIR/broker.log"
		t0=$(date +%s%N)
		e2e_start broker >/dev/null
		t1=$(date +%s%N)
		id=$(sp politie-limburg submit --category drug-recruitment --weight 2 --bsn 111222333 --summary x --wait=60 2>/dev/null)
		t2=$(date +%s%N)
		printf 'signals=%d data_mdb_bytes=%d restart_to_listening_ms=%d restart_to_first_accept_ms=%d\n' \
			"$want" "$bytes" $(( (t1 - t0) / 1000000 )) $(( (t2 - t0) / 1000000 ))
	done
done
e2e_done >/dev/null
