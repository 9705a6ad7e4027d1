#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Drop the checkpatch reports that patches/checkpatch-exceptions accepts.

checkpatch has no way to accept one justified report (AIX's typedef names,
which ported code relies on); this filter does, narrowly: an exception
names the message type, the file and a regex for the offending added line,
and says why.  Reads `checkpatch.pl --show-types` output on stdin, prints
it without the accepted reports, then "accepted: N" and a recomputed
"total:" line.  Usage: checkpatch-filter.py EXCEPTIONS < checkpatch-output
"""
import re
import sys


def load(path):
    rules = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            parts = line.split("\t")
            if len(parts) < 4 or not parts[3].strip():
                sys.exit(f"{path}:{n}: want TYPE<tab>FILE<tab>LINE-REGEX<tab>REASON")
            rules.append((parts[0], parts[1], re.compile(parts[2])))
    return rules


def main():
    rules = load(sys.argv[1])
    blocks = sys.stdin.read().split("\n\n")
    counts = {"ERROR": 0, "WARNING": 0, "CHECK": 0}
    kept, accepted, total_line = [], 0, None
    for b in blocks:
        m = re.match(r"(ERROR|WARNING|CHECK):([A-Z_0-9]+):", b)
        if not m:
            if b.startswith("total:"):
                total_line = b.splitlines()[0]
            elif b.strip():
                kept.append(b)
            continue
        f = re.search(r"FILE: ([^:]+):\d+:", b)
        added = [l for l in b.splitlines() if l.startswith("+")]
        if f and any(t == m.group(2) and p == f.group(1) and any(r.search(a) for a in added)
                     for t, p, r in rules):
            accepted += 1
            continue
        counts[m.group(1)] += 1
        kept.append(b)
    for b in kept:
        print(b + "\n")
    if total_line is None:
        print("total: ? errors (checkpatch did not finish)")
        return 1
    lines = re.search(r"(\d+) lines checked", total_line)
    print(f"accepted: {accepted} (patches/checkpatch-exceptions)")
    print(f"total: {counts['ERROR']} errors, {counts['WARNING']} warnings, "
          f"{counts['CHECK']} checks, {lines.group(1) if lines else '?'} lines checked")
    return 0


if __name__ == "__main__":
    sys.exit(main())
