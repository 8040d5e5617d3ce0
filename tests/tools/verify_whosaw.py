#!/usr/bin/env python3
"""verify_whosaw.py — check a privacy officer's who-saw answer independently.

    seinpost --config fg/seinpost.conf audit who-saw --bsn BSN --json > whosaw.json
    python3 tests/tools/verify_whosaw.py whosaw.json --broker-key HEX

Trusts nothing in the file but the broker's public signing key given on the
command line (take it from the signed roster). Checks:
  * the signed tree head's Ed25519 signature (RFC 8032) by that key;
  * for every entry: its record bytes hash to the leaf, the RFC 9162
    inclusion path leads from that leaf to the signed root, and the record
    (protobuf AuditRecord) carries the entry's seq and the subject's
    pseudonym;
  * the answer says it is complete and carries no warning.
Prints "OK: N entries proven against the signed head of size S" and exits 0,
or names the first failure and exits 1.
"""
import base64
import hashlib
import json
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from verify_export import ed25519_verify, leaf_hash, node_hash, _varint  # noqa: E402


def fields(record):
    """seq (1) and pseudonym (7) of an AuditRecord's protobuf bytes."""
    out = {}
    i = 0
    while i < len(record):
        tag, i = _varint(record, i)
        field, wt = tag >> 3, tag & 7
        if wt == 0:
            v, i = _varint(record, i)
            out.setdefault(field, v)
        elif wt == 2:
            n, i = _varint(record, i)
            out.setdefault(field, record[i:i + n])
            i += n
        elif wt == 1:
            i += 8
        elif wt == 5:
            i += 4
        else:
            raise ValueError("unexpected wire type %d" % wt)
    return out.get(1), out.get(7)


def root_from_path(index, size, leaf, path):
    """RFC 9162 section 2.1.3.2."""
    if index >= size:
        return None
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return r if sn == 0 else None


def main(argv):
    if len(argv) != 4 or argv[2] != "--broker-key":
        print(__doc__)
        return 2
    with open(argv[1]) as f:
        d = json.load(f)
    pk = bytes.fromhex(argv[3])
    h = d.get("signed_tree_head")
    if not h:
        print("FAIL: no signed tree head in the answer")
        return 1
    size, ts = h["tree_size"], h["timestamp_ms"]
    root = bytes.fromhex(h["root_hash"])
    msg = b"seinpost/sth/v1" + struct.pack(">QQ", size, ts) + root
    if not ed25519_verify(pk, msg, bytes.fromhex(h["signature"])):
        print("FAIL: the tree head is not signed by that broker key")
        return 1
    pseudo = bytes.fromhex(d["pseudonym"])
    # After key rotations the records before them carry the subject's earlier
    # pseudonyms; the privacy officer's node checked their DLEQ proofs against
    # the roster's d (this script does not implement ristretto255).
    earlier = {bytes.fromhex(x["pseudonym"]) for x in d.get("earlier_pseudonyms", [])}
    for e in d["entries"]:
        p = e.get("proof")
        if not p:
            print("FAIL: entry %d carries no proof" % e["seq"])
            return 1
        rec = base64.b64decode(p["record"])
        seq, ps = fields(rec)
        if seq != e["seq"] or p["leaf_index"] != seq - 1:
            print("FAIL: entry %d: the record says seq %s" % (e["seq"], seq))
            return 1
        if ps != pseudo and ps not in earlier:
            print("FAIL: entry %d is not about this subject" % e["seq"])
            return 1
        path = [bytes.fromhex(x) for x in p["inclusion_path"]]
        if root_from_path(p["leaf_index"], size, leaf_hash(rec), path) != root:
            print("FAIL: entry %d: the inclusion path does not lead to the signed root" % e["seq"])
            return 1
    if d.get("warnings") or not d.get("complete"):
        print("FAIL: the answer itself reports: %s" % "; ".join(d.get("warnings") or ["not complete"]))
        return 1
    print("OK: %d entries proven against the signed head of size %d" % (len(d["entries"]), size))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
