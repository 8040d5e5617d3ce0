#!/usr/bin/env python3
"""Register a class list as involvements through a seinpost node's spool.

A school's pupil administration exports a class list as CSV with the columns
bsn,pupil_ref,until (until = YYYY-MM-DD, may be empty: one year). This script
turns it into spool JSON (docs/spool.md) and drops it into the node's spool
directory with write-then-rename, so the node never reads a half-written file.

    school-involve-class.py klas-3b.csv /var/lib/seinpost/school/spool [--name klas-3b]

A header line is allowed. The list is checked here first (BSN elfproef, date
form, reference length); a bad line stops the export and names the line,
never the BSN. Lists longer than 2048 pupils are split over several files
(NAME-1.json, NAME-2.json, ...). Afterwards look in SPOOL/done/ or, if the
node refused a file, SPOOL/rejected/NAME.json.error.
"""
import argparse
import csv
import datetime
import json
import os
import re
import sys

MAX_PER_FILE = 2048  # entries per spool file (the node's limit)
REF_MAX = 64


def bsn_ok(bsn):
    """The elfproef: 9 digits (8 with a leading zero dropped)."""
    if len(bsn) == 8:
        bsn = "0" + bsn
    if not re.fullmatch(r"[0-9]{9}", bsn) or bsn == "000000000":
        return False
    total = sum(int(d) * w for d, w in zip(bsn[:8], range(9, 1, -1))) - int(bsn[8])
    return total % 11 == 0


def date_ok(s):
    try:
        return datetime.date.fromisoformat(s) > datetime.date.today() and len(s) == 10
    except ValueError:
        return False


def read_class(path):
    entries, problems = [], []
    with open(path, newline="", encoding="utf-8-sig") as f:
        for lineno, row in enumerate(csv.reader(f), 1):
            row = [c.strip() for c in row]
            if not row or not any(row) or row[0].startswith("#"):
                continue
            if lineno == 1 and row[0].lower() == "bsn":
                continue  # header
            if len(row) > 3:
                problems.append(f"line {lineno}: expected bsn,pupil_ref,until")
                continue
            bsn, ref, until = (row + ["", ""])[:3]
            if not bsn_ok(bsn):
                problems.append(f"line {lineno}: invalid BSN (elfproef)")  # never the number
                continue
            if len(ref) > REF_MAX or not ref.isprintable():
                problems.append(f"line {lineno}: pupil_ref must be at most {REF_MAX} printable characters")
                continue
            if until and not date_ok(until):
                problems.append(f"line {lineno}: until must be YYYY-MM-DD, a date in the future")
                continue
            entry = {"bsn": bsn}
            if ref:
                entry["ref"] = ref
            if until:
                entry["until"] = until
            entries.append(entry)
    return entries, problems


def drop(spool, name, doc):
    """Write-then-rename in the spool directory itself (same file system)."""
    final = os.path.join(spool, name)
    tmp = os.path.join(spool, "." + name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o640)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False)
        f.flush()
        os.fsync(f.fileno())
    os.rename(tmp, final)
    return final


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("csv", help="class list: bsn,pupil_ref,until")
    ap.add_argument("spool", help="the node's [spool] in directory")
    ap.add_argument("--name", help="spool file name without .json (default: the CSV's name)")
    a = ap.parse_args()

    entries, problems = read_class(a.csv)
    if problems:
        for p in problems[:20]:
            print(f"{a.csv}: {p}", file=sys.stderr)
        print(f"{len(problems)} line(s) refused; nothing was exported", file=sys.stderr)
        return 1
    if not entries:
        print(f"{a.csv}: no pupils", file=sys.stderr)
        return 1
    base = a.name or os.path.splitext(os.path.basename(a.csv))[0]
    if not re.fullmatch(r"[A-Za-z0-9._-]{1,150}", base) or base.startswith("."):
        print("file name: use letters, digits, '.', '_' and '-' only", file=sys.stderr)
        return 2
    chunks = [entries[i:i + MAX_PER_FILE] for i in range(0, len(entries), MAX_PER_FILE)]
    for n, chunk in enumerate(chunks, 1):
        name = f"{base}.json" if len(chunks) == 1 else f"{base}-{n}.json"
        path = drop(a.spool, name, {"type": "involvement", "involvements": chunk})
        print(f"{path}: {len(chunk)} pupils")
    return 0


if __name__ == "__main__":
    sys.exit(main())
