"""Base repositories of the differential tester, and what is read back
from a repository after a script ran.

Every base is built by Git itself with a pinned committer, so the object
ids are the same on every machine and every run. What the scripts may
use: four commits in a chain (c1..c4), an annotated tag of c1 (tag), a
blob (blob), and an id no object has (missing).
"""

import os
import subprocess

PINNED = {
    "GIT_COMMITTER_NAME": "C O Mitter",
    "GIT_COMMITTER_EMAIL": "committer@example.com",
    "GIT_COMMITTER_DATE": "1700000000 +0000",
    "GIT_AUTHOR_NAME": "A U Thor",
    "GIT_AUTHOR_EMAIL": "author@example.com",
    "GIT_AUTHOR_DATE": "1700000000 +0000",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "TZ": "UTC",
    "LC_ALL": "C",
}

# name -> (bare, setup commands after the common refs, config)
BASES = {
    "normal": (False, [], None),
    "detached": (False, [["update-ref", "--no-deref", "HEAD", "@c2"]], None),
    "unborn": (False, [["symbolic-ref", "HEAD", "refs/heads/unborn"]], None),
    "chain": (False, [["symbolic-ref", "refs/heads/sym", "refs/heads/feature"],
                      ["symbolic-ref", "HEAD", "refs/heads/sym"],
                      ["symbolic-ref", "refs/heads/s2", "refs/heads/sym"]],
              None),
    "bare": (True, [], None),
    "cfg-always": (False, [], "always"),
    "cfg-false": (False, [], "false"),
}


def env_with(extra=None):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("GIT_")}
    env.update(PINNED)
    env.update(extra or {})
    return env


def run(argv, cwd=None, stdin=b"", env=None):
    p = subprocess.run(argv, cwd=cwd, input=stdin, env=env or env_with(),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return p.returncode, p.stdout, p.stderr


def git_ok(git, repo, *args, stdin=b""):
    rc, out, err = run([git, "-C", repo] + list(args), stdin=stdin)
    if rc != 0:
        raise RuntimeError("git %s failed in %s: %s" %
                           (" ".join(args), repo, err.decode(errors="replace")))
    return out.decode().strip()


def make_objects(git, repo):
    ids = {}
    tree = git_ok(git, repo, "mktree")
    parent = []
    for i in range(1, 5):
        ids["c%d" % i] = git_ok(git, repo, "commit-tree", tree, *parent,
                                "-m", "c%d" % i)
        parent = ["-p", ids["c%d" % i]]
    ids["blob"] = git_ok(git, repo, "hash-object", "-w", "--stdin",
                         stdin=b"a blob\n")
    ids["missing"] = "1234567890abcdef" * 2 + "12345678"
    return ids


def common_refs(ids):
    lines = ["update refs/heads/main %s" % ids["c1"],
             "update refs/heads/feature %s" % ids["c2"],
             "update refs/heads/a/b %s" % ids["c3"],
             "update refs/tags/light %s" % ids["c1"],
             "update refs/remotes/origin/main %s" % ids["c2"],
             "update refs/custom/x %s" % ids["c3"]]
    return ("\n".join(lines) + "\n").encode()


def build_base(git, top, name):
    bare, steps, logall = BASES[name]
    path = os.path.join(top, name)
    args = ["init", "-q", "--template=", "--ref-format=reftable"]
    rc, _, err = run([git] + args + (["--bare"] if bare else []) + [path])
    if rc != 0:
        raise RuntimeError("git init failed: %s" % err.decode())
    if logall:
        git_ok(git, path, "config", "core.logAllRefUpdates", logall)
    ids = make_objects(git, path)
    git_ok(git, path, "update-ref", "-m", "setup", "--stdin",
           stdin=common_refs(ids))
    git_ok(git, path, "tag", "-a", "-m", "v1", "v1", ids["c1"])
    ids["tag"] = git_ok(git, path, "rev-parse", "refs/tags/v1")
    git_ok(git, path, "symbolic-ref", "refs/remotes/origin/HEAD",
           "refs/remotes/origin/main")
    git_ok(git, path, "symbolic-ref", "-m", "setup", "HEAD", "refs/heads/main")
    for step in steps:
        git_ok(git, path, *[ids[a[1:]] if a.startswith("@") else a
                            for a in step])
    ids["state"] = read_state_map(git, path)
    return path, ids


def read_state_map(git, repo):
    """Each ref's current value (an id, or a symref's target) for the
    generator's compare-and-swap guesses."""
    out = git_ok(git, repo, "for-each-ref", "--include-root-refs",
                 "--format=%(refname) %(objectname) %(symref)")
    state = {}
    for line in out.splitlines():
        parts = line.split(" ")
        state[parts[0]] = parts[1]
    return state


def git_dir(repo):
    dot = os.path.join(repo, ".git")
    return dot if os.path.isdir(dot) else repo


def strip_update_index(records):
    """Records without their update indexes: the two writers may number
    the same changes differently (one table per transaction or not)."""
    out = []
    for line in records.splitlines():
        parts = line.split(b" ", 3)
        if len(parts) >= 3 and parts[0] in (b"ref", b"log"):
            out.append(b" ".join(parts[:2] + parts[3:]))
        else:
            out.append(line)
    return out


def read_back(tools, repo):
    """What Git sees in a repository: its refs, the records of the stack
    as Git's library reads them, and `git refs verify`."""
    git = tools["git"]
    rc, refs, refs_err = run([git, "-C", repo, "for-each-ref",
                              "--include-root-refs",
                              "--format=%(refname) %(objectname) %(symref)"])
    state = {"refs": (rc, refs, refs_err)}
    records = []
    if tools.get("records"):
        rc, out, err = run([tools["records"], "stack",
                            os.path.join(git_dir(repo), "reftable")])
        records = strip_update_index(out) + ([b"rc=%d" % rc] if rc else [])
    state["ref-records"] = [r for r in records if not r.startswith(b"log ")]
    state["log-records"] = [r for r in records if r.startswith(b"log ")]
    rc, out, err = run([git, "-C", repo, "refs", "verify"])
    state["verify"] = (rc, out, err)
    return state
