# SPDX-License-Identifier: GPL-2.0
"""Assert what lw-trace reported in the end-to-end guest.

harness/guest/lw-trace-e2e.sh (the guest's /e2e/tests/lw_trace) prints, for each
run of lw-trace, the misuse programs' "expect {...}" lines framed by
"### SCENARIO"/"### SCENARIO-END" and then lw-trace's output ("### OUT").
check() turns that into (ok, name, why) results:

 - every expected event is reported exactly once, with every field the
   program named (kind, pid, tid, owner_tid, count, ...);
 - nothing else is reported for a scenario's processes (a clean workload
   gets no report at all);
 - lists are complete: an xmdetach_live or exit_leak names as many
   attachments as it counts (of the right thread), a destroy_live as many
   elements;
 - with --stacks, every report carries a kernel stack and the user stack
   of the program, and a cross-thread detach the stacks of its attach;
 - per-process counts, latency histograms, -p, --raw-tp, the exit status
   of --fail-on-misuse and the error when not root; no event lost.
"""
import json
import re

SC_BEGIN = re.compile(r"^### SCENARIO (\S+) (\S+) (\S+)$")
SC_END = re.compile(r"^### SCENARIO-END (\S+) (\S+) (\S+) pid=(\d+) rc=(\d+)")
TRACE = re.compile(r"^### TRACE (\S+) rc=(\d+)")
OUT = re.compile(r"^### (OUT|ERR) (\S+) ?(.*)$")


class Run:
    def __init__(self, name):
        self.name = name
        self.rc = None
        self.out = []
        self.err = []
        self.scenarios = []     # dicts: prog, name, pid, rc, expects

    def json(self):
        objs = []
        for line in self.out:
            try:
                objs.append(json.loads(line))
            except ValueError:
                objs.append({"type": "bad-json", "line": line})
        return objs


def parse(lines):
    runs, cur, extra = {}, None, {}
    for line in lines:
        m = SC_BEGIN.match(line)
        if m:
            run = runs.setdefault(m.group(1), Run(m.group(1)))
            cur = {"prog": m.group(2), "name": m.group(3), "expects": [],
                   "output": [], "pid": None, "rc": None}
            run.scenarios.append(cur)
            continue
        m = SC_END.match(line)
        if m and cur is not None:
            cur["pid"], cur["rc"] = int(m.group(4)), int(m.group(5))
            cur = None
            continue
        m = TRACE.match(line)
        if m:
            runs.setdefault(m.group(1), Run(m.group(1))).rc = int(m.group(2))
            continue
        m = OUT.match(line)
        if m:
            run = runs.setdefault(m.group(2), Run(m.group(2)))
            (run.out if m.group(1) == "OUT" else run.err).append(m.group(3))
            continue
        m = re.match(r"^### (TARGET|NONROOT|SIGNALLED|KLOOP)(-OUT|-PINS)? ?(\S*) ?(.*)$", line)
        if m:
            extra.setdefault(m.group(1), []).append(line)
            continue
        if cur is not None:
            if line.startswith("expect "):
                try:
                    cur["expects"].append(json.loads(line[7:]))
                except ValueError:
                    cur["output"].append(line)
            else:
                cur["output"].append(line)
    return runs, extra


def matches(ev, exp):
    return all(ev.get(k) == v for k, v in exp.items())


def check_lists(ev, tracked=True, lw_tracked=True):
    """The lists of an event are complete; None or why not.  Without
    --ldata-track (@tracked false) an ldata_destroy_live lists nothing;
    without --lw-track (@lw_tracked false) an xmdetach_live lists the
    threads that hold the descriptor, with their counts, and a detach with
    the wrong descriptor or length names the attachment from the kernel."""
    kind = ev.get("kind")
    if kind == "xmdetach_live" and not lw_tracked:
        held = ev.get("holders", [])
        if "attachments" in ev or not held:
            return f"no holders listed without --lw-track: {sorted(ev)}"
        if sum(h.get("attachments", 0) for h in held) != ev.get("attachments_live"):
            return f"holders count {held}, {ev.get('attachments_live')} live"
    elif kind == "xmdetach_live":
        atts = ev.get("attachments", [])
        if len(atts) != ev.get("attachments_live"):
            return f"{len(atts)} attachments listed, {ev.get('attachments_live')} live"
    if kind in ("detach_wrong_dp", "detach_wrong_length"):
        if not ev.get("attached_length") or "attached_dp" not in ev:
            return "the attachment at the address is not named"
        if kind == "detach_wrong_length" and ev.get("attached_length") == ev.get("length"):
            return "the attachment's length is the call's"
        if kind == "detach_wrong_dp" and ev.get("attached_dp") == ev.get("dp"):
            return "the attachment's descriptor is the call's"
    if kind == "exit_leak":
        atts = ev.get("attachments", [])
        if len(atts) != ev.get("count"):
            return f"{len(atts)} attachments listed, count {ev.get('count')}"
        if any(a.get("tid") != ev.get("tid") for a in atts):
            return "an attachment of another thread listed"
    if kind == "ldata_destroy_live" and not tracked:
        if "elements" in ev:
            return "elements listed without --ldata-track"
    elif kind == "ldata_destroy_live":
        els = ev.get("elements", [])
        if len(els) != ev.get("count"):
            return f"{len(els)} elements listed, count {ev.get('count')}"
    return None


