"""Random `update --stdin` scripts for the differential tester.

Each script is generated for one *feature* (what it is about: plain
updates, symref commands, transaction verbs, odd spacing, ...) on one
*base* repository. The pair "BASE/FEATURE" is the script's class, which
the report groups by and the pending list (difftest-pending.txt)
matches. A script is a list of commands, each a list of arguments,
rendered into bytes at the end, so a failing script can be shrunk one
command at a time and rendered again.
"""

import random

ZERO = "0" * 40

# Names the generator draws from. Existing ones are in every base
# (difftest.py builds them); chain bases add refs/heads/sym and s2.
EXISTING = ["refs/heads/main", "refs/heads/feature", "refs/heads/a/b",
            "refs/tags/light", "refs/tags/v1", "refs/remotes/origin/main",
            "refs/custom/x"]
SYMREFS = ["HEAD", "refs/remotes/origin/HEAD"]
CHAIN = ["refs/heads/sym", "refs/heads/s2"]
NEW = ["refs/heads/new", "refs/heads/n/x", "refs/tags/t2", "refs/custom/y",
       "refs/notes/commits", "refs/remotes/origin/new"]
CONFLICTING = ["refs/heads/a", "refs/heads/a/b/c", "refs/heads/main/x"]
ROOT = ["ORIG_HEAD", "FETCH_HEAD", "FOO_HEAD"]
ODD_NAMES = ["main", "foo", "FOO_HEAD/x", "HEAD/x", "refs/heads/x.lock",
             "refs/heads/bad..x", "refs/heads/x.", "refs/heads/-dash",
             "refs/heads/@", "refs/heads/x@{1}", "refs", "refs/",
             "refs/heads/", "/refs/heads/x", "refs//heads/x",
             "refs/heads/x*", "refs/heads/x?", "refs/heads/.hidden",
             "refs/heads/\u00fc", "Refs/heads/x", "refs/heads/x\x7f",
             "refs/heads/x:y", "refs/heads/a\\b", "refs/heads/x^"]
# Targets of symref commands.
TARGETS = ["refs/heads/main", "refs/heads/feature", "refs/heads/new",
           "refs/heads/gone", "refs/tags/light", "HEAD", "ORIG_HEAD",
           "refs/heads/sym", "refs/remotes/origin/main"]

FEATURES = ["plain", "deref", "symref", "txn", "spacing", "quoting", "names",
            "message", "z", "odb", "reflog"]


class Script:
    """One generated case: a base, command-line options, commands."""

    def __init__(self, base, feature, opts, cmds, zero_term, odb):
        self.base = base
        self.feature = feature
        self.opts = opts            # extra arguments for both programs
        self.cmds = cmds            # list of lists of str (or raw bytes)
        self.zero_term = zero_term  # -z
        self.odb = odb              # a value needs Git's object database

    @property
    def klass(self):
        return "%s/%s" % (self.base, self.feature)

    def render(self):
        if self.zero_term:
            return render_z(self.cmds)
        return render_lines(self.cmds)

    def without(self, i):
        cmds = self.cmds[:i] + self.cmds[i + 1:]
        return Script(self.base, self.feature, self.opts, cmds,
                      self.zero_term, self.odb)


def render_lines(cmds):
    out = b""
    for c in cmds:
        if isinstance(c, bytes):  # a line the spacing feature made raw
            out += c
        else:
            out += " ".join(c).encode() + b"\n"
    return out


def render_z(cmds):
    """Git's -z format: the command and its first argument, then each
    further argument, every one ended by a NUL."""
    out = b""
    for c in cmds:
        if isinstance(c, bytes):
            out += c
            continue
        head = c[0] if len(c) == 1 else c[0] + " " + c[1]
        out += head.encode() + b"\0"
        for a in c[2:]:
            out += a.encode() + b"\0"
    return out


