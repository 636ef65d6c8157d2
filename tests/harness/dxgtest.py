#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Boot the dxg test kernel in QEMU (TCG) and run guest tests.

Guest tests are shell scripts tests/guest/NAME.sh. Header lines configure
them:
    # dxg-test: timeout=SECONDS          (default 120)
    # dxg-test: boot=NAME                (a boot of its own, shared by NAME)
    # dxg-qemu: -device pci-testdev ...  (extra QEMU arguments)
Tests with the same QEMU arguments (and boot name) share one boot; up to
--jobs boots run at the same time, the longest (by timeouts) first. The guest writes one file
set per test into a results share (see guest-runner.sh); a test fails when
its exit status is not 0 or 77 (skip), when it did not finish, or when the
kernel printed a splat while it ran (BUG, WARNING, Oops, KASAN, lockdep,
kmemleak report, RCU stall, hung task, ...).

Writes one line per test to --summary-file ("PASS name", "FAIL name: why",
"SKIP name") and prints them as they come.
"""
import argparse
import fnmatch
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

SPLAT_PATTERNS = [
    r"\bBUG: ",
    r"kernel BUG at",
    r"WARNING: ",
    r"\bOops\b",
    r"general protection fault",
    r"KASAN: ",
    r"UBSAN: ",
    r"possible circular locking dependency",
    r"possible recursive locking",
    r"inconsistent lock state",
    r"suspicious RCU usage",
    r"DEBUG_LOCKS_WARN_ON",
    r"INFO: task .* blocked for more than",
    r"rcu: INFO: .*detected stalls?",
    r"self-detected stall",
    r"soft lockup",
    r"hard LOCKUP",
    r"Kernel panic",
    r"refcount_t: ",
    r"list_(add|del) corruption",
    r"Call Trace:",
    r"unreferenced object 0x",
]
SPLAT_RE = re.compile("|".join(SPLAT_PATTERNS))
DEFAULT_TIMEOUT = 120
BOOT_ALLOWANCE = 180  # boot to init on the debug kernel takes ~25 s; slack for a busy host


def parse_test(path):
    meta = {"timeout": DEFAULT_TIMEOUT, "qemu": [], "boot": ""}
    with open(path) as f:
        for line in f:
            if line.startswith("# dxg-test:"):
                for kv in line.split(":", 1)[1].split():
                    k, _, v = kv.partition("=")
                    if k == "timeout":
                        meta["timeout"] = int(v)
                    elif k == "boot":
                        meta["boot"] = v
                    else:
                        raise SystemExit(f"{path}: unknown dxg-test key '{k}'")
            elif line.startswith("# dxg-qemu:"):
                meta["qemu"] += line.split(":", 1)[1].split()
    return meta


def discover(tests_dir, patterns):
    tests = []
    for fn in sorted(os.listdir(tests_dir)):
        # lib.sh and *-lib.sh are sourced by the tests, show.sh by make run.
        if not fn.endswith(".sh") or fn in ("lib.sh", "show.sh") or fn.endswith("-lib.sh"):
            continue
        name = fn[:-3]
        if patterns and not any(fnmatch.fnmatch(name, p) or p in name for p in patterns):
            continue
        tests.append((name, parse_test(os.path.join(tests_dir, fn))))
    return tests


def splats(text):
    """The splat lines in a kernel log, with a little context."""
    lines = text.splitlines()
    hits = []
    for i, l in enumerate(lines):
        if SPLAT_RE.search(l):
            hits.append(l.strip())
            # the line after a report header usually names the culprit
            if i + 1 < len(lines):
                hits.append(lines[i + 1].strip())
    return hits


def read(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return None


def qemu_cmd(a, results, extra, mode):
    append = ("console=ttyS0 root=/dev/root rootfstype=9p "
              "rootflags=trans=virtio,version=9p2000.L,cache=loose,msize=262144 ro init=/dxg/init "
              f"panic=-1 loglevel=5 dxg.mode={mode}")
    return (["qemu-system-x86_64", "-accel", "tcg", "-cpu", "max,la57=off", "-m", "2G",
             "-smp", "2", "-nographic", "-no-reboot", "-vga", "none", "-nic", "none",
             "-kernel", a.kernel,
             "-fsdev", f"local,id=root,path={a.rootfs},security_model=none,readonly=on,multidevs=remap",
             "-device", "virtio-9p-pci,fsdev=root,mount_tag=/dev/root",
             "-fsdev", f"local,id=payload,path={a.payload},security_model=none,readonly=on,multidevs=remap",
             "-device", "virtio-9p-pci,fsdev=payload,mount_tag=dxgpayload",
             "-fsdev", f"local,id=results,path={results},security_model=none,multidevs=remap",
             "-device", "virtio-9p-pci,fsdev=results,mount_tag=dxgresults"]
            + extra + ["-append", append])


class Reporter:
    def __init__(self, summary_file):
        self.f = open(summary_file, "a") if summary_file else None
        self.counts = {"PASS": 0, "FAIL": 0, "SKIP": 0}
        self.lock = threading.Lock()  # boots report from their own threads

    def __call__(self, verdict, name, why="", detail=()):
        with self.lock:
            self.report(verdict, name, why, detail)

    def report(self, verdict, name, why, detail):
        self.counts[verdict] += 1
        line = f"{verdict} {name}" + (f": {why}" if why else "")
        print(line, flush=True)
        for d in detail:
            print(f"    | {d}", flush=True)
        if self.f:
            self.f.write(line + "\n")
            self.f.flush()


def run_group(a, idx, extra, tests, report):
    results = os.path.join(a.out, f"boot{idx}")
    shutil.rmtree(results, ignore_errors=True)
    os.makedirs(results)
    with open(os.path.join(results, "plan"), "w") as f:
        for name, meta in tests:
            f.write(f"{name} {meta['timeout']}\n")
    budget = BOOT_ALLOWANCE + sum(m["timeout"] + 15 for _, m in tests)
    cmd = qemu_cmd(a, results, extra, "test")
    print(f"== boot {idx}: {len(tests)} test(s), QEMU extra: {' '.join(extra) or '(none)'}", flush=True)
    console = open(os.path.join(results, "console.log"), "w")
    console.write("# " + " ".join(cmd) + "\n")
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT)
    current, started, scanned, ended, timed_out = None, {}, {}, {}, False
    per_test_console = {}
    os.set_blocking(p.stdout.fileno(), True)
    import selectors
    sel = selectors.DefaultSelector()
    sel.register(p.stdout, selectors.EVENT_READ)
    buf = b""
    while True:
        left = budget - (time.monotonic() - t0)
        if left <= 0:
            timed_out = True
            p.kill()
            break
        if not sel.select(timeout=min(left, 5)):
            continue
        chunk = os.read(p.stdout.fileno(), 65536)
        if not chunk:
            break
        buf += chunk
        *lines, buf = buf.split(b"\n")
        for raw in lines:
            line = raw.decode(errors="replace").rstrip("\r")
            console.write(f"[{time.monotonic() - t0:7.2f}] {line}\n")
            if a.verbose:
                print(f"  | {line}", flush=True)
            m = re.search(r"DXGTEST-BEGIN (\S+)", line)
            if m:
                current = m.group(1)
                started[current] = time.monotonic()
                per_test_console[current] = []
                continue
            m = re.search(r"DXGTEST-SCAN (\S+)", line)
            if m:
                scanned[m.group(1)] = time.monotonic()
                continue
            m = re.search(r"DXGTEST-END (\S+)", line)
            if m:
                ended[m.group(1)] = time.monotonic()
                current = None
                continue
            if current:
                per_test_console[current].append(line)
    p.wait()
    console.close()
    elapsed = time.monotonic() - t0
    # Where the boot's time went: the test itself, then the leak scan.
    with open(os.path.join(results, "timings"), "w") as f:
        for name, _ in tests:
            if name in started and name in scanned and name in ended:
                f.write(f"{name} {scanned[name] - started[name]:.1f} "
                        f"{ended[name] - scanned[name]:.1f}\n")
    boot = read(os.path.join(results, "boot.dmesg"))
    if boot is None:
        report("FAIL", f"boot{idx}", "guest did not reach the test runner (see "
               f"{results}/console.log)", tail(results))
        for name, _ in tests:
            report("FAIL", name, "not run: the guest did not boot")
        return
    if splats(boot):
        report("FAIL", f"boot{idx}", "kernel splat during boot", splats(boot)[:12])
    for name, meta in tests:
        rc = read(os.path.join(results, f"{name}.rc"))
        out = read(os.path.join(results, f"{name}.out")) or ""
        dmesg = read(os.path.join(results, f"{name}.dmesg")) or ""
        leaks = (read(os.path.join(results, f"{name}.kmemleak")) or "").strip()
        if rc is None:
            why = ("did not finish: whole-boot timeout" if timed_out
                   else "did not finish: the guest died")
            if name not in started:
                why = "not run: the guest stopped before it"
            hits = splats("\n".join(per_test_console.get(name, [])))
            report("FAIL", name, why, hits[:12] or out.splitlines()[-8:])
            continue
        rc = int(rc.strip() or -1)
        hits = splats(dmesg)
        if leaks:
            hits += ["kmemleak: " + l for l in leaks.splitlines()[:10]]
        if hits:
            report("FAIL", name, f"kernel splat (exit status {rc})", hits[:16])
        elif rc == 0:
            report("PASS", name)
        elif rc == 77:
            report("SKIP", name, out.strip().splitlines()[-1] if out.strip() else "")
        elif rc == 137:
            report("FAIL", name, f"killed at its {meta['timeout']} s timeout",
                   out.splitlines()[-8:])
        else:
            report("FAIL", name, f"exit status {rc}", out.splitlines()[-12:])
    final = (read(os.path.join(results, "final.kmemleak")) or "").strip()
    final_dmesg = read(os.path.join(results, "final.dmesg")) or ""
    hits = splats(final_dmesg) + (["kmemleak: " + l for l in final.splitlines()[:10]] if final else [])
    if hits:
        report("FAIL", f"boot{idx}-teardown", "kernel splat or leak after the last test", hits[:16])
    print(f"== boot {idx} done in {elapsed:.1f} s", flush=True)


def tail(results, n=15):
    c = read(os.path.join(results, "console.log")) or ""
    return c.splitlines()[-n:]


def interactive(a):
    results = os.path.join(a.out, "run")
    shutil.rmtree(results, ignore_errors=True)
    os.makedirs(results)
    if sys.stdin.isatty():
        open(os.path.join(results, "interactive"), "w").close()
    cmd = qemu_cmd(a, results, a.qemu_extra.split(), "run")
    stdin = None if sys.stdin.isatty() else subprocess.DEVNULL
    return subprocess.call(cmd, stdin=stdin)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kernel", required=True)
    ap.add_argument("--rootfs", required=True)
    ap.add_argument("--payload", required=True)
    ap.add_argument("--tests", default=os.path.join(os.path.dirname(__file__), "..", "guest"))
    ap.add_argument("--out", required=True)
    ap.add_argument("--filter", default="", help="run tests whose name matches (glob or substring; comma list)")
    ap.add_argument("--summary-file")
    ap.add_argument("--run", action="store_true", help="boot once with the demo script (make run)")
    ap.add_argument("--qemu-extra", default="")
    ap.add_argument("--jobs", type=int, default=int(os.environ.get("DXG_GUEST_JOBS", "2")),
                    help="boots at the same time (default 2, or $DXG_GUEST_JOBS)")
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args()
    for k in ("kernel", "rootfs", "payload", "out"):
        setattr(a, k, os.path.abspath(getattr(a, k)))
    os.makedirs(a.out, exist_ok=True)
    if a.run:
        return interactive(a)
    patterns = [p for p in a.filter.split(",") if p]
    tests = discover(a.tests, patterns)
    report = Reporter(a.summary_file)
    if not tests:
        print(f"no guest test matches '{a.filter}'")
        return 0
    groups = {}
    for name, meta in tests:
        groups.setdefault((tuple(meta["qemu"]), meta["boot"]), []).append((name, meta))
    # A guest spends much of its time waiting (for the host model, for
    # timeouts, for one busy vCPU): boots side by side fill the cores.
    order = sorted(enumerate(groups.items()), key=lambda g: -sum(m["timeout"] for _, m in g[1][1]))
    with ThreadPoolExecutor(max_workers=max(1, a.jobs)) as pool:
        for f in [pool.submit(run_group, a, idx, list(key[0]), ts, report)
                  for idx, (key, ts) in order]:
            f.result()
    c = report.counts
    return 1 if c["FAIL"] else 0


if __name__ == "__main__":
    sys.exit(main())
