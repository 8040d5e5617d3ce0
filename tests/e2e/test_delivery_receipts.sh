#!/usr/bin/env bash
# Batched receipts (DeliveryAckBatch): the broker dequeues and audits a
# delivery only on a batch signed by the recipient's own key over its own
# name. A batch signed with another key, or over another organisation's
# name, leaves the delivery queued; the genuine one delivers it, once.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_delivery.sh"
FORGE="$BUILD/tools/sp_forge"

dl_setup
for p in broker $DL_SENDER jeugdzorg-mh; do dl_start "$p" || exit 1; done # the ZVH stays down

dl_load $DL_SENDER -n 1 -o "$E2E_DIR/ids.txt" 2>"$E2E_DIR/load.err"
id=$(head -1 "$E2E_DIR/ids.txt" | cut -d" " -f1)
check "one signal submitted ($id)" test ${#id} -eq 32
check "it waits in the broker's queue for the ZVH" \
	e2e_wait_for 10 bash -c "'$SEINPOST' --config '$NET/broker/seinpost.conf' status | grep -q 'zvh-mh  *1 waiting'"

zvh="$NET/zvh-mh/seinpost.conf"
check "a receipt batch signed with another key is sent" test "$("$FORGE" receipt "$zvh" "$id" badkey)" = SENT
check "a receipt batch over another org's name is sent" test "$("$FORGE" receipt "$zvh" "$id" otherorg)" = SENT
sleep 0.5
check "neither dequeued it" bash -c "'$SEINPOST' --config '$NET/broker/seinpost.conf' status | grep -q 'zvh-mh  *1 waiting'"
check "the broker logged the bad signatures" grep -q "receipt batch (1 ids) signature does not verify" "$E2E_DIR/broker.log"
check "nothing audited as delivered to the ZVH" bash -c "! '$SEINPOST' --config '$NET/broker/seinpost.conf' audit log | grep -q 'delivered .*-> zvh-mh'"

check "the genuine receipt batch is sent" test "$("$FORGE" receipt "$zvh" "$id" good)" = SENT
zvh_queue_empty() { [ "$(dl_status broker delivery undelivered)" = 0 ]; }
check "it dequeues the delivery" e2e_wait_for 10 zvh_queue_empty
check "delivered audited once for the ZVH" \
	test "$(sp broker audit log | grep -c "delivered .*-> zvh-mh .*signal=$id")" = 1
check "the same batch again changes nothing" test "$("$FORGE" receipt "$zvh" "$id" good)" = SENT
check "still audited once" test "$(sp broker audit log | grep -c "delivered .*-> zvh-mh .*signal=$id")" = 1
check "broker audit chain verifies" sp broker audit verify
e2e_done
