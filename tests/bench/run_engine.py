#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""tests/bench/run_engine.py — runs the hold-model drivers side by side and reports.

Every available driver runs at N = 10^3 and N = 10^6, BENCH_REPS rounds (all drivers once
per round, so a noisy spell on the shared machine hits everyone alike), each run at least
--seconds of CPU time after warm-up.  The figure is the median over the rounds of
events / CPU second; ratios are to the bare C heap of the same N.  Before that, every
driver runs a fixed 200 000 events at N = 10^3 and its last event time is compared with
memsim's: the same time means the same event sequence, i.e. the same model.

The table goes to stdout and replaces the part of docs/performance.md between the
"bench:engine" markers (the section is created if missing).
"""
import argparse
import datetime
import os
import re
import resource
import signal
import statistics
import subprocess
import sys

BEGIN = "<!-- bench:engine:begin (written by tests/bench/run_engine.py) -->"
END = "<!-- bench:engine:end -->"
SIZES = (1000, 1000000)
CPU_LIMIT = 60          # seconds of CPU time per run, setup included (RLIMIT_CPU)
WALL_LIMIT = 600        # seconds of wall time per run: a backstop on a crowded machine


def pkg_version(pkg):
    try:
        out = subprocess.run(["dpkg-query", "-W", "-f=${Version}", pkg],
                             capture_output=True, text=True, timeout=10)
        return out.stdout.strip() if out.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None


class Driver:
    def __init__(self, key, label, cmd, binary, pkg=None, max_n=None, max_n_reason=None):
        self.key = key
        self.label = label
        self.cmd = cmd              # argv before N SECONDS [EVENTS]
        self.binary = binary        # file whose .na says why it is unavailable
        self.pkg = pkg
        self.max_n = max_n
        self.max_n_reason = max_n_reason
        self.na = None
        self.rates = {n: [] for n in SIZES}
        self.fail = {n: None for n in SIZES}
        self.rss = {n: [] for n in SIZES}
        self.warmup = {n: [] for n in SIZES}
        self.order = None


def drivers(out, bench_dir):
    b = lambda name: os.path.join(out, name)
    py = "/usr/bin/python3"
    ns3 = lambda sched: [b("hold_ns3"), "ns3::" + sched]
    return [
        Driver("memsim", "memsim eventq (radix heap, sim/eventq.c)", [b("hold_eventq")], b("hold_eventq")),
        Driver("heap", "bare C binary heap of (time, seq)", [b("hold_heap")], b("hold_heap")),
        Driver("ns3map", "ns-3 MapScheduler (ns-3's default)", ns3("MapScheduler"), b("hold_ns3"), "libns3-dev"),
        Driver("ns3pq", "ns-3 PriorityQueueScheduler", ns3("PriorityQueueScheduler"), b("hold_ns3"), "libns3-dev"),
        Driver("ns3heap", "ns-3 HeapScheduler", ns3("HeapScheduler"), b("hold_ns3"), "libns3-dev"),
        Driver("ns3cal", "ns-3 CalendarScheduler", ns3("CalendarScheduler"), b("hold_ns3"), "libns3-dev"),
        Driver("sgtimer", "SimGrid kernel timers (Timer::set)", [b("hold_simgrid"), "timers"],
               b("hold_simgrid"), "libsimgrid-dev"),
        Driver("sgactor", "SimGrid s4u actors (sleep_for)", [b("hold_simgrid"), "actors"],
               b("hold_simgrid"), "libsimgrid-dev", max_n=1000,
               max_n_reason="one actor context and stack per pending event"),
        Driver("systemc", "SystemC sc_event::notify(delay)", [b("hold_systemc")], b("hold_systemc"),
               "libsystemc-dev"),
        Driver("simpy", "SimPy 2 (yield hold)", [py, os.path.join(bench_dir, "hold_simpy.py")],
               b("hold_simpy"), "python3-simpy"),
    ]


LINE = re.compile(r"events=(\d+) cpu_s=([\d.]+) wall_s=([\d.]+) rss_kb=(\d+) last_ns=(\d+) warmup=(\d+)")


def limit_cpu():
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_LIMIT, CPU_LIMIT + 5))


def run(cmd):
    """Returns (dict, None) or (None, reason)."""
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=WALL_LIMIT,
                           preexec_fn=limit_cpu)
    except subprocess.TimeoutExpired:
        return None, "over %d s of wall time" % WALL_LIMIT
    except OSError as e:
        return None, str(e)
    if p.returncode in (-signal.SIGXCPU, -signal.SIGKILL):
        return None, "over %d s of CPU time for setup, warm-up and run" % CPU_LIMIT
    m = None
    for line in p.stdout.splitlines():
        m = LINE.search(line) or m
    if p.returncode != 0 or not m:
        err = (p.stderr.strip().splitlines() or ["no output"])[-1]
        return None, "exit %d: %s" % (p.returncode, err[:120])
    events, cpu, wall, rss, last, warm = m.groups()
    return {"events": int(events), "cpu": float(cpu), "wall": float(wall), "rss_kb": int(rss),
            "last_ns": int(last), "warmup": int(warm)}, None


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            txt = f.read()
    except OSError:
        return "unknown CPU"
    model = re.search(r"^model name\s*:\s*(.*)$", txt, re.M)
    mhz = re.search(r"^cpu MHz\s*:\s*([\d.]+)", txt, re.M)
    n = len(re.findall(r"^processor\s*:", txt, re.M))
    s = model.group(1).strip() if model else "unknown CPU"
    if mhz:
        s += " @ %.0f MHz" % float(mhz.group(1))
    return "%s, %d logical CPUs" % (s, n)


def fmt_rate(r):
    return "%.2f" % (r / 1e6) if r >= 1e5 else "%.3f" % (r / 1e6)


def table(ds):
    heap = next(d for d in ds if d.key == "heap")
    base = {n: statistics.median(heap.rates[n]) if heap.rates[n] else None for n in SIZES}
    def size(n):
        e = len(str(n)) - 1
        return "10^%d" % e if n == 10 ** e else str(n)
    rows = ["| event queue | " + " | ".join("N = %s: M events/s | vs bare heap" % size(n) for n in SIZES)
            + " | same order as memsim |",
            "| --- | " + "---: | ---: | " * len(SIZES) + "--- |"]
    notes = []
    for d in ds:
        label = d.label + (" " + d.version if getattr(d, "version", None) else "")
        if d.na:
            rows.append("| %s | not available (%s) | " % (label, d.na) + "| " * (2 * len(SIZES)) + "|")
            continue
        cells = []
        for n in SIZES:
            if d.rates[n]:
                r = statistics.median(d.rates[n])
                cells.append(fmt_rate(r))
                cells.append("%.2fx" % (r / base[n]) if base[n] else "")
                if len(d.rates[n]) < len(d.warmup[n]) or (d.warmup[n] and min(d.warmup[n]) < n):
                    notes.append("%s at N = %s: warm-up cut to %d events (%.0f s CPU cap)"
                                 % (d.label, size(n), min(d.warmup[n]), 2.0))
            else:
                cells.append("not measured (%s)" % d.fail[n])
                cells.append("")
        rows.append("| %s | %s | %s |" % (label, " | ".join(cells), d.order or ""))
    return rows, notes


def write_doc(path, body):
    section_head = "## Event engine\n"
    block = BEGIN + "\n" + body.rstrip("\n") + "\n" + END + "\n"
    try:
        with open(path) as f:
            doc = f.read()
    except FileNotFoundError:
        doc = "# Performance\n\n"
    if BEGIN in doc and END in doc:
        doc = doc[:doc.index(BEGIN)] + block + doc[doc.index(END) + len(END) + 1:]
    elif section_head in doc:
        i = doc.index(section_head) + len(section_head)
        doc = doc[:i] + "\n" + block + doc[i:]
    else:
        doc = doc.rstrip("\n") + "\n\n" + section_head + "\n" + block
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(doc)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--bench-dir", required=True)
    ap.add_argument("--doc")
    ap.add_argument("--seconds", type=float, default=1.0)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--command", default="make bench", help="how the run was started")
    ap.add_argument("--sizes", default="1000,1000000", help="comma-separated N (quick checks)")
    a = ap.parse_args()
    global SIZES
    SIZES = tuple(int(x) for x in a.sizes.split(","))

    ds = drivers(a.out, a.bench_dir)
    for d in ds:
        if os.path.exists(d.binary + ".na"):
            with open(d.binary + ".na") as f:
                d.na = f.read().strip()
        elif d.key != "simpy" and not os.access(d.binary, os.X_OK):
            d.na = "driver not built"
        if d.pkg:
            d.version = pkg_version(d.pkg)
        if d.na:
            print("bench: %s: not available (%s)" % (d.label, d.na), flush=True)

    # same model?  a fixed number of events at N = 10^3; memsim's last time is the reference
    ref = None
    for d in ds:
        if d.na:
            continue
        res, err = run(d.cmd + ["1000", "0", "200000"])
        if not res:
            d.order = "check failed (%s)" % err
            continue
        if ref is None:
            ref = res["last_ns"]
        d.order = "yes" if res["last_ns"] == ref else \
            "no: last event at %d ns, memsim %d ns" % (res["last_ns"], ref)
        print("bench: order check %-45s last_ns=%d %s" % (d.label, res["last_ns"], d.order), flush=True)

    for rep in range(a.reps):
        for n in SIZES:
            for d in ds:
                if d.na:
                    continue
                if d.max_n and n > d.max_n:
                    d.fail[n] = "N > %d: %s" % (d.max_n, d.max_n_reason)
                    continue
                if d.fail[n] and "CPU time" in d.fail[n]:
                    continue    # it will not get faster next round
                res, err = run(d.cmd + [str(n), str(a.seconds)])
                if not res:
                    d.fail[n] = err
                    print("bench: round %d N=%d %s: %s" % (rep + 1, n, d.label, err), flush=True)
                    continue
                rate = res["events"] / res["cpu"]
                d.rates[n].append(rate)
                d.rss[n].append(res["rss_kb"])
                d.warmup[n].append(res["warmup"])
                print("bench: round %d N=%-7d %-45s %8.3f M events/s  (%d events, %.2f s CPU, %.2f s wall, %d MB RSS)"
                      % (rep + 1, n, d.label, rate / 1e6, res["events"], res["cpu"], res["wall"],
                         res["rss_kb"] // 1024), flush=True)

    rows, notes = table(ds)
    when = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    head = [
        "Measured %s on %s (`uname -r` %s), by `%s`." % (when, cpu_model(), os.uname().release,
                                                          a.command),
        "",
        "Hold model, mean increment 1 ms (integer ns), median of %d rounds, each run >= %g s of CPU"
        " time after a warm-up of N events; events per CPU second (the machine is shared, so CPU"
        " time rather than wall time)." % (a.reps, a.seconds),
        "",
    ]
    body = "\n".join(head + rows + ([""] + ["- " + x for x in notes] if notes else [])) + "\n"
    print()
    print(body)
    if a.doc:
        write_doc(a.doc, body)
        print("bench: refreshed %s" % a.doc)
    memsim = next(d for d in ds if d.key == "memsim")
    return 0 if all(memsim.rates[n] for n in SIZES) else 1


if __name__ == "__main__":
    sys.exit(main())
