#!/usr/bin/env bash
# e2e: per-recipient pseudonyms (issue 13), real processes on a network with
# the pseudonymisation service. The signed header commits to the network
# pseudonym P; P goes beside it to the broker only; every recipient gets its
# own pseudonym P_R, signed by the broker. Checked from the recipients' side:
#  - no byte of P (any 8-byte window, or its hex) is in anything a recipient
#    received or stored: its folder (data.mdb, hook output) and its log;
#  - two recipients get different pseudonyms for the same child, each stable
#    across signals;
#  - the school still sees its own reference on a Handle With Care notice
#    (inbox, and the hook item), and the ZVH's referral names the subject by
#    the ZVH's own pseudonym;
# (A delivery whose pseudonym the broker did not sign: unit test_signal
# recip_pseudonym_sig; only the broker's CURVE key can send a delivery.)
. "$(dirname "$0")/lib.sh"

OPRF_PORT=$(e2e_free_port)
e2e_setup --pseudonymisers 1 --oprf-port "$OPRF_PORT"
H="$E2E_DIR/hook"
mkdir -p "$H/school" "$H/yc" "$H/zvh"
printf '\n[hook]\nout = %s\n' "$H/school" >>"$NET/school-bonnefanten/seinpost.conf"
printf '\n[hook]\nout = %s\n' "$H/yc" >>"$NET/jeugdzorg-mh/seinpost.conf"
printf '\n[hook]\nout = %s\n' "$H/zvh" >>"$NET/zvh-mh/seinpost.conf"
"$SEINPOSTD" --config "$NET/pseudo-mh/seinpost.conf" --verbose >>"$E2E_DIR/pseudo-mh.log" 2>&1 &
E2E_PIDS+=($!)
e2e_wait_for 10 grep -q "listening on" "$E2E_DIR/pseudo-mh.log" || { echo "service did not start"; exit 1; }
for p in broker politie-limburg school-bonnefanten jeugdzorg-mh zvh-mh fg-mh; do e2e_start "$p" || exit 1; done

BSN=111222333
P=$(sp fg-mh pseudonym $BSN)
check "the network pseudonym of the child (privacy officer's look-up)" test "${#P}" -eq 64

check "the school registers its pupil" sp school-bonnefanten involve --bsn $BSN --ref LL-7
check "youth care registers its client" sp jeugdzorg-mh involve --bsn $BSN --ref JZ-42
hwc=$(sp politie-limburg submit --category gia --weight 2 --bsn $BSN --summary "huiselijk geweld" --wait=10 2>/dev/null)
check "a Handle With Care notice is accepted" test ${#hwc} -eq 32
s1=$(sp politie-limburg submit --category drug-recruitment --weight 2 --bsn $BSN --summary "benaderd" --wait=10 2>/dev/null)
s2=$(sp jeugdzorg-mh submit --category drug-recruitment --weight 2 --bsn $BSN --summary "klusjes" --wait=10 2>/dev/null)
check "two signals about the child from two organisations are accepted" test ${#s1} -eq 32 -a ${#s2} -eq 32
check "the school receives the notice and the signal" e2e_wait_for 15 bash -c \
	"n=\$('$SEINPOST' --config '$NET/school-bonnefanten/seinpost.conf' inbox | grep -c '$hwc\\|$s1'); [ \$n -eq 2 ]"
check "youth care receives the police's signals" e2e_wait_for 15 bash -c \
	"'$SEINPOST' --config '$NET/jeugdzorg-mh/seinpost.conf' inbox | grep -q '$s1'"
check "the ZVH receives the referral (two organisations signalled)" e2e_wait_for 20 bash -c \
	"'$SEINPOST' --config '$NET/zvh-mh/seinpost.conf' inbox | grep -q '$s2'"

# --- each recipient its own pseudonym, stable, never P ---------------------------
subj() { # org id -> the subject column of that inbox entry
	sp "$1" inbox --json | python3 -c 'import json,sys; print([e["subject"] for e in json.load(sys.stdin) if e["id"]==sys.argv[1]][0])' "$2"
}
sch1=$(subj school-bonnefanten "$hwc"); sch2=$(subj school-bonnefanten "$s1")
yc1=$(subj jeugdzorg-mh "$s1")
zvh1=$(subj zvh-mh "$s2")
check "the school's pseudonym is stable across signals ($sch1 = $sch2)" test -n "$sch1" -a "$sch1" = "$sch2"
check "school and youth care get different pseudonyms for the child ($sch1 / $yc1)" test -n "$yc1" -a "$sch1" != "$yc1"
check "... and the ZVH a third ($zvh1)" test -n "$zvh1" -a "$zvh1" != "$sch1" -a "$zvh1" != "$yc1"
check "none of them is the network pseudonym's prefix" test "$sch1" != "${P:0:16}" -a "$yc1" != "${P:0:16}" -a "$zvh1" != "${P:0:16}"

# --- the school still recognises its own pupil -------------------------------------
check "the school's inbox shows its own reference on the notice" bash -c \
	"'$SEINPOST' --config '$NET/school-bonnefanten/seinpost.conf' inbox | grep '$hwc' | grep -q 'ref LL-7'"
check "... and youth care its own" bash -c \
	"'$SEINPOST' --config '$NET/jeugdzorg-mh/seinpost.conf' inbox | grep '$s1' | grep -q 'ref JZ-42'"
check "the school's hook item for the notice carries its reference" e2e_wait_for 10 python3 - "$H/school" "$hwc" <<'EOF'
import glob, json, sys
for f in glob.glob(sys.argv[1] + "/*.json"):
    d = json.load(open(f))
    if d.get("id") == sys.argv[2] and d.get("ref") == "LL-7":
        sys.exit(0)
sys.exit(1)
EOF
out=$(sp zvh-mh referrals 2>&1)
check "the ZVH's referral names the subject by the ZVH's own pseudonym" grep -q "${zvh1:0:8}" <<<"$out"

# --- no byte of P at any recipient --------------------------------------------------
# Stopped first, so every page is on disk. The sender (the police) computed P
# itself and keeps it in its outbox; youth care signalled too, so it is
# scanned for what it received only through its inbox entries and hook output.
for p in school-bonnefanten jeugdzorg-mh zvh-mh; do e2e_stop "$p"; done
scan() { # files... — fails when any 8-byte window of P, or P's hex prefix, is in them
	python3 - "$P" "$@" <<'EOF'
import os, sys
p = bytes.fromhex(sys.argv[1]); hexp = sys.argv[1][:16].encode()
wins = [p[i:i + 8] for i in range(0, 25)]
hit = []
for root in sys.argv[2:]:
    paths = [root] if os.path.isfile(root) else [os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs]
    for path in paths:
        try:
            b = open(path, "rb").read()
        except OSError:
            continue
        if any(w in b for w in wins) or hexp in b or hexp.upper() in b:
            hit.append(path)
print("\n".join(hit))
sys.exit(1 if hit else 0)
EOF
}
check "no byte of P in the school's folder (store, keys, hook output) or log" \
	scan "$NET/school-bonnefanten" "$H/school" "$E2E_DIR/school-bonnefanten.log"
check "no byte of P in the ZVH's folder or log" scan "$NET/zvh-mh" "$H/zvh" "$E2E_DIR/zvh-mh.log"
check "no byte of P in youth care's hook output or log" scan "$H/yc" "$E2E_DIR/jeugdzorg-mh.log"
found() { ! scan "$@" >/dev/null; }
check "control: the broker's store does hold P (the scan can find it)" found "$NET/broker"

e2e_done
