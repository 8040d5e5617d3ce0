#!/usr/bin/env python3
"""report.py RESULTS_DIR OUT.json < facts.json — the benchmark's table and JSON."""
import json, os, sys

rdir, out = sys.argv[1], sys.argv[2]
facts = json.load(sys.stdin)
raw = json.load(open(os.path.join(rdir, "raw.json")))
e2e = {k: json.load(open(os.path.join(rdir, k + ".json"))) for k in ("e2e100", "e2e1000", "e2emax")}
cpu = json.load(open(os.path.join(rdir, "cpu.json")))
oprf = json.load(open(os.path.join(rdir, "oprf.json")))

whosaw = sorted(facts["whosaw_ms_runs"])
res = {
    "scale": facts["scale"], "cores": facts["cores"], "elapsed_s": facts["elapsed_s"],
    "e2e_max_per_s": e2e["e2emax"]["per_s"],
    "limit_per_s": raw["limit_per_s"],
    "limit_per_core_per_s": raw["limit_per_core_per_s"],
    "e2e_ratio": round(e2e["e2emax"]["per_s"] / raw["limit_per_s"], 3) if raw["limit_per_s"] else 0,
    "p50_ms": e2e["e2e1000"]["p50_ms"], "p95_ms": e2e["e2e1000"]["p95_ms"], "p99_ms": e2e["e2e1000"]["p99_ms"],
    "fsync_p50_ms": raw["fsync_p50_ms"],
    "involve_per_s": round(facts["involve_n"] * 1000.0 / facts["involve_ms"], 0) if facts["involve_ms"] else 0,
    "involve_n": facts["involve_n"], "involve_s": facts["involve_ms"] / 1000.0,
    "verify_records_per_s": round(facts["audit_records"] * 1000.0 / facts["verify_ms"], 0) if facts["verify_ms"] else 0,
    "verify_records": facts["audit_records"], "verify_s": facts["verify_ms"] / 1000.0,
    "whosaw_ms": whosaw[len(whosaw) // 2], "whosaw_rows": facts["whosaw_rows"],
    "node_rss_mb": facts["node_rss_mb"], "broker_rss_mb": facts["broker_rss_mb"],
    "broker_nodes": facts["broker_nodes"],
    "broker_start_ms": facts["broker_start_ms"], "node_start_ms": facts["node_start_ms"],
    "cpu_us_per_signal": cpu, "cpu_us_per_signal_total": round(sum(cpu.values()), 1),
    "e2e": e2e, "raw": raw, "oprf": oprf,
}
json.dump(res, open(out, "w"), indent=1)

def row(a, b, c=""):
    print("  %-44s %-22s %s" % (a, b, c))
def goal(ok):
    return "goal met" if ok else "GOAL NOT MET"
print()
print("seinpost benchmark (%s scale, %d cores, %d s)" % (res["scale"], res["cores"], res["elapsed_s"]))
print("  " + "-" * 86)
print("  raw components")
row("zmq DEALER->ROUTER, CURVE, %d B frames" % raw["frame_bytes"], "%.0f msg/s" % raw["zmq_curve_msgs_per_s"])
row("LMDB synced append, batches of %d" % raw["lmdb_batch"], "%.0f rec/s" % raw["lmdb_records_per_s"])
row("LMDB single commit (fsync) p50 / p99", "%.3f / %.3f ms" % (raw["fsync_p50_ms"], raw["fsync_p99_ms"]))
row("Ed25519 verify", "%.0f /s" % raw["ed25519_verify_per_s"])
row("frame decode + validate", "%.0f /s" % raw["decode_per_s"])
row("broker admit (verify+digests+policy)", "%.1f us" % raw["admit_us"])
row("broker route per recipient / receipt", "%.1f / %.1f us" % (raw["route_us"], raw["receipt_us"]))
row("audit append (batched, Merkle + index)", "%.1f us" % raw["audit_append_us"])
row("node: build + seal one signal", "%.1f us" % raw["node_seal_us"])
row("broker per signal: main / signatures / I/O", "%.1f / %.1f / %.1f us" % (raw["broker_main_us"], raw["broker_sig_us"],
    raw["broker_io_us"]), "(%d recipients; signatures on 2 threads)" % raw["recipients"])
row("derived limit: one core / broker's cores", "%.0f / %.0f signals/s" % (raw["limit_per_core_per_s"], raw["limit_per_s"]))
print("  end to end (submit -> stored at both recipients, broker audit committed)")
for k, label in (("e2e100", "100/s"), ("e2e1000", "1,000/s"), ("e2emax", "max")):
    e = e2e[k]
    row("offered %s: %d signals" % (label, e["signals"]), "%.0f signals/s" % e["per_s"],
        "p50 %s p95 %s p99 %s ms%s" % (e["p50_ms"], e["p95_ms"], e["p99_ms"],
                                      ", %d MISSING" % e["missing"] if e["missing"] else ""))
row("CPU per signal in the max run, all processes", "%.0f us" % res["cpu_us_per_signal_total"],
    "broker %.0f, senders %.0f + %.0f, recipients %.0f + %.0f" % (cpu["broker"], cpu["politie-a"], cpu["politie-b"],
                                                             cpu["jeugdzorg-a"], cpu["zvh-a"]))
row("  -> machine bound: cores / CPU per signal", "%.0f signals/s" % (res["cores"] * 1e6 / res["cpu_us_per_signal_total"]))
row("e2e max / derived limit", "%.2f" % res["e2e_ratio"], goal(res["e2e_ratio"] >= 0.5))
row("p99 at 1,000/s vs 10 x fsync p50", "%s ms vs %.2f ms" % (res["p99_ms"], 10 * res["fsync_p50_ms"]),
    goal(res["p99_ms"] is not None and res["p99_ms"] <= 10 * res["fsync_p50_ms"]))
print("  bulk involvement")
row("%d involvements, one node" % facts["involve_target"],
    "%.1f s, %.0f /s" % (res["involve_s"], res["involve_per_per_s"] if False else res["involve_per_s"]),
    goal(res["involve_n"] >= facts["involve_target"] and res["involve_s"] < 60 * facts["involve_target"] / 1e6))
print("  pseudonymisation service (RFC 9497 VOPRF; per-element figures: CPU time, one core, batches of %d)" % oprf["batch"])
row("service: evaluate + batched proof", "%.0f elements/s" % oprf["service_per_s"],
    "%.0f + %.0f us" % (oprf["service_eval_us"], oprf["service_prove_us"]))
row("node: blind + verify + unblind", "%.0f elements/s" % oprf["node_per_s"],
    "%.0f + %.0f + %.0f us" % (oprf["node_blind_us"], oprf["node_verify_us"], oprf["node_unblind_us"]))
row("node, 2-of-3 (two proofs, combined unblind)", "%.0f elements/s" % oprf["node_2of3_per_s"])
row("%d pseudonyms via the service (CLI)" % oprf["pseudonyms_n"], "%.1f s, %.0f /s" % (oprf["pseudonyms_ms"] / 1000.0,
    oprf["pseudonyms_per_s"]))
row("  CPU: node CLI / service", "%.1f / %.1f s" % (oprf["node_cpu_ms"] / 1000.0, oprf["service_cpu_ms"] / 1000.0))
def inv(label, ms, got, n, limit_s):
    row(label, "%.1f s, %.0f /s" % (ms / 1000.0, got * 1000.0 / ms if ms else 0),
        goal(got >= n and ms < 1000 * limit_s) + ("" if got >= n else " (%d of %d at the broker)" % (got, n)))
inv("%d involvements (involve --file), 1 instance" % oprf["involve_n"], oprf["involve_1_ms"], oprf["involve_1_got"],
    oprf["involve_n"], 10)
inv("%d involvements, 2-of-3 instances" % oprf["involve_n"], oprf["involve_2of3_ms"], oprf["involve_2of3_got"],
    oprf["involve_n"], 20)
inv("%d involvements, 1 instance" % oprf["involve_big_n"], oprf["involve_big_ms"], oprf["involve_big_got"],
    oprf["involve_big_n"], 60)
sub = oprf["submit"]
row("a submit's added latency p50 / p99", "%.2f / %.2f ms" % (sub["p50_ms"], sub["p99_ms"]), goal(sub["p50_ms"] < 2))
print("  audit")
row("audit verify, %d records" % res["verify_records"], "%.1f s, %.0f rec/s" % (res["verify_s"], res["verify_records_per_s"]),
    goal(res["verify_records_per_s"] >= 500000))
row("who-saw, one subject (%d lines), median of 5" % res["whosaw_rows"], "%d ms" % res["whosaw_ms"], goal(res["whosaw_ms"] < 100))
print("  footprint")
row("idle node RSS", "%.1f MB" % res["node_rss_mb"], goal(res["node_rss_mb"] < 16))
row("broker RSS, %d nodes connected" % res["broker_nodes"], "%.1f MB" % res["broker_rss_mb"], goal(res["broker_rss_mb"] < 64))
row("start-up to READY: broker / node", "%.0f / %.0f ms" % (res["broker_start_ms"], res["node_start_ms"]))
print("  " + "-" * 86)
print("  written: %s" % out)
