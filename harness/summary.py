#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Summarise a `make test` run: KUnit (from kunit.py's JSON, one file per
boot: RESULTS/kunit*.json) and the other stages (RESULTS/*.result, one
"ok NAME" / "not ok NAME" per line).

Prints one line per stage and a final "N passed, N failed" over everything.
Exit status 1 if anything failed or a stage that must run did not.
Usage: summary.py RESULTS [--no-check]   (--no-check: the static checks
were not meant to run, as in `make run`)
"""
import glob
import json
import os
import sys

# Suites that must have run (in some boot); a missing suite is a failure.
REQUIRED_SUITES = ("xmem", "ldata", "lw_attach", "ldata_topology")
# Stages that must have left a result file (check.result unless --no-check).
REQUIRED_RESULTS = ("kunit-run", "kunit-console", "kunit-topology-run",
                    "kunit-topology-console", "e2e")


def kunit_counts(path, failures, suites):
    counts = {"PASS": 0, "FAIL": 0, "SKIP": 0}

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


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    need_check = "--no-check" not in sys.argv
    results = args[0]
    failures = []
    suites = set()
    k = {"PASS": 0, "FAIL": 0, "SKIP": 0}
    runs = sorted(glob.glob(os.path.join(results, "kunit*.json")))
    for path in runs:
        c = kunit_counts(path, failures, suites)
        name = os.path.basename(path)[:-len(".json")]
        print(f"{name}: {c['PASS']} passed, {c['FAIL']} failed, {c['SKIP']} skipped")
        for key in k:
            k[key] += c[key]
    if not runs:
        failures.append("kunit: no results")
        k["FAIL"] += 1
    for suite in REQUIRED_SUITES:
        if suite not in suites:
            failures.append(f"kunit: suite {suite} did not run")
            k["FAIL"] += 1
    passed, failed = k["PASS"], k["FAIL"]
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
