#!/usr/bin/env python3
"""e2e_stats.py OFFERED IDS_FILE DELIVERED_MAX_MS INBOX_FILE... — end-to-end figures
of one load run, as JSON on stdout.

IDS_FILE: sp_load lines "<id> <submit-start unix ms> <submit latency us>" (all senders).
INBOX_FILE: sp_bench_times inbox lines "<id> <received unix ms>", one file per recipient.
DELIVERED_MAX_MS: time of the broker's last DELIVERED audit record of the run.

latency = received - (submit start + submit latency): from the moment submit
returned the id to the recipient's durable store, per (signal, recipient).
throughput = signals / (end - first submit start), end = the later of the last
recipient store and the broker's last DELIVERED audit record."""
import json, sys

offered = sys.argv[1] if sys.argv[1] == "max" else float(sys.argv[1])
ids = {}
with open(sys.argv[2]) as f:
    for line in f:
        i, start, us = line.split()
        ids[i] = (int(start), int(start) + int(us) / 1000.0)
delivered_max = int(sys.argv[3])
lat, last, missing = [], 0, 0
for path in sys.argv[4:]:
    got = {}
    with open(path) as f:
        for line in f:
            i, ms = line.split()
            got[i] = int(ms)
    for i, (start, returned) in ids.items():
        if i not in got:
            missing += 1
            continue
        lat.append(max(0.0, got[i] - returned))
        last = max(last, got[i])
lat.sort()
def pct(p):
    return round(lat[min(len(lat) - 1, int(len(lat) * p / 100))], 2) if lat else None
first = min(s for s, _ in ids.values()) if ids else 0
end = max(last, delivered_max)
secs = (end - first) / 1000.0 if ids else 0
json.dump({"offered_per_s": offered, "signals": len(ids), "missing": missing,
           "seconds": round(secs, 3), "per_s": round(len(ids) / secs, 1) if secs > 0 else 0,
           "p50_ms": pct(50), "p95_ms": pct(95), "p99_ms": pct(99), "max_ms": round(lat[-1], 2) if lat else None},
          sys.stdout)
print()
