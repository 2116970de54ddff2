#!/usr/bin/env python3
"""Differential tester: `git update-ref --stdin` against `reftable update
--stdin` (issue 19).

Each random script runs on two copies of one base repository, one
through Git and one through the tool, with the same committer and date;
then Git reads both copies and the tester compares the exit status class
(success or failure), the refs (`git for-each-ref --include-root-refs`),
the records of the stack as Git's library reads them
(`git-reftable-records stack`, update indexes aside, refs and reflogs
apart), `git refs verify`, and what each program printed on standard
output. Standard error is not compared: the messages differ by design.

Outcomes: alike-failed, alike-succeeded, or differing. A difference is
"intentional" when a rule of Documentation/git-compatibility.md explains
it (see intentional() below), "pending" when the pending list
(difftest-pending.txt) names its class, else "unexpected". With --check
the run fails on any unexpected difference: that is the fixed-seed pass
of `make test`. Usage: difftest.py --help.
"""

import argparse
import collections
import concurrent.futures
import difflib
import fnmatch
import os
import shutil
import sys
import tempfile

import difftest_gen as gen
import difftest_repo as repo

HERE = os.path.dirname(os.path.abspath(__file__))


def find_tools(args):
    """Git 2.55 and git-reftable-records from --git-tools (the shared
    tools), else a reftable-capable `git` on PATH; None if there is no
    Git that writes reftable."""
    tools = {"reftable": args.reftable}
    d = args.git_tools
    if d and os.access(os.path.join(d, "git"), os.X_OK):
        tools["git"] = os.path.join(d, "git")
        # Its built-in exec path exists only where it was built: Git
        # commands that run Git (fsck runs `git refs verify`) would
        # find another git on PATH.
        repo.PINNED["GIT_EXEC_PATH"] = d
        rec = os.path.join(d, "git-reftable-records")
        tools["records"] = rec if os.access(rec, os.X_OK) else None
        return tools
    git = shutil.which("git")
    if not git:
        return None
    probe = tempfile.mkdtemp(prefix="difftest-probe.")
    rc, _, _ = repo.run([git, "init", "-q", "--template=",
                         "--ref-format=reftable", probe + "/r"])
    shutil.rmtree(probe)
    if rc != 0:
        return None
    tools["git"], tools["records"] = git, None
    return tools


def status_class(rc):
    """ok, fail (any exit status but 0: Git dies with 128, the tool
    exits 1 to 3) or crash (killed by a signal)."""
    if rc == 0:
        return "ok"
    return "crash" if rc < 0 else "fail"


def run_side(tools, path, script, side):
    data = script.render()
    z = ["-z"] if script.zero_term else []
    if side == "git":
        argv = [tools["git"], "-C", path, "update-ref"] + script.opts + z + \
            ["--stdin"]
    else:
        argv = [tools["reftable"], "-C", path, "update"] + script.opts + z + \
            ["--stdin"]
    rc, out, err = repo.run(argv, stdin=data)
    return rc, out, err


def run_case(tools, bases, work, script, tag):
    """Run one script on two copies; returns (outcome, kind, details)."""
    top = tempfile.mkdtemp(prefix="case%s." % tag, dir=work)
    try:
        res = {}
        for side in ("git", "tool"):
            path = os.path.join(top, side)
            shutil.copytree(bases[script.base][0], path, symlinks=True)
            rc, out, err = run_side(tools, path, script, side)
            res[side] = {"rc": rc, "out": out, "err": err,
                         "state": repo.read_back(tools, path)}
        return compare(script, res)
    finally:
        shutil.rmtree(top, ignore_errors=True)


ASPECTS = ["refs", "ref-records", "log-records", "verify"]