def check_stacks(ev, lw_tracked=True):
    """With --stacks: the kernel stack, the user stack (symbolized while
    the process lives) and, for a cross-thread detach with --lw-track, the
    attach's."""
    if not ev.get("kstack"):
        return "no kernel stack"
    # Both are reported while the task tears its memory down: no user
    # stack is left to walk.
    if not ev.get("ustack") and ev.get("kind") not in ("exit_leak", "xmem_owner_exit"):
        return "no user stack"
    if ev.get("kind") == "cross_thread" and lw_tracked and not ev.get("attach_kstack"):
        return "no stack of the attach"
    return None


def check_run(run, res, stacks=False, want_rc=0, allow_err=False, filtered=False,
              tracked=False, lw_tracked=False):
    objs = run.json()
    events = [o for o in objs if o.get("type") == "misuse"]
    used = [False] * len(events)
    n = run.name
    res(run.rc == want_rc, f"lw_trace.{n}: lw-trace exit status {run.rc} (want {want_rc})")
    bad = [o["line"] for o in objs if o.get("type") == "bad-json"]
    res(not bad, f"lw_trace.{n}: every output line is JSON", "; ".join(bad[:3]))
    start = [o for o in objs if o.get("type") == "start"]
    end = [o for o in objs if o.get("type") == "end"]
    res(len(start) == 1 and start[0].get("v") == 1 and len(end) == 1,
        f"lw_trace.{n}: one start and one end record, schema 1")
    if end:
        res(end[0].get("lost") == 0, f"lw_trace.{n}: no event lost",
            f"lost {end[0].get('lost')}")
        res(end[0].get("misuse") == len(events) and
            all(o.get("v") == 1 for o in objs if o.get("type") != "bad-json"),
            f"lw_trace.{n}: the end record counts every report",
            f"{end[0].get('misuse')} vs {len(events)}")
    if not allow_err:
        res(not run.err, f"lw_trace.{n}: nothing on stderr", "; ".join(run.err[:3]))
    for sc in run.scenarios:
        name = f"lw_trace.{n}.{sc['prog']}.{sc['name']}"
        why = []
        if sc["rc"] != 0:
            why.append(f"{sc['prog']} exit status {sc['rc']}: {' | '.join(sc['output'][-3:])}")
        pids = {sc["pid"]} | {e.get("pid") for e in sc["expects"]}
        for exp in ([] if filtered else sc["expects"]):
            hit = [i for i, ev in enumerate(events) if not used[i] and matches(ev, exp)]
            if not hit:
                near = [ev for ev in events if ev.get("pid") in pids and ev.get("kind") == exp.get("kind")]
                why.append(f"not reported: {json.dumps(exp)}" +
                           (f" (closest: {json.dumps(near[0])[:300]})" if near else ""))
                continue
            i = hit[0]
            used[i] = True
            lw = check_lists(events[i], tracked, lw_tracked)
            if lw:
                why.append(f"{exp['kind']}: {lw}")
            if stacks:
                sw = check_stacks(events[i], lw_tracked)
                if sw:
                    why.append(f"{exp['kind']}: {sw}")
        for i, ev in enumerate(events):
            if not used[i] and ev.get("pid") in pids:
                used[i] = True
                why.append(f"unexpected report: {json.dumps(ev)[:300]}")
        res(not why, name, "; ".join(why))
    return events, used, end[0] if end else {}


