#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turn what the end-to-end guest printed into "ok"/"not ok" result lines.

Usage: e2e-parse.py MODE GUEST-LOG QEMU-EXIT-STATUS

The guest's /init (harness/guest/init) frames each program it runs:

  ### BEGIN xmem_test
  TAP version 13 ... (kselftest_harness output)
  ### END xmem_test rc=0
  ### PINS before=N after=N
  ### DONE

Every TAP case becomes one line ("ok e2e xmem_test.global.create_and_info");
a skipped case is a failure (the suites need the whole patchset), and so
are a plan that does not match the cases seen, a nonzero exit status, a
program that never ended, pins left behind and a guest that never reached
DONE (a panic or a timeout).  The diagnostics of failed cases go to stderr.
Exit status 1 if any line is "not ok".

lw_trace (harness/guest/lw-trace-e2e.sh) prints no TAP: harness/lw_trace_check.py
asserts what lw-trace reported, one line per scenario and check.
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lw_trace_check  # noqa: E402

# Modes whose programs print TAP: the suites, the fuzzer, the torture run,
# UCX's run.
TAP_MODES = ("test", "fuzz", "torture", "ucx")
TAP = re.compile(r"^(not )?ok (\d+) (.*?)(?:\s+#\s*(SKIP|TODO)\b(.*))?$")
PLAN = re.compile(r"^1\.\.(\d+)")


def main():
    mode, path, qrc = sys.argv[1], sys.argv[2], sys.argv[3]
    try:
        lines = open(path, errors="replace").read().splitlines()
    except OSError as e:
        print(f"not ok e2e {mode}: no guest output ({e.strerror})")
        return 1
    out = []

    def res(ok, name, why=""):
        out.append(f"{'ok' if ok else 'not ok'} e2e {name}{': ' + why if why else ''}")

    suite, plan, cases, diag, ended = None, None, 0, [], set()
    lwlines = []
    for line in lines:
        m = re.match(r"^### BEGIN (\S+)", line)
        if m:
            suite, plan, cases, diag = m.group(1), None, 0, []
            continue
        m = re.match(r"^### END (\S+) rc=(\d+)", line)
        if m:
            name, rc = m.group(1), int(m.group(2))
            ended.add(name)
            if mode in TAP_MODES and name == "lw_trace":
                res(rc == 0, f"{name}: exit status {rc}")
                lw_trace_check.check(lwlines, lambda ok, n, why="": res(ok, n, "" if ok else why))
            elif mode in TAP_MODES:
                planned = plan if plan is not None else "no"
                ok = rc == 0 and plan is not None and plan == cases and cases > 0
                res(ok, f"{name}: exit status {rc}, {cases} cases of {planned} planned")
            else:
                res(rc == 0, f"{mode}: exit status {rc}")
            suite = None
            continue
        m = re.match(r"^### PINS before=(-?\d+) after=(-?\d+)", line)
        if m:
            b, a = int(m.group(1)), int(m.group(2))
            res(a == b, f"{mode}: FOLL_PIN pages back at baseline (before {b}, after {a})")
            continue
        if suite is None or mode not in TAP_MODES:
            continue
        if suite == "lw_trace":
            lwlines.append(line)
            continue
        m = PLAN.match(line)
        if m:
            plan = int(m.group(1))
            continue
        m = TAP.match(line)
        if m:
            cases += 1
            failed = bool(m.group(1)) or m.group(4) == "SKIP"
            why = "skipped:" + m.group(5) if m.group(4) == "SKIP" else ""
            res(not failed, f"{suite}.{m.group(3)}", why.strip())
            if failed:
                sys.stderr.write(f"e2e: {suite}.{m.group(3)} failed:\n")
                sys.stderr.writelines(f"    {d}\n" for d in diag[-30:])
            diag = []
        else:
            diag.append(line)
    if suite is not None and suite not in ended:
        res(False, f"{suite}: never ended (the guest crashed or timed out)")
    done = any(line.startswith("### DONE") for line in lines)
    res(done, f"{mode}: guest powered off cleanly" if done else
        f"{mode}: guest never finished (qemu exit {qrc}: a panic or the timeout)")
    print("\n".join(out))
    return 1 if any(o.startswith("not ok") for o in out) else 0


if __name__ == "__main__":
    sys.exit(main())
