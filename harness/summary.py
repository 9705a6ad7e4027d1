#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Summarise a `make test` run: KUnit (from kunit.py's JSON) and the other
stages (RESULTS/*.result, one "ok NAME" / "not ok NAME" per line).

Prints one line per stage and a final "N passed, N failed" over everything.
Exit status 1 if anything failed or a stage that must run did not.
Usage: summary.py RESULTS [--no-check]   (--no-check: the static checks
were not meant to run, as in `make run`)
"""
import glob
import json
import os
import sys

# Suites that must have run; a missing suite is a failure, not a pass.
REQUIRED_SUITES = ("xmem", "ldata", "lw_attach")
# Stages that must have left a result file (check.result unless --no-check).
REQUIRED_RESULTS = ("kunit-run", "kunit-console", "e2e")


def kunit_counts(path, failures):
    counts = {"PASS": 0, "FAIL": 0, "SKIP": 0}
    suites = set()

    def walk(group, top):
        for case in group.get("test_cases", []):
            status = case.get("status", "FAIL")
            key = status if status in counts else "FAIL"
            counts[key] += 1
            if key == "FAIL":
                failures.append(f"kunit {group['name']}.{case['name']} ({status})")
        for sub in group.get("sub_groups", []):
            if top:
                suites.add(sub["name"])
            walk(sub, False)

    try:
        with open(path) as f:
            walk(json.load(f), True)
    except (OSError, ValueError) as e:
        failures.append(f"kunit: no results ({e.__class__.__name__}: {e})")
        counts["FAIL"] += 1
        return counts
    for s in REQUIRED_SUITES:
        if s not in suites:
            failures.append(f"kunit: suite {s} did not run")
            counts["FAIL"] += 1
    return counts


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    need_check = "--no-check" not in sys.argv
    results = args[0]
    failures = []
    k = kunit_counts(os.path.join(results, "kunit.json"), failures)
    passed, failed = k["PASS"], k["FAIL"]
    print(f"kunit: {k['PASS']} passed, {k['FAIL']} failed, {k['SKIP']} skipped")
    for res in sorted(glob.glob(os.path.join(results, "*.result"))):
        stage = os.path.basename(res)[:-len(".result")]
        ok = bad = 0
        with open(res) as f:
            for line in f:
                if line.startswith("ok "):
                    ok += 1
                elif line.startswith("not ok "):
                    bad += 1
                    failures.append(f"{stage}: {line[7:].strip()}")
        print(f"{stage}: {ok} passed, {bad} failed")
        passed, failed = passed + ok, failed + bad
    required = REQUIRED_RESULTS + (("check",) if need_check else ())
    for stage in required:
        if not os.path.exists(os.path.join(results, stage + ".result")):
            failures.append(f"{stage}: did not run")
            failed += 1
    if k["PASS"] == 0:
        failures.append("kunit: no test passed")
        failed += 1
    for f in failures:
        print(f"FAILED: {f}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