def check(lines, res):
    runs, extra = parse(lines)
    for name in ("main", "lw", "ldata", "rawtp", "filter", "human", "latency", "failbad",
                 "failclean", "duration", "periodic", "kloop"):
        if name not in runs or runs[name].rc is None:
            res(False, f"lw_trace.{name}: the run never ended")
            runs.pop(name, None)

    if "main" in runs:
        events, used, _ = check_run(runs["main"], res, stacks=True, tracked=True,
                                    lw_tracked=True)
        stray = [ev for i, ev in enumerate(events) if not used[i]]
        res(not stray, "lw_trace.main: no report outside the scenarios",
            "; ".join(json.dumps(e)[:200] for e in stray[:3]))
        kinds = {ev.get("kind") for ev in events}
        res({"cross_thread", "xmdetach_live", "detach_unattached", "detach_wrong_dp",
             "detach_wrong_length", "exit_leak", "window_full", "pool_init_exists",
             "pool_init_invalid", "fault", "rdonly_write", "ldata_double_free",
             "ldata_foreign_free", "ldata_wrong_pool", "ldata_destroy_live",
             "ldata_alloc_fail", "xmem_touch_gone", "xmem_touch_revoked",
             "xmem_unmap_unattached", "xmem_owner_exit"} <= kinds,
            "lw_trace.main: every kind of misuse was caught", f"seen {sorted(kinds)}")
        start = [o for o in runs["main"].json() if o.get("type") == "start"]
        res(bool(start) and start[0].get("ldata_track") is True
            and start[0].get("lw_track") is True,
            "lw_trace.main: --lw-track and --ldata-track are on in the start record")
        faults = [ev for ev in events if ev.get("kind") == "fault"]
        res(bool(faults) and all("detached" in ev for ev in faults),
            "lw_trace.main: a fault names the range detached before it")

    if "lw" in runs:
        run = runs["lw"]
        events, _, end = check_run(run, res, stacks=True)
        kinds = {ev.get("kind") for ev in events}
        want = {"cross_thread", "xmdetach_live", "detach_unattached", "detach_wrong_dp",
                "detach_wrong_length", "exit_leak", "window_full", "pool_init_exists",
                "pool_init_invalid", "fault", "rdonly_write", "xmem_touch_gone",
                "xmem_touch_revoked", "xmem_unmap_unattached", "xmem_owner_exit"}
        res(want <= kinds, "lw_trace.lw: without --lw-track every kind of lw misuse "
            "is still caught", f"seen {sorted(kinds)}")
        leaks = [ev for ev in events if ev.get("kind") == "exit_leak"]
        res(bool(leaks) and all(a.get("age_ns") is not None and a.get("length")
                                for ev in leaks for a in ev.get("attachments", [])),
            "lw_trace.lw: the kernel names each attachment left at exit, with its age",
            json.dumps(leaks[:1])[:300])
        start = [o for o in run.json() if o.get("type") == "start"]
        procs = [p for p in end.get("processes", []) if p.get("comm") == "lw-misuse"]
        res(bool(start) and start[0].get("lw_track") is False
            and "live_attachments" not in end
            and procs and all("attach" not in p and "detach" not in p for p in procs),
            "lw_trace.lw: no per-call lw counts without --lw-track or -L",
            f"start {start[:1]}, end keys {sorted(end)}, processes {json.dumps(procs)[:300]}")

    if "ldata" in runs:
        run = runs["ldata"]
        events, _, end = check_run(run, res, stacks=True)
        kinds = {ev.get("kind") for ev in events}
        want = {"ldata_double_free", "ldata_foreign_free", "ldata_misaligned_free",
                "ldata_wrong_pool", "ldata_destroy_live", "ldata_alloc_fail"}
        res(want <= kinds, "lw_trace.ldata: without --ldata-track every kind of ldata misuse "
            "is still caught", f"seen {sorted(kinds)}")
        start = [o for o in run.json() if o.get("type") == "start"]
        procs = [p for p in end.get("processes", []) if p.get("comm") == "ldata-misuse"]
        res(bool(start) and start[0].get("ldata_track") is False and "live_elements" not in end
            and procs and all("ldata_alloc" not in p and "ldata_free" not in p for p in procs)
            and sum(p.get("ldata_fail", 0) for p in procs) >= 1,
            "lw_trace.ldata: no per-call ldata counts without --ldata-track, failures still counted",
            f"start {start[:1]}, end keys {sorted(end)}, processes {json.dumps(procs)[:300]}")

    if "rawtp" in runs:
        run = runs["rawtp"]
        check_run(run, res)
        start = [o for o in run.json() if o.get("type") == "start"]
        res(bool(start) and start[0].get("mode") == "raw_tp",
            "lw_trace.rawtp: the raw_tp programs were loaded")

    if "filter" in runs:
        run = runs["filter"]
        events, _, _ = check_run(run, res, filtered=True)
        tgt = [line for line in extra.get("TARGET", []) if "pid=" in line]
        m = re.search(r"pid=(\d+) rc=(\d+)", tgt[0]) if tgt else None
        exp = []
        for line in extra.get("TARGET", []):
            mm = re.match(r"^### TARGET-OUT filter expect (.*)$", line)
            if mm:
                exp.append(json.loads(mm.group(1)))
        ok = bool(m) and m.group(2) == "0" and len(exp) == 2
        pid = int(m.group(1)) if m else -1
        # The scenario run beside it is filtered out (check_run made sure
        # nothing of it was reported); the target's two misuses are all.
        got = [ev for ev in events if ev.get("pid") == pid]
        others = [ev for ev in events if ev.get("pid") != pid]
        res(ok and len(got) == len(exp) and all(any(matches(g, e) for g in got) for e in exp)
            and not others, "lw_trace.filter: -p reports the target's two misuses and nothing else",
            f"target {pid}, got {len(got)} of {len(exp)}, others {len(others)}")

    if "human" in runs:
        run = runs["human"]
        res(run.rc == 0, f"lw_trace.human: exit status {run.rc}")
        text = "\n".join(run.out)
        leak = [sc for sc in run.scenarios if sc["name"] == "exit_leak"]
        tids = [e["tid"] for sc in leak for e in sc["expects"]]
        res(bool(tids) and re.search(rf" \d+/{tids[0]} exit_leak window=0x[0-9a-f]+ count=2 ", text + " ")
            is not None, "lw_trace.human: one line per misuse (time, comm, pid/tid, kind, values)",
            text[:300])
        res("lw-trace summary: 1 misuse, exit_leak 1; lost events 0" in text,
            "lw_trace.human: summary at exit", text[-400:])
        clean = [sc for sc in run.scenarios if sc["name"] == "clean"]
        pid = clean[0]["pid"] if clean else -1
        row = re.search(rf"^{pid} +lw-misuse +(\d+) +(\d+) +(\d+) +(\d+) .* (\d+)$", text, re.M)
        res(bool(row) and row.groups() == ("192", "0", "192", "0", "0"),
            "lw_trace.human: per-process counts of the clean workload (192 attach, 192 detach)",
            row.group(0) if row else "no row")
        res("attach latency" in text and "detach latency" in text and "|*" in text,
            "lw_trace.human: latency histograms")

    if "latency" in runs:
        run = runs["latency"]
        _, _, end = check_run(run, res)
        a = sum(b["count"] for b in end.get("attach_ns", []))
        d = sum(b["count"] for b in end.get("detach_ns", []))
        res(a == 192 and d == 192, "lw_trace.latency: every attach and detach in the histograms",
            f"attach {a}, detach {d}")
        procs = [p for p in end.get("processes", []) if p.get("comm") == "lw-misuse"]
        res(len(procs) == 1 and procs[0]["attach"] == 192 and procs[0]["detach"] == 192
            and procs[0]["misuse"] == 0, "lw_trace.latency: per-process counts in JSON",
            json.dumps(procs)[:300])

    if "failbad" in runs:
        check_run(runs["failbad"], res, want_rc=1)
    if "failclean" in runs:
        check_run(runs["failclean"], res, want_rc=0)

    for name, want in (("duration", 0), ("periodic", 2)):
        if name not in runs:
            continue
        run = runs[name]
        check_run(run, res)
        objs = run.json()
        ends = [o for o in objs if o.get("type") == "end"]
        sums = [o for o in objs if o.get("type") == "summary"]
        # It ended by itself: the end record comes before the SIGINT.
        signalled = any(line.split()[-1] == name for line in extra.get("SIGNALLED", []))
        res(len(sums) == want and len(ends) == 1 and run.rc == 0 and not signalled,
            f"lw_trace.{name}: {want} interval summaries, then it ends by itself",
            f"{len(sums)} summaries, {len(ends)} end records, status {run.rc}, "
            f"{'stopped by SIGINT' if signalled else 'ended by itself'}")

    if "kloop" in runs:
        run = runs["kloop"]
        _, _, end = check_run(run, res)
        kl = " ".join(line for line in extra.get("KLOOP", []) if "-PINS" not in line)
        pins = " ".join(line for line in extra.get("KLOOP", []) if "-PINS" in line)
        m = re.search(r"before=(-?\d+) after=(-?\d+)", pins)
        res("rc=0" in kl and "lw_loop: 1000 pairs in" in kl and bool(m)
            and m.group(1) == m.group(2),
            "lw_trace.kloop: the in-kernel loop runs after its driver refused every bad "
            "argument, and leaves nothing pinned", f"{kl[:300]} {pins}")
        procs = [p for p in end.get("processes", []) if p.get("comm") == "lw-misuse"]
        a = sum(b["count"] for b in end.get("attach_ns", []))
        res(len(procs) == 1 and procs[0].get("attach") == 1000 and procs[0].get("detach") == 1000
            and procs[0].get("misuse") == 0 and a == 1000,
            "lw_trace.kloop: lw-trace sees every pair the kernel runs itself",
            f"{json.dumps(procs)[:300]}, attach_ns {a}")

    nr = extra.get("NONROOT", [])
    m = re.search(r"rc=(\d+)", nr[0]) if nr else None
    msg = " ".join(nr[1:])
    res(bool(m) and m.group(1) == "2" and "must run as root" in msg,
        "lw_trace.nonroot: a clear error and status 2 when not root",
        f"{nr[:3]}")
