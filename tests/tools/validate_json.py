#!/usr/bin/env python3
"""validate_json.py SCHEMA [FILE] — validate one command's --json output
(FILE, or stdin) against its JSON Schema (draft 2020-12) and against the
conventions every output shares (docs/json.md): keys ending _at hold RFC 3339
UTC strings; keys ending _s, _ms or _bytes hold numbers; no bare "time" or
"timestamp" keys. Exit 0 valid, 1 invalid (reasons on stderr).

validate_json.py --manifest FILE — many at once (one interpreter start):
lines "SCHEMA<TAB>OUTPUT<TAB>DESCRIPTION"; prints "ok   - ..." or
"FAIL - ..." per line, and checks each schema itself; exit 1 on any failure."""
import json
import re
import sys

import jsonschema

TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def conventions(v, path, errs):
    if isinstance(v, dict):
        for k, x in v.items():
            p = "%s.%s" % (path, k)
            if k.endswith("_at") and not (isinstance(x, str) and TIME.match(x)):
                errs.append("%s: an instant must be an RFC 3339 UTC string, got %r" % (p, x))
            if re.search(r"_(s|ms|bytes)$", k) and (isinstance(x, bool) or not isinstance(x, (int, float))):
                errs.append("%s: a duration or size must be a number, got %r" % (p, x))
            if k in ("time", "timestamp"):
                errs.append("%s: name an instant NAME_at" % p)
            conventions(x, p, errs)
    elif isinstance(v, list):
        for i, x in enumerate(v):
            conventions(x, "%s[%d]" % (path, i), errs)


def problems(schema, text):
    try:
        doc = json.loads(text)
    except ValueError as e:
        return ["not JSON: %s" % e]
    v = jsonschema.Draft202012Validator(schema)
    errs = ["%s: %s" % ("/".join(str(p) for p in e.absolute_path) or "(top)", e.message)
            for e in v.iter_errors(doc)]
    conventions(doc, "$", errs)
    return errs


def manifest(path):
    failed = 0
    schemas = {}
    for line in open(path):
        sch, out, desc = line.rstrip("\n").split("\t", 2)
        if sch not in schemas:
            schemas[sch] = json.load(open(sch))
            try:
                jsonschema.Draft202012Validator.check_schema(schemas[sch])
                print("ok   - %s is a valid draft 2020-12 schema" % sch.rsplit("/", 1)[-1])
            except jsonschema.SchemaError as e:
                failed += 1
                print("FAIL - %s is not a valid schema: %s" % (sch, e.message))
        errs = problems(schemas[sch], open(out).read())
        if errs:
            failed += 1
            print("FAIL - %s: %s" % (desc, "; ".join(errs[:5])))
        else:
            print("ok   - %s" % desc)
    return 1 if failed else 0


def main():
    if sys.argv[1] == "--manifest":
        return manifest(sys.argv[2])
    schema = json.load(open(sys.argv[1]))
    text = open(sys.argv[2]).read() if len(sys.argv) > 2 else sys.stdin.read()
    errs = problems(schema, text)
    for e in errs[:20]:
        print(e, file=sys.stderr)
    return 1 if errs else 0


if __name__ == "__main__":
    sys.exit(main())