class Gen:
    def __init__(self, rng, base, ids):
        self.r = rng
        self.base = base
        self.ids = ids  # dict: c1..c4, tag, blob, missing, and "state"

    def pick(self, seq):
        return self.r.choice(seq)

    def commit(self):
        return self.ids[self.pick(["c1", "c2", "c3", "c4"])]

    def existing(self):
        names = EXISTING + (CHAIN if self.base == "chain" else [])
        return self.pick(names)

    def valid_ref(self):
        roll = self.r.random()
        if roll < 0.5:
            return self.existing()
        if roll < 0.8:
            return self.pick(NEW)
        if roll < 0.9:
            return self.pick(CONFLICTING)
        return self.pick(ROOT)

    def old_value(self, ref, zero=True):
        """An expected old value: often right, sometimes not. Git refuses
        a zero old value for delete (a lenient-input case of its own)."""
        state = self.ids["state"]
        roll = self.r.random()
        if roll < 0.7 and ref in state:
            return state[ref]
        if roll < 0.8 and zero:
            return ZERO
        return self.commit()

    def plain_cmd(self, ref=None):
        ref = ref or self.valid_ref()
        verb = self.pick(["update", "update", "create", "delete", "verify"])
        if verb == "update":
            c = ["update", ref, self.commit()]
            if self.r.random() < 0.6:
                c.append(self.old_value(ref))
            return c
        if verb == "create":
            return ["create", ref, self.commit()]
        c = [verb, ref]
        if self.r.random() < 0.6:
            c.append(self.old_value(ref, zero=verb == "verify"))
        return c

    def symref_cmd(self, ref=None):
        ref = ref or self.pick(SYMREFS + CHAIN + NEW + ["refs/heads/main"])
        target = self.pick(TARGETS)
        verb = self.pick(["symref-update", "symref-update", "symref-create",
                          "symref-delete", "symref-verify"])
        c = [verb, ref]
        if verb in ("symref-update", "symref-create"):
            c.append(target)
        if verb == "symref-update" and self.r.random() < 0.5:
            if self.r.random() < 0.5:
                c += ["ref", self.pick(TARGETS)]
            else:
                c += ["oid", self.old_value(ref)]
        if verb in ("symref-delete", "symref-verify") and \
                self.r.random() < 0.6:
            c.append(self.pick(TARGETS))
        return c

    def some(self, make, lo=1, hi=4):
        return [make() for _ in range(self.r.randint(lo, hi))]

    def message_opts(self):
        if self.r.random() < 0.5:
            return ["-m", self.pick(["msg", "two words", "setup: x y"])]
        return []


def gen_plain(g):
    return g.message_opts(), g.some(g.plain_cmd)


def gen_deref(g):
    refs = ["HEAD", "refs/remotes/origin/HEAD"] + \
        (CHAIN if g.base == "chain" else []) + ["refs/heads/main"]
    cmds = []
    if g.r.random() < 0.3:
        cmds.append(["option", "no-deref"])
    for _ in range(g.r.randint(1, 3)):
        ref = g.pick(refs)
        cmds.append(g.plain_cmd(ref) if g.r.random() < 0.6
                    else g.symref_cmd(ref))
        if g.r.random() < 0.2:
            cmds.append(["option", "no-deref"])
    return g.message_opts(), cmds


def gen_symref(g):
    cmds = []
    for _ in range(g.r.randint(1, 3)):
        if g.r.random() < 0.5:
            cmds.append(["option", "no-deref"])
        cmds.append(g.symref_cmd())
    return g.message_opts(), cmds


def txn_body(g):
    return g.some(lambda: g.plain_cmd() if g.r.random() < 0.8
                  else g.symref_cmd(), 1, 2)


def gen_txn(g):
    cmds = []
    for _ in range(g.r.randint(1, 3)):
        roll = g.r.random()
        cmds += [["start"]] if roll < 0.8 else []
        cmds += txn_body(g)
        if g.r.random() < 0.4:
            cmds.append(["prepare"])
        end = g.r.random()
        if end < 0.55:
            cmds.append(["commit"])
        elif end < 0.75:
            cmds.append(["abort"])
        elif end < 0.85:
            cmds.append(g.pick([["start"], ["commit", "extra"],
                                ["prepare"], ["abort", "x"]]))
        # else: nothing, the input may simply end
    return [], cmds


# Odd whitespace and other input Git is strict about (issue 19, 1 and 5).
SPACING = ["double-space-new", "double-space-old", "trailing-space",
           "leading-space", "tab", "crlf", "blank-line", "no-final-newline",
           "option-two-spaces", "nul-in-line", "trailing-tab", "delete-zero"]


def spaced_line(g, c, how):
    s = " ".join(c)
    if how == "double-space-new" and len(c) >= 3:
        s = "%s %s  %s" % (c[0], c[1], " ".join(c[3:] or [c[2]]))
    elif how == "double-space-old" and len(c) >= 3:
        s = "%s %s %s  %s" % (c[0], c[1], c[2], " ".join(c[3:]))
    elif how == "trailing-space":
        s += " "
    elif how == "trailing-tab":
        s += "\t"
    elif how == "leading-space":
        s = " " + s
    elif how == "tab":
        s = s.replace(" ", "\t", 1)
    elif how == "option-two-spaces":
        s = "option  no-deref"
    elif how == "nul-in-line":
        return s.encode() + b"\0x\n"
    end = b"\r\n" if how == "crlf" else b"\n"
    return s.encode() + end


def gen_spacing(g):
    cmds = g.some(g.plain_cmd, 1, 3)
    i = g.r.randrange(len(cmds))
    how = g.pick(SPACING)
    if how == "delete-zero":
        cmds[i] = ["delete", cmds[i][1], ZERO]
    elif how == "blank-line":
        cmds.insert(i, b"\n")
    elif how == "no-final-newline":
        last = render_lines([cmds[-1]])
        cmds[-1] = last[:-1]
    else:
        cmds[i] = spaced_line(g, cmds[i], how)
    return [], cmds


