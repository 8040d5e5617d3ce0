#!/usr/bin/env python3
"""gen_bsn.py N [START] — N distinct synthetic BSNs passing the elfproef, one per
line as "BSN,ref" (the bulk involvement format). Numbers from a fixed range,
so runs are repeatable; they are test numbers, not people."""
import sys

n = int(sys.argv[1])
p = int(sys.argv[2]) if len(sys.argv) > 2 else 10000000
out, made = [], 0
w = (9, 8, 7, 6, 5, 4, 3, 2)
while made < n:
    s = str(p).zfill(8)
    p += 1
    t = sum(int(c) * k for c, k in zip(s, w)) % 11
    if t == 10:
        continue
    out.append("%s%d,LL-%d\n" % (s, t, made))
    made += 1
    if len(out) >= 100000:
        sys.stdout.write("".join(out)); out = []
sys.stdout.write("".join(out))
