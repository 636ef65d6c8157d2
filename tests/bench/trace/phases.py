#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Cut traced host round trips and submissions into phases (make bench-trace).

    phases.py round-trip TRACE   QUERY_ADAPTER_INFO round trips of dxg-bench
    phases.py submit TRACE       SUBMIT followed by a TIMELINE_WAIT that sleeps

TRACE is a tracefs `trace` file with the events trace-lib.sh enables. Prints
the median of each phase (Documentation/benchmarks.rst, "Where the time goes").
"""

import re
import statistics
import sys

EVENT = re.compile(r"^\s*(\S+)-(\d+)\s+\[(\d+)\]\s+\S+\s+([\d.]+):\s+(\w+):\s*(.*)$")
# _IOC numbers of the ioctls (uapi/dxg_drm.h, include/uapi/drm/drm.h).
QAI = "c0186441"  # DRM_IOCTL_DXG_QUERY_ADAPTER_INFO
SUBMIT = "40486449"  # DRM_IOCTL_DXG_SUBMIT
TIMELINE_WAIT = "c03064ca"  # DRM_IOCTL_SYNCOBJ_TIMELINE_WAIT


def events(path):
    """(time in µs, comm, pid, event, rest) of every event line."""
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = EVENT.match(line)
            if m:
                yield (float(m.group(4)) * 1e6, m.group(1), int(m.group(2)), m.group(5), m.group(6))


def ioctl_enter(name, rest, cmd):
    return name == "sys_enter" and rest.startswith(f"NR 16 (3, {cmd}")


def round_trips(evs):
    """One dict of timestamps per complete round trip."""
    out, cur = [], None
    for t, comm, pid, name, rest in evs:
        if comm == "dxg-bench" and ioctl_enter(name, rest, QAI):
            if cur and "exit" in cur and cur["pid"] == pid:
                cur["next"] = t
                out.append(cur)
            cur = {"pid": pid, "enter": t}
            continue
        if cur is None:
            continue
        me = cur["pid"]
        if name == "sched_waking" and pid == me and "comm=dxg-host " in rest and "wake" not in cur:
            cur["wake"] = t
        elif name == "sched_switch" and "next_comm=dxg-host " in rest and "wake" in cur and "host" not in cur:
            cur["host"] = t
        elif name == "sched_waking" and f"pid={me} " in rest and "host" in cur and "reply" not in cur:
            cur["reply"] = t
        elif name == "sched_switch" and f"next_pid={me} " in rest and "reply" in cur and "back" not in cur:
            cur["back"] = t
        elif name == "sys_exit" and pid == me and "back" in cur and "exit" not in cur:
            cur["exit"] = t
    return out


def submissions(evs):
    """One dict of timestamps per submission followed by a wait."""
    evs = list(evs)
    out, i = [], 0
    while i < len(evs):
        t, comm, pid, name, rest = evs[i]
        i += 1
        if comm != "dxg-bench" or not ioctl_enter(name, rest, SUBMIT):
            continue
        me, d, state = pid, {"enter": t}, "submit"
        while i < len(evs):
            t, comm, pid, name, rest = evs[i]
            if pid == me and name == "sys_exit" and state == "submit":
                d["submitted"], state = t, "between"
            elif pid == me and name == "sys_enter" and state == "between":
                if TIMELINE_WAIT not in rest:
                    break
                d["wait"], state = t, "wait"
            elif pid == me and name == "sys_enter" and state == "wait":
                break
            elif name == "sched_switch" and f"prev_pid={me} " in rest and state == "wait":
                d.setdefault("sleep", t)
            elif name == "workqueue_execute_start" and "host" not in d:
                # The context's worker, if the job went through it (it
                # does not when the submitting thread sends it itself).
                d.setdefault("worker", t)
            elif name == "sched_switch" and "next_comm=dxg-host" in rest:
                d.setdefault("host", t)
            elif name == "sched_switch" and "next_comm=ctx-" in rest and "host" in d:
                # The host model's executor thread, if the job waited for
                # it (it does not when the dispatcher runs it at once).
                d.setdefault("executor", t)
            elif name == "dma_fence_signaled" and "driver=dxg " in rest:
                d.setdefault("signalled", t)
            elif name == "sched_switch" and f"next_pid={me} " in rest and "signalled" in d:
                d.setdefault("woken", t)
            elif pid == me and name == "sys_exit" and state == "wait":
                d["exit"] = t
                break
            i += 1
        if all(k in d for k in ("host", "signalled", "exit")):
            d.setdefault("woken", d["exit"])
            out.append(d)
    return out


def report(rows, phases):
    print(f"{len(rows)} samples; medians:")
    for a, b, what in phases:
        v = [r[b] - r[a] for r in rows if a in r and b in r]
        if v:
            print(f"  {what:<58} {statistics.median(v):8.1f} us")


def main(argv):
    if len(argv) != 3 or argv[1] not in ("round-trip", "submit"):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    try:
        evs = events(argv[2])
        if argv[1] == "round-trip":
            rows = round_trips(evs)
            phases = [
                ("enter", "wake", "client: ioctl entry to waking dxg-host"),
                ("wake", "host", "dxg-host woken to running"),
                ("host", "reply", "dxg-host: read, model, write (waking the client)"),
                ("reply", "back", "client woken to running"),
                ("back", "exit", "client: back to user space"),
                ("exit", "next", "client: user space to the next ioctl"),
                ("enter", "next", "total"),
            ]
        else:
            rows = submissions(evs)
            n = len(rows)
            via_worker = sum(1 for r in rows if "worker" in r)
            via_executor = sum(1 for r in rows if "executor" in r)
            slept = sum(1 for r in rows if "sleep" in r)
            print(f"{n} submissions: in {via_worker} a work item (the context's "
                  f"worker) ran before dxg-host, in {via_executor} a context thread "
                  f"of the host model ran afterwards (woken by its condition "
                  f"variable), {slept} waits slept")
            phases = [
                ("enter", "submitted", "DRM_IOCTL_DXG_SUBMIT"),
                ("wait", "sleep", "DRM_IOCTL_SYNCOBJ_TIMELINE_WAIT until it sleeps"),
                ("enter", "worker", "submit entry to the context's worker running"),
                ("enter", "host", "submit entry to dxg-host running"),
                ("host", "signalled", "dxg-host running to the fence signalled"),
                ("signalled", "woken", "fence signalled to the waiter running"),
                ("woken", "exit", "waiter back to user space"),
                ("enter", "exit", "total"),
            ]
    except OSError as e:
        print(f"phases.py: {argv[2]}: {e.strerror}", file=sys.stderr)
        return 1
    if not rows:
        print(f"phases.py: {argv[2]}: no complete {argv[1]} in the trace", file=sys.stderr)
        return 1
    report(rows, phases)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