def compare(script, res):
    g, t = res["git"], res["tool"]
    gs, ts = status_class(g["rc"]), status_class(t["rc"])
    aspects = []
    if gs != ts:
        aspects.append("status(git=%s,tool=%s)" % (gs, ts))
    for a in ASPECTS:
        if g["state"][a] != t["state"][a]:
            aspects.append(a)
    if g["out"] != t["out"]:
        aspects.append("stdout")
    if not aspects:
        outcome = "alike-succeeded" if gs == "ok" else "alike-failed"
        return outcome, None, res
    return "differing", "+".join(aspects), res


def intentional(script, kind, res):
    """The rule of Documentation/git-compatibility.md that explains a
    difference, or None. Only a difference in whether the script
    succeeded (and what follows from that) is ever excused."""
    if script.odb and kind == "ref-records" and \
            unpeeled(res["git"]["state"][kind]) == \
            unpeeled(res["tool"]["state"][kind]):
        return "no-object-database (peeling)"
    if not kind.startswith("status("):
        return None
    git_err = res["git"]["err"]
    if script.odb:
        return "no-object-database"
    if b"nonexistent object" in git_err or b"non-commit object" in git_err:
        return "no-object-database"
    return None


def unpeeled(records):
    """Ref records with val2 (id and peeled id) read as val1 (the id)."""
    out = []
    for r in records:
        p = r.split(b" ")
        out.append(b" ".join(p[:2] + [b"val1", p[3]]) if p[2:3] == [b"val2"]
                   else r)
    return out


def load_pending(path):
    pats = []
    if path and os.path.exists(path):
        with open(path) as f:
            for line in f:
                line = line.split("#", 1)[0].strip()
                if line:
                    pats.append(line)
    return pats


def pending_match(pats, script, kind):
    """Every pattern of the pending list that excuses this difference."""
    key = "%s/%s" % (script.klass, kind)
    return [p for p in pats if fnmatch.fnmatchcase(key, p)]


def shrink(tools, bases, work, script, kind, budget):
    """Drop commands one at a time while the same kind of difference
    remains: the smallest script that still shows it."""
    changed = True
    while changed and budget > 0:
        changed = False
        for i in range(len(script.cmds)):
            if len(script.cmds) <= 1 or budget <= 0:
                break
            cand = script.without(i)
            budget -= 1
            outcome, k, _ = run_case(tools, bases, work, cand, "s")
            if outcome == "differing" and k == kind:
                script, changed = cand, True
                break
    return script


def show_script(s):
    opts = " ".join(repr(o) if " " in o or "\n" in o or not o else o
                    for o in s.opts + (["-z"] if s.zero_term else []))
    lines = ["    base %s, options: %s" % (s.base, opts or "(none)")]
    data = s.render()
    for line in data.split(b"\0" if s.zero_term else b"\n"):
        plain = all(0x20 <= b < 0x7f for b in line)
        lines.append("    | %s" % (line.decode() if plain else repr(line)))
    return "\n".join(lines)


def first_diff(res):
    """The first lines where the two copies differ, as Git reads them."""
    for a in ASPECTS:
        g, t = res["git"]["state"][a], res["tool"]["state"][a]
        if g == t:
            continue
        if isinstance(g, tuple):
            g, t = g[1].splitlines() + g[2].splitlines(), \
                t[1].splitlines() + t[2].splitlines()
        lines = difflib.unified_diff([x.decode("utf-8", "replace") for x in g],
                                     [x.decode("utf-8", "replace") for x in t],
                                     "git", "tool", n=0, lineterm="")
        return ["    %s: %s" % (a, line[:160]) for line in list(lines)[2:8]]
    return []


