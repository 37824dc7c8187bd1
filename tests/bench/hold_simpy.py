#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""tests/bench/hold_simpy.py — hold model on SimPy (Debian's python3-simpy, SimPy 2.x).

SimPy 2 has no env.timeout (that is SimPy 3): a process waits with `yield hold, self, dt`.
N processes, each looping hold(increment); the event list is SimPy's heapq.  Same
increments as the C drivers (GSL through ctypes), time unit = ns, same output line.
usage: hold_simpy.py N SECONDS [EVENTS]
"""
import ctypes
import ctypes.util
import math
import os
import resource
import sys
import time

from SimPy.Simulation import Simulation, Process, hold

MEAN_NS = 1000000.0     # keep in step with hold.h
SEED = 20240601
TABLE = 1 << 16
BLOCK = 1 << 14
WARMUP_MAX_S = 2.0


def increments():
    ctypes.CDLL(ctypes.util.find_library("gslcblas"), mode=ctypes.RTLD_GLOBAL)
    gsl = ctypes.CDLL(ctypes.util.find_library("gsl"))
    gsl.gsl_rng_alloc.restype = ctypes.c_void_p
    gsl.gsl_rng_alloc.argtypes = [ctypes.c_void_p]
    gsl.gsl_rng_set.argtypes = [ctypes.c_void_p, ctypes.c_ulong]
    gsl.gsl_ran_exponential.restype = ctypes.c_double
    gsl.gsl_ran_exponential.argtypes = [ctypes.c_void_p, ctypes.c_double]
    gsl.gsl_rng_free.argtypes = [ctypes.c_void_p]
    mt = ctypes.c_void_p.in_dll(gsl, "gsl_rng_mt19937")
    r = gsl.gsl_rng_alloc(mt)
    gsl.gsl_rng_set(r, SEED)
    # llround of a positive double
    t = [float(math.floor(gsl.gsl_ran_exponential(r, MEAN_NS) + 0.5)) for _ in range(TABLE)]
    gsl.gsl_rng_free(r)
    return t


class State:
    pass


def main():
    if len(sys.argv) not in (3, 4):
        sys.stderr.write("usage: hold_simpy.py N SECONDS [EVENTS]\n")
        sys.exit(2)
    n = int(sys.argv[1])
    seconds = float(sys.argv[2])
    events = int(sys.argv[3]) if len(sys.argv) == 4 else 0
    incr = increments()
    st = State()
    st.k = 0
    st.done = 0
    st.timed = 0
    st.started = False
    st.cpu0 = st.wall0 = 0.0
    sim = Simulation()
    sim.initialize()

    def tick():
        st.done += 1
        if not st.started:
            if st.done == 1:
                st.warm0 = time.process_time()
            if st.done >= n or (st.done % BLOCK == 0 and
                                time.process_time() - st.warm0 >= WARMUP_MAX_S):
                st.started = True
                st.warmup = st.done
                st.cpu0 = time.process_time()
                st.wall0 = time.monotonic()
            return False
        st.timed += 1
        if events:
            return st.timed >= events
        if st.timed % BLOCK:
            return False
        return time.process_time() - st.cpu0 >= seconds

    class Holder(Process):
        def run(self):
            while True:
                d = incr[st.k % TABLE]
                st.k += 1
                yield hold, self, d
                if tick():
                    cpu = time.process_time() - st.cpu0
                    wall = time.monotonic() - st.wall0
                    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
                    print("events=%d cpu_s=%.6f wall_s=%.6f rss_kb=%d last_ns=%d warmup=%d"
                          % (st.timed, cpu, wall, rss, int(sim.now()), st.warmup), flush=True)
                    sim.stopSimulation()
                    return

    for _ in range(n):
        p = Holder(sim=sim)
        sim.activate(p, p.run())
    sim.simulate(until=float(2 ** 62))
    sys.stdout.flush()
    os._exit(0)     # skip freeing N processes: untimed


if __name__ == "__main__":
    main()
