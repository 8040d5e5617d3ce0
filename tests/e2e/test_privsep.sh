#!/usr/bin/env bash
# Privilege separation (issue 12 item 8, docs/privsep.md): a node is a key
# holder (parent) and a network process (child). The network process holds
# none of the sign, box or pseudonymisation secrets in its memory, cannot
# open keys/ (Landlock) and cannot read the key holder's memory; a hook
# cannot read keys/ or the state; the broker closes keys/ after start.
# Either process of a node dying stops both.
. "$(dirname "$0")/lib.sh"

e2e_setup --org police:politie-limburg --org school:school-bonnefanten --org youthcare:jeugdzorg-mh
H="$E2E_DIR/hook"
mkdir -p "$H"
YC="$NET/jeugdzorg-mh"
# A hostile hook at youth care: tries the node's keys, its database and the
# memory of the process that started it.
cat >"$H/thief" <<HOOK
#!/bin/sh
cat "$YC"/keys/*.key "$YC/keys/sign.key" "$YC/keys/box.key" >"$H/keys.out" 2>"$H/keys.err"; echo \$? >"$H/keys.rc"
cat "$YC/state/data.mdb" >"$H/mdb.out" 2>"$H/mdb.err"; echo \$? >"$H/mdb.rc"
cat "$YC/pseudo.key" >"$H/pseudo.out" 2>"$H/pseudo.err"; echo \$? >"$H/pseudo.rc"
head -c 100 /proc/\$PPID/mem >"$H/mem.out" 2>"$H/mem.err"; echo \$? >"$H/mem.rc"
kill -0 \$PPID 2>"$H/kill.err"; echo \$? >"$H/kill.rc"
cat >/dev/null
echo done >"$H/done"
HOOK
chmod +x "$H/thief"
printf '\n[hook]\ncommand = %s\nretry_s = 1\n' "$H/thief" >>"$YC/seinpost.conf"

for p in broker politie-limburg school-bonnefanten jeugdzorg-mh; do
	e2e_start "$p" || exit 1
done

# The network process of a node: the key holder's only child.
netpid() { cat "/proc/$(e2e_pid "$1")/task/$(e2e_pid "$1")/children" 2>/dev/null | awk '{print $1}'; }

BSN=111222333
check "youth care registers an involvement (pseudonym from the key holder)" sp jeugdzorg-mh involve --bsn $BSN --ref C-1
id=$(sp politie-limburg submit --category drug-recruitment --weight 2 --bsn $BSN --summary "privsep test" \
	--contact "wijkagent" --wait=10 2>"$E2E_DIR/submit.err")
check "police submit is signed through the key holder and accepted" test ${#id} -eq 32
check "youth care receives it (receipt signed through the key holder)" \
	e2e_wait_for 15 bash -c "'$SEINPOST' --config '$YC/seinpost.conf' inbox | grep -q $id"
check "the hook ran (grant opened through the key holder)" e2e_wait_for 15 test -e "$H/done"

# --- processes --------------------------------------------------------------------
KH=$(e2e_pid jeugdzorg-mh)
NP=$(netpid jeugdzorg-mh)
check "a node is two processes: key holder $KH, network process ${NP:-none}" test -n "$NP" -a "$NP" != "$KH"
check "the network process runs with no_new_privs" grep -q "^NoNewPrivs:[[:space:]]*1" "/proc/$NP/status"
check "the network process logged that keys/ is out of its reach (Landlock, EACCES)" \
	grep -q "keys/ is out of reach of the network process (Landlock ABI [0-9]*): opening sign.key: Permission denied" \
	"$E2E_DIR/jeugdzorg-mh.log"

# --- the hook ---------------------------------------------------------------------
check "the hook's cat keys/*.key gets nothing" test ! -s "$H/keys.out"
check "... and fails with 'Permission denied'" bash -c "[ \$(cat '$H/keys.rc') != 0 ] && grep -q 'Permission denied' '$H/keys.err'"
check "the hook's cat state/data.mdb gets nothing" test ! -s "$H/mdb.out"
check "... and fails with 'Permission denied'" grep -q "Permission denied" "$H/mdb.err"
check "the hook cannot read the pseudonymisation key" bash -c "test ! -s '$H/pseudo.out' && grep -q 'Permission denied' '$H/pseudo.err'"
check "the hook cannot open the network process's memory (/proc/PPID/mem)" bash -c "test ! -s '$H/mem.out' && grep -q 'Permission denied' '$H/mem.err'"
check "the hook cannot signal the node (Landlock signal scope, kill -0 fails)" \
	bash -c "[ \$(cat '$H/kill.rc') != 0 ] && grep -qi 'not permitted' '$H/kill.err'"

# --- from inside the network process (gdb calls open() in it) ------------------------
# The test runs as root; the probe runs with the network process's own
# Landlock domain, so root's capabilities do not help it.
probe() { # pid path -> "fd errno"
	gdb -q -nx -batch -p "$1" -ex "set confirm off" -ex "p (int)open(\"$2\", 0)" \
		-ex "p *(int *)__errno_location()" 2>/dev/null | awk -F' = ' '/^\$[0-9]+ = /{printf "%s ", $2}'
}
if command -v gdb >/dev/null; then
	r=$(probe "$NP" "$YC/keys/sign.key")
	check "network process: open(keys/sign.key) -> -1 EACCES (got: $r)" test "$r" = "-1 13 "
	r=$(probe "$NP" "$YC/keys/box.key")
	check "network process: open(keys/box.key) -> -1 EACCES (got: $r)" test "$r" = "-1 13 "
	r=$(probe "$NP" "/proc/$KH/mem")
	check "network process: open(/proc/KEYHOLDER/mem) is refused (got: $r)" bash -c "[[ '$r' == '-1 13 ' || '$r' == '-1 1 ' ]]"
	r=$(probe "$NP" "$YC/state/data.mdb")
	check "network process: its own state stays open to it (got: $r)" bash -c "[[ '$r' != -1* && -n '$r' ]]"
	r=$(gdb -q -nx -batch -p "$KH" -ex "p (int)prctl(3, 0, 0, 0, 0)" 2>/dev/null | awk -F' = ' '/^\$1 = /{print $2}')
	check "the key holder is not dumpable (PR_GET_DUMPABLE = ${r:-?})" test "$r" = 0
	BP=$(e2e_pid broker)
	r=$(probe "$BP" "$NET/broker/keys/sign.key")
	check "broker: open(keys/sign.key) after start -> -1 EACCES (got: $r)" test "$r" = "-1 13 "
	r=$(gdb -q -nx -batch -p "$BP" -ex "p (int)prctl(3, 0, 0, 0, 0)" 2>/dev/null | awk -F' = ' '/^\$1 = /{print $2}')
	check "the broker is not dumpable (PR_GET_DUMPABLE = ${r:-?})" test "$r" = 0
else
	echo "# gdb not installed: the in-process probes are skipped"
fi
check "the broker runs with no_new_privs" grep -q "^NoNewPrivs:[[:space:]]*1" "/proc/$(e2e_pid broker)/status"

# --- memory scan --------------------------------------------------------------------
# Every secret of the node, read from its key files; the key holder must
# hold them (the scan works), the network process none.
cat >"$E2E_DIR/memscan.py" <<'PY'
import sys, re
pid, keys, pseudo = sys.argv[1], sys.argv[2], sys.argv[3]
secrets = {}
for name, n in (("sign.key", 64), ("box.key", 32), ("curve.key", 32)):
    b = bytes.fromhex(open(f"{keys}/{name}").read().strip())
    assert len(b) == n
    secrets[name] = b[:32]            # the Ed25519 seed (the rest is the public key), the X25519 scalars
for line in open(pseudo):
    p = line.split()
    if len(p) == 3 and p[0] == "epoch":
        secrets["pseudo.key epoch " + p[1]] = bytes.fromhex(p[2])
found = set()
CHUNK, SKIP = 8 << 20, 2 << 30   # read in 8 MiB steps; skip reservations over 2 GiB (sanitizer shadow)
with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb", 0) as mem:
    for line in maps:
        m = re.match(r"([0-9a-f]+)-([0-9a-f]+) (\S+)", line)
        lo, hi, perm = int(m[1], 16), int(m[2], 16), m[3]
        if perm[0] != "r" or "[vvar" in line or "[vsyscall" in line or hi - lo > SKIP:
            continue
        prev = b""
        for at in range(lo, hi, CHUNK):
            try:
                mem.seek(at)
                data = prev + mem.read(min(CHUNK, hi - at))
            except OSError:
                prev = b""
                continue
            for k, v in secrets.items():
                if v in data:
                    found.add(k)
            prev = data[-64:]
print("SCAN-OK", " ".join(sorted(found)) or "none")
PY
scan() { python3 "$E2E_DIR/memscan.py" "$1" "$YC/keys" "$YC/pseudo.key" 2>&1; }
kh_found=$(scan "$KH")
np_found=$(scan "$NP")
check "control: the key holder's memory holds sign, box and pseudonymisation secrets (found: $kh_found)" \
	bash -c "grep -q 'box.key' <<<'$kh_found' && grep -q 'sign.key' <<<'$kh_found' && grep -q 'pseudo.key' <<<'$kh_found'"
check "the network process's memory holds none of them (found: $np_found)" \
	bash -c "grep -q '^SCAN-OK' <<<'$np_found' && ! grep -Eq 'sign.key|box.key|pseudo.key' <<<'$np_found'"
check "... its CURVE transport key is there, as documented (found: $np_found)" grep -q "curve.key" <<<"$np_found"

# --- either process dying stops both ----------------------------------------------
kill -9 "$NP"
check "kill -9 of the network process: the key holder exits too" e2e_wait_for 10 bash -c "! kill -0 $KH 2>/dev/null"
check "... and says why in the log" grep -q "network process was killed by signal 9" "$E2E_DIR/jeugdzorg-mh.log"
wait "$KH" 2>/dev/null
check "... a restart brings both back" e2e_start jeugdzorg-mh
KH=$(e2e_pid jeugdzorg-mh)
NP=$(netpid jeugdzorg-mh)
kill -9 "$KH"
check "kill -9 of the key holder: the network process dies too (PDEATHSIG)" e2e_wait_for 10 bash -c "! kill -0 $NP 2>/dev/null"
wait "$KH" 2>/dev/null
check "... a restart brings both back" e2e_start jeugdzorg-mh
id2=$(sp politie-limburg submit --category drug-recruitment --weight 2 --bsn $BSN --summary "after restart" \
	--contact "wijkagent" --wait=10 2>>"$E2E_DIR/submit.err")
check "... and a new signal arrives at youth care" \
	e2e_wait_for 15 bash -c "'$SEINPOST' --config '$YC/seinpost.conf' inbox | grep -q '${id2:-none}'"
e2e_stop jeugdzorg-mh TERM
check "SIGTERM to the key holder stops the network process cleanly" grep -q "network process stopped; key holder exits" "$E2E_DIR/jeugdzorg-mh.log"

e2e_done
