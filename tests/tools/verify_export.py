#!/usr/bin/env python3
"""Independent verifier for `seinpost audit export --json` (python3 stdlib only).

Checks, without any seinpost code:
  * records are numbered 1..N without gaps;
  * each leaf_hash is SHA-256(0x00 || record bytes)           (RFC 9162 2.1.1);
  * the chain: each record's prev_hash (field 17) is the previous record's
    leaf hash (32 zero bytes for record 1);
  * each signed tree head's root equals the Merkle tree hash of the first
    tree_size records (node = SHA-256(0x01 || left || right));
  * each head's Ed25519 signature by the broker key over
    "seinpost/sth/v1" || be64(tree_size) || be64(timestamp) || root_hash;
  * heads grow (size and time) and none claims more records than exported.
Usage: verify_export.py EXPORT.json [--broker-key HEX]   (exit 0 = OK)
The broker key should come from the signed roster, not from the export.
"""
import base64
import hashlib
import json
import struct
import sys

# ---- Ed25519 verification (RFC 8032 section 5.1.7), pure Python ----------
P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493
D = -121665 * pow(121666, P - 2, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)


def _recover_x(y, sign):
    xx = (y * y - 1) * pow(D * y * y + 1, P - 2, P) % P
    x = pow(xx, (P + 3) // 8, P)
    if (x * x - xx) % P:
        x = x * SQRT_M1 % P
    if (x * x - xx) % P:
        return None
    if x == 0 and sign:
        return None
    if x & 1 != sign:
        x = P - x
    return x


def _add(a, b):
    x1, y1, z1, t1 = a
    x2, y2, z2, t2 = b
    A = (y1 - x1) * (y2 - x2) % P
    B = (y1 + x1) * (y2 + x2) % P
    C = 2 * t1 * t2 * D % P
    Dd = 2 * z1 * z2 % P
    E, F, G, H = B - A, Dd - C, Dd + C, B + A
    return (E * F % P, G * H % P, F * G % P, E * H % P)


def _mul(s, pt):
    q = (0, 1, 1, 0)
    while s:
        if s & 1:
            q = _add(q, pt)
        pt = _add(pt, pt)
        s >>= 1
    return q


def _encode(pt):
    x, y, z, _ = pt
    zi = pow(z, P - 2, P)
    x, y = x * zi % P, y * zi % P
    return (y | ((x & 1) << 255)).to_bytes(32, "little")


def _decode(s):
    y = int.from_bytes(s, "little")
    sign = y >> 255
    y &= (1 << 255) - 1
    if y >= P:
        return None
    x = _recover_x(y, sign)
    return None if x is None else (x, y, 1, x * y % P)


_BY = 4 * pow(5, P - 2, P) % P
BASE = (_recover_x(_BY, 0), _BY, 1, _recover_x(_BY, 0) * _BY % P)


def ed25519_verify(pk, msg, sig):
    if len(pk) != 32 or len(sig) != 64:
        return False
    a, r = _decode(pk), _decode(sig[:32])
    s = int.from_bytes(sig[32:], "little")
    if a is None or r is None or s >= L:
        return False
    h = int.from_bytes(hashlib.sha512(sig[:32] + pk + msg).digest(), "little") % L
    return _encode(_mul(s, BASE)) == _encode(_add(r, _mul(h, a)))


# ---- RFC 9162 Merkle tree -------------------------------------------------
def leaf_hash(data):
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def _varint(b, i):
    v = shift = 0
    while True:
        c = b[i]
        i += 1
        v |= (c & 0x7F) << shift
        if c < 0x80:
            return v, i
        shift += 7


def prev_hash(record):
    """AuditRecord.prev_hash (field 17, bytes) from the stored protobuf bytes."""
    i = 0
    while i < len(record):
        tag, i = _varint(record, i)
        field, wt = tag >> 3, tag & 7
        if wt == 0:
            _, i = _varint(record, i)
        elif wt == 2:
            n, i = _varint(record, i)
            if field == 17:
                return record[i:i + n]
            i += n
        elif wt == 1:
            i += 8
        elif wt == 5:
            i += 4
        else:
            raise ValueError("unexpected wire type %d" % wt)
    return b""


class Frontier:
    """Streaming tree hash: perfect subtree roots for the set bits of size."""

    def __init__(self):
        self.size, self.levels = 0, {}

    def push(self, h):
        level = 0
        while self.size >> level & 1:
            h = node_hash(self.levels.pop(level), h)
            level += 1
        self.levels[level] = h
        self.size += 1

    def root(self):
        if not self.size:
            return hashlib.sha256(b"").digest()
        r = None
        for level in sorted(self.levels):
            r = self.levels[level] if r is None else node_hash(self.levels[level], r)
        return r


def main(argv):
    if len(argv) < 2:
        print(__doc__)
        return 2
    with open(argv[1]) as f:
        ex = json.load(f)
    key = ex.get("broker_sign_key", "")
    if "--broker-key" in argv:
        key = argv[argv.index("--broker-key") + 1]
    pk = bytes.fromhex(key)
    records = ex["records"]
    heads = sorted(ex["tree_heads"], key=lambda h: h["tree_size"])
    for i, h in enumerate(heads):
        if i and (h["tree_size"] <= heads[i - 1]["tree_size"] or h["timestamp_ms"] < heads[i - 1]["timestamp_ms"]):
            print("BAD tree head %d: does not grow" % h["tree_size"])
            return 1
        msg = b"seinpost/sth/v1" + struct.pack(">QQ", h["tree_size"], h["timestamp_ms"]) + bytes.fromhex(h["root_hash"])
        if not ed25519_verify(pk, msg, bytes.fromhex(h["signature"])):
            print("BAD tree head %d: signature is not the broker's" % h["tree_size"])
            return 1
    tree, hi, prev = Frontier(), 0, bytes(32)
    for n, rec in enumerate(records, 1):
        if rec["seq"] != n:
            print("BAD record %d: missing or out of order (found seq %d)" % (n, rec["seq"]))
            return 1
        lh = leaf_hash(base64.b64decode(rec["record"]))
        if lh.hex() != rec["leaf_hash"]:
            print("BAD record %d: leaf hash does not match its bytes" % n)
            return 1
        # the chain: each record's prev_hash is the previous record's leaf hash
        if prev_hash(base64.b64decode(rec["record"])) != prev:
            print("BAD record %d: prev_hash is not the leaf hash of record %d" % (n, n - 1))
            return 1
        prev = lh
        tree.push(lh)
        while hi < len(heads) and heads[hi]["tree_size"] == n:
            if tree.root().hex() != heads[hi]["root_hash"]:
                print("BAD tree head %d: root does not match records 1..%d" % (n, n))
                return 1
            hi += 1
    if hi < len(heads):
        print("BAD tree head %d: signed for more records than exported (%d)" % (heads[hi]["tree_size"], len(records)))
        return 1
    print("OK: %d records, %d signed tree heads verified, root %s" % (len(records), len(heads), tree.root().hex()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
