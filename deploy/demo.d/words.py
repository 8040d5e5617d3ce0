#!/usr/bin/env python3
"""words.py MODE POLICY.json — the demo's small formatter: turns a command's
--json output (stdin) into plain words and aligned columns, for a reader who
is a privacy officer or a school mentor rather than an engineer. Category and
rule names become the policy's own descriptions (POLICY.json is the output of
`seinpost policy check FILE --json`).

MODE: inbox | referrals | whosaw | verify (stdin: lines "ORG <audit verify --json>")
"""
import json
import sys

WEIGHT = {1: "low", 2: "medium", 3: "high"}
TIER = {"existence": "that it exists", "contact": "whom to call", "summary": "what happened",
        "full": "identity and full account"}


def first_clause(text, n=58):
    text = " ".join(text.split())
    for stop in (": ", " (", ". ", "; "):
        i = text.find(stop)
        if 20 <= i < n:  # not so early that nothing is said
            text = text[:i]
    return text if len(text) <= n else text[:n - 1].rstrip() + "…"


def tiers(t):
    words = [TIER[x] for x in t if x in TIER]
    if len(words) > 1:
        return ", ".join(words[:-1]) + " and " + words[-1]
    return words[0] if words else "nothing"


def table(rows, head):
    rows = [head] + rows
    w = [max(len(str(r[i])) for r in rows) for i in range(len(head))]
    for n, r in enumerate(rows):
        print("  " + "  ".join(str(c).ljust(w[i]) for i, c in enumerate(r)).rstrip())
        if n == 0:
            print("  " + "  ".join("-" * x for x in w))


def main():
    mode, pol = sys.argv[1], json.load(open(sys.argv[2]))
    cats = {c["id"]: first_clause(c["description"], 40) for c in pol["categories"]}
    rules = {r["id"]: first_clause(r["purpose"]) for r in pol["rules"]}
    rules.update({e["id"]: first_clause(e["purpose"]) for e in pol["escalations"]})
    if mode == "verify":
        for line in sys.stdin:
            org, doc = line.split(" ", 1)
            v = json.loads(doc)
            state = "intact" if v["ok"] else "BROKEN: " + v.get("reason", "")
            print("  %-20s its own log of %d records is %s" % (org, v["records"], state))
        return
    doc = json.load(sys.stdin)
    if mode == "inbox":
        if not doc:
            print("  (nothing received)")
            return
        table([[s["received_at"][11:19], s["from"], cats.get(s["category"], s["category"]),
                WEIGHT.get(s["weight"], s["weight"]), tiers(s["tiers"]), rules.get(s["rule"], s["rule"])]
               for s in doc], ["received", "from", "about", "weight", "we may see", "why"])
    elif mode == "referrals":
        for r in doc:
            print("  One case for the ZVH: %s" % rules.get(r["rule"], r["rule"]))
            print("  %d organisations signalled about the same young person, together weight %d%s."
                  % (r["orgs"], r["weight_sum"],
                     "" if not r["hidden"] else "; %d more signal(s) exist that the ZVH may not see" % r["hidden"]))
            table([[s.get("from", "?"), cats.get(s.get("category"), s.get("category", "not yet received")),
                    WEIGHT.get(s.get("weight"), "-"), tiers(s.get("tiers", []))] for s in r["signals"]],
                  ["from", "about", "weight", "the ZVH may see"])
    elif mode == "whosaw":
        what = {"signalled": "made the signal", "disclosed": "received", "released": "was given access to",
                "read": "opened and saw", "audit-query": "looked up who saw what (this report)"}
        rows = []
        for e in doc["entries"]:
            verb = what.get(e["what"], e["what"])
            seen = "" if e["what"] in ("signalled", "audit-query") else " " + tiers(e["tiers"])
            who = e["user"] if e["user"] and not e["user"].startswith("system:") else (
                "(its case system)" if e["user"].startswith("system:") else "")
            if e["user"].startswith("system:"):
                verb, seen = "handed to its case system:", seen
            rows.append([e["recorded_at"][11:19], e["organisation"], who, verb + seen,
                         rules.get(e["rule"], "") if e["rule"] else ""])
        table(rows, ["time", "organisation", "person", "what happened", "why"])
        h = doc["tree_head"]
        print("  %d entries, %s" % (len(doc["entries"]), "each proven to be in the broker's signed log"
                                    if h["verified"] else "NOT proven complete"))


if __name__ == "__main__":
    main()