QUOTED = ['"refs/heads/q\\303\\274"', '"refs/heads/tab\\tx"',
          '"refs/heads/main"', '"refs/heads/new"', '"refs/heads/sp ace"',
          '"refs/heads/unterminated', '"refs/heads/x"y', '"refs/heads/\\q"',
          '"refs/heads/n\\"q"', '"refs/heads/oct\\101"', '""']


def gen_quoting(g):
    cmds = []
    for _ in range(g.r.randint(1, 2)):
        q = g.pick(QUOTED)
        roll = g.r.random()
        if roll < 0.5:
            cmds.append(["update", q, g.commit()])
        elif roll < 0.7:
            cmds.append(["create", q, g.commit()])
        elif roll < 0.85:
            cmds.append(["delete", q])
        else:
            cmds.append(["symref-update", "refs/heads/s9", q])
    return [], cmds


def gen_names(g):
    cmds = []
    for _ in range(g.r.randint(1, 2)):
        name = g.pick(ODD_NAMES + ROOT)
        roll = g.r.random()
        if roll < 0.5:
            cmds.append(["update", name, g.commit()])
        elif roll < 0.6:
            cmds.append(["delete", name])
        elif roll < 0.7:
            cmds.append(["verify", name])
        else:
            cmds.append(["option", "no-deref"])
            cmds.append(["symref-update", g.pick(["refs/heads/s9", name]),
                         g.pick([name, "refs/heads/main"])])
    return g.message_opts(), cmds


MESSAGES = ["", "multi\nline", "  spaced  out  ", "tab\there", "x" * 3000,
            "trailing newline\n", "caf\u00e9", "a\rb"]


def gen_message(g):
    opts = ["-m", g.pick(MESSAGES)]
    return opts, g.some(g.plain_cmd, 1, 2)


def gen_z(g):
    cmds = []
    for _ in range(g.r.randint(1, 3)):
        roll = g.r.random()
        if roll < 0.6:
            c = g.plain_cmd()
            if c[0] in ("update", "delete", "verify") and \
                    g.r.random() < 0.3:
                c.append("")  # an empty argument in -z
            cmds.append(c)
        elif roll < 0.8:
            cmds.append(["option", "no-deref"])
            cmds.append(g.symref_cmd())
        else:
            cmds.append(g.pick([["start"], ["commit"], ["prepare"]]))
    return g.message_opts(), cmds


def gen_odb(g):
    ids = g.ids
    odd = [ids["tag"], ids["blob"], ids["missing"], ids["c1"][:7],
           ids["c2"][:12], "main", "HEAD", "refs/heads/feature",
           ids["c1"].upper(), "xyz"]
    cmds = []
    for _ in range(g.r.randint(1, 2)):
        ref = g.valid_ref()
        roll = g.r.random()
        if roll < 0.6:
            cmds.append(["update", ref, g.pick(odd)])
        elif roll < 0.8:
            cmds.append(["update", ref, g.commit(), g.pick(odd)])
        else:
            cmds.append(["verify", ref, g.pick(odd)])
    return [], cmds


def gen_reflog(g):
    opts = g.message_opts()
    if g.r.random() < 0.4:
        opts.append("--create-reflog")
    refs = ["refs/tags/t2", "refs/custom/y", "ORIG_HEAD", "refs/notes/commits",
            "refs/heads/new", "refs/tags/light", "refs/custom/x",
            "refs/heads/feature", "refs/heads/main"]
    cmds = [g.plain_cmd(g.pick(refs)) for _ in range(g.r.randint(1, 3))]
    return opts, cmds


GENERATORS = {
    "plain": gen_plain, "deref": gen_deref, "symref": gen_symref,
    "txn": gen_txn, "spacing": gen_spacing, "quoting": gen_quoting,
    "names": gen_names, "message": gen_message, "z": gen_z,
    "odb": gen_odb, "reflog": gen_reflog,
}
# How often each feature is drawn: the plain cases weigh most, as a
# difference there hits every script.
WEIGHTS = {"plain": 4, "deref": 2, "symref": 2, "txn": 2, "spacing": 2,
           "quoting": 1, "names": 1, "message": 1, "z": 1, "odb": 1,
           "reflog": 2}


def generate(seed, index, bases, ids_of):
    """The index-th script of a run with this seed: the same pair always
    gives the same script, so one case can be rerun alone."""
    r = random.Random("%s:%d" % (seed, index))
    feature = r.choices(list(WEIGHTS), weights=list(WEIGHTS.values()))[0]
    base = r.choice(bases)
    g = Gen(r, base, ids_of(base))
    opts, cmds = GENERATORS[feature](g)
    return Script(base, feature, opts, cmds, feature == "z",
                  feature == "odb")