def describe(res):
    out = []
    for side in ("git", "tool"):
        r = res[side]
        err = r["err"].decode("utf-8", "replace").strip().splitlines()
        out.append("    %s: exit %d%s" % (side, r["rc"],
                                         (", " + err[0][:150]) if err else ""))
    return "\n".join(out + first_diff(res))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-n", type=int, default=300, help="scripts to run")
    ap.add_argument("--seed", default="1", help="seed of the run")
    ap.add_argument("--reftable", required=True, help="the tool")
    ap.add_argument("--git-tools", default=os.environ.get(
        "REFTABLE_GIT_TOOLS"), help="directory of git, git-reftable-records")
    ap.add_argument("--pending", default=os.path.join(
        HERE, "difftest-pending.txt"))
    ap.add_argument("--check", action="store_true",
                    help="fail on an unexpected difference (make test)")
    ap.add_argument("--only", type=int, help="run only the script of index I")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--shrink", type=int, default=40,
                    help="runs spent shrinking each kind's example")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()

    tools = find_tools(args)
    if tools is None:
        print("difftest: skipped (no Git that writes reftable: set "
              "REFTABLE_GIT_TOOLS or put git >= 2.45 on PATH)")
        return 0
    if not tools["records"]:
        print("difftest: git-reftable-records not found; records are "
              "not compared")
    work = tempfile.mkdtemp(prefix="reftable-difftest.")
    try:
        return run_all(args, tools, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run_all(args, tools, work):
    bases = {}
    for name in repo.BASES:
        bases[name] = repo.build_base(tools["git"], os.path.join(work, "bases"),
                                      name)
    names = sorted(bases)
    indexes = [args.only] if args.only is not None else range(args.n)
    scripts = [gen.generate(args.seed, i, names, lambda b: bases[b][1])
               for i in indexes]
    pats = load_pending(args.pending)

    with concurrent.futures.ThreadPoolExecutor(args.jobs) as ex:
        results = list(ex.map(
            lambda p: run_case(tools, bases, work, p[1], str(p[0])),
            zip(indexes, scripts)))
    return report(args, tools, bases, work, indexes, scripts, results, pats)


def report(args, tools, bases, work, indexes, scripts, results, pats):
    counts = collections.Counter()
    groups = collections.defaultdict(list)   # (category, kind) -> cases
    pending_used = collections.Counter()
    by_class = collections.Counter()
    for i, s, (outcome, kind, res) in zip(indexes, scripts, results):
        counts[outcome] += 1
        if outcome != "differing":
            continue
        why = intentional(s, kind, res)
        pat = None if why else pending_match(pats, s, kind)
        if why:
            cat = "intentional"
        elif pat:
            cat = "pending"
            pending_used.update(pat)
        else:
            cat = "unexpected"
        counts[cat] += 1
        by_class["%s %s/%s" % (cat, s.feature, kind)] += 1
        groups[(cat, s.feature + "/" + kind, why or "")].append((i, s, res))

    print("difftest: seed=%s scripts=%d alike-failed=%d alike-succeeded=%d "
          "differing=%d (intentional %d, pending %d, unexpected %d)" % (
              args.seed, len(scripts), counts["alike-failed"],
              counts["alike-succeeded"], counts["differing"],
              counts["intentional"], counts["pending"],
              counts["unexpected"]))
    for (cat, kind, why), cases in sorted(groups.items(),
                                          key=lambda kv: (kv[0][0], kv[0][1])):
        if cat != "unexpected" and not args.verbose and args.check:
            continue
        print("  %-11s %4d  %s%s  (bases: %s)" % (
            cat, len(cases), kind, " [%s]" % why if why else "",
            ", ".join("%s %d" % kv for kv in sorted(collections.Counter(
                c[1].base for c in cases).items()))))
        i, s, res = min(cases, key=lambda c: len(c[1].render()))
        if cat != "intentional" or args.verbose:
            s = shrink(tools, bases, work, s, kind.split("/", 1)[1],
                       args.shrink)
            _, _, res = run_case(tools, bases, work, s, "x")
            print("    example: script %d (--seed %s --only %d), shrunk:" %
                  (i, args.seed, i))
            print(show_script(s))
            print(describe(res))
    for p in pats:
        if not pending_used[p] and not args.check:
            print("  pending entry '%s' matched nothing in this run" % p)
    if args.check and counts["unexpected"]:
        print("difftest: FAIL: %d differences outside the intentional rules "
              "and the pending list" % counts["unexpected"])
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
