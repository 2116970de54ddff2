#!/usr/bin/env python3
"""Our benchmark beside Git's library on the same workload, in one run
(issue 17, section 3).

Each round runs, on fresh directories, our driver (t/bench) and
git-reftable-bench (Git 2.55's reftable library driven by SPEC.md's
workload) at the same N: once durable on both sides (ours fsyncs by
default; Git's with GIT_ANCHOR_FSYNC=1, as with core.fsync=reference),
once with fsync off on both (BENCH_NO_FSYNC=1 for ours; Git's library
does not fsync refs by default), for the txn target. The workload
digests of every run must agree. The order of the two alternates from
round to round, and every run starts after a sync. Prints each figure's
median over the rounds, ours beside Git's with the ratio, and which
targets are met.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

# SPEC.md's figures, in its order.
FIGURES = ["write", "table_size", "lookup_hit", "lookup_miss", "scan",
           "prefix_seek10", "txn", "txn_tables", "txn_compaction_bytes",
           "reload_noop", "reload_changed", "log_latest", "peak_rss"]


def parse(text):
    """'name: value unit' lines into {name: (value, unit)}, and the
    workload line."""
    figures, workload = {}, None
    for line in text.splitlines():
        if line.startswith("workload:"):
            workload = line.strip()
            continue
        name, sep, rest = line.partition(": ")
        parts = rest.split()
        if sep and parts:
            try:
                figures[name] = (float(parts[0]), " ".join(parts[1:]))
            except ValueError:
                pass
    return figures, workload


def run(argv, env_extra, top):
    env = {k: v for k, v in os.environ.items()
           if k not in ("GIT_ANCHOR_FSYNC", "BENCH_NO_FSYNC")}
    env.update(env_extra)
    env["BENCH_DIR"] = top
    # Through a small shell that forks: Linux keeps ru_maxrss across
    # exec, so a driver started from this Python process would report
    # Python's resident size as its peak_rss at small N.
    argv = ["sh", "-c", '"$@"; exit $?', "sh"] + argv
    p = subprocess.run(argv, env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        sys.exit("bench-vs-git: %s failed (exit %d): %s" %
                 (" ".join(argv[4:]), p.returncode, p.stderr.strip()[:500]))
    return parse(p.stdout)


def one_round(args, top, fsync, git_first):
    """Both drivers once, in the given order. Each starts after a sync:
    without fsyncs, a run leaves its writes for the kernel to flush, and
    that writeback would slow whichever run came next."""
    ours_env = {} if fsync else {"BENCH_NO_FSYNC": "1"}
    git_env = {"GIT_ANCHOR_FSYNC": "1"} if fsync else {}

    def ours_run():
        os.sync()
        return run([args.ours, str(args.n)], ours_env, top)

    def git_run():
        d = tempfile.mkdtemp(prefix="git-bench.", dir=top)
        os.rmdir(d)  # git-reftable-bench wants a fresh directory
        os.sync()
        figures = run([args.git_bench, d, str(args.n)], git_env, top)
        shutil.rmtree(d, ignore_errors=True)
        return figures

    if git_first:
        git = git_run()
        return ours_run(), git
    ours = ours_run()
    return ours, git_run()


def median(runs, name):
    vals = [r[0][name][0] for r in runs if name in r[0]]
    return statistics.median(vals) if vals else None


def targets(o, g, o_off, g_off):
    """(description, measured, limit, met) for each target of the issue."""
    out = []

    def ratio(name, limit, a=o, b=g, label=None):
        if a.get(name) is None or not b.get(name):
            return
        r = a[name] / b[name]
        out.append(("%s at most %.2f of Git's" % (label or name, limit),
                    r, limit, r <= limit))

    ratio("txn", 0.8, label="txn (durable)")
    ratio("txn", 0.5, o_off, g_off, label="txn (fsync off)")
    ratio("scan", 0.25)
    for name in ["write", "lookup_miss", "prefix_seek10", "reload_changed",
                 "log_latest"]:
        ratio(name, 0.25)
    for name, base, limit in [("lookup_hit", "baseline_lookup_reads", 1.8),
                              ("reload_noop", "baseline_stat", 1.1)]:
        if o.get(name) is not None and o.get(base):
            r = o[name] / o[base]
            out.append(("%s at most %.1f x %s" % (name, limit, base), r,
                        limit, r <= limit))
    ratio("peak_rss", 0.6)
    if o.get("table_size") is not None and g.get("table_size") is not None:
        out.append(("table_size equal", o["table_size"] / g["table_size"],
                    1.0, o["table_size"] == g["table_size"]))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ours", required=True, help="our bench driver")
    ap.add_argument("--git-bench", required=True, help="git-reftable-bench")
    ap.add_argument("-n", type=int, default=1000000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--no-fsync-off", action="store_true",
                    help="skip the fsync-off runs (no fsync-off txn target)")
    args = ap.parse_args()
    top = os.environ.get("BENCH_DIR") or os.environ.get("TMPDIR") or "/tmp"

    durable, off, workloads = [], [], set()
    for r in range(args.rounds):
        print("round %d of %d: durable%s" % (
            r + 1, args.rounds, "" if args.no_fsync_off else ", fsync off"),
            flush=True)
        pairs = [(durable, True)] + ([] if args.no_fsync_off
                                     else [(off, False)])
        for store, fsync in pairs:
            # Who goes first alternates: neither side always runs on a
            # machine the other has just warmed or left busy.
            (of, ow), (gf, gw) = one_round(args, top, fsync, r % 2 == 1)
            workloads.update([ow, gw])
            store.append(((of, ow), (gf, gw)))
    if len(workloads) != 1:
        print("bench-vs-git: the workload digests differ: %s" %
              sorted(str(w) for w in workloads))
        return 1
    print("%s (both drivers, every run); N=%d, %d rounds, BENCH_DIR=%s" %
          (workloads.pop(), args.n, args.rounds, top))
    return report(durable, off)


def report(durable, off):
    ours_runs = [p[0] for p in durable]
    git_runs = [p[1] for p in durable]
    names = FIGURES + sorted(set(ours_runs[0][0]) - set(FIGURES))
    o = {n: median(ours_runs, n) for n in names}
    g = {n: median(git_runs, n) for n in FIGURES}
    unit = {n: ours_runs[0][0].get(n, (0, ""))[1] for n in names}
    print("%-22s %14s %14s %8s   (medians; durable on both sides)" %
          ("figure", "ours", "git", "ratio"))
    for n in names:
        if o[n] is None:
            continue
        gv = g.get(n)
        print("%-22s %14s %14s %8s   %s" % (
            n, "%.6g" % o[n], "" if gv is None else "%.6g" % gv,
            "%.2f" % (o[n] / gv) if gv else "", unit[n]))
    o_off = g_off = {}
    if off:
        o_off = {"txn": median([p[0] for p in off], "txn")}
        g_off = {"txn": median([p[1] for p in off], "txn")}
        print("%-22s %14.6g %14.6g %8.2f   us/op (fsync off on both sides)"
              % ("txn (fsync off)", o_off["txn"], g_off["txn"],
                 o_off["txn"] / g_off["txn"]))
    met = 0
    results = targets(o, g, o_off, g_off)
    print("targets of issue 17 (medians of the rounds):")
    for desc, val, limit, ok in results:
        met += ok
        print("  %-4s %-46s %.2f" % ("met" if ok else "NOT", desc, val))
    print("bench-vs-git: %d of %d targets met" % (met, len(results)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
