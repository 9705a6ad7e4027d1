#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Build the patched kernel tree from a pristine 6.12.y base and this repo.

The tree is a git repository:

  lw-base   one commit (or the base tree's own HEAD) holding the pristine source
  lw-mm     one commit per logical patch, described by patches/*.commit

A .commit file is a header followed by a blank line and the commit message:

  Subject: mm: add cross-memory descriptors
  Patch: 0001-mm-xmem-build.diff        (diff of upstream files, in patches/)
  Add: include/linux/xmem.h mm/xmem.c   (new files, repo paths)

  <body of the commit message, trailers included>

New files are taken from the repository and placed at their kernel path (see
kernel_path()); changes to upstream files come only from the Patch: files.
Commits are built with plumbing in a private index, with fixed identities and
dates, so the same inputs give the same commit ids; the work tree is then moved
with "git checkout", which rewrites only files whose content changed and so
keeps an incremental kernel build incremental.
"""

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile

# Where repository files go in the kernel tree: the one place this mapping lives.
# Every other top-level directory listed in KERNEL_DIRS maps to itself.
KERNEL_DIRS = ("mm", "include", "kernel", "lib", "Documentation", "tools")
REMAP = {
    # KUnit suites sit beside the code they test, as mm/kfence does.
    "kunit/": "mm/",
}
# Harness-only files under kunit/ (kunit.py profiles, the list of warnings
# the suites provoke on purpose) are not part of the series.
NOT_IN_SERIES_SUFFIXES = (".kunitconfig", "/expected-warnings")

# The series' author and Signed-off-by identity: patches/AUTHOR, "Name <email>".
IDENT_NAME = IDENT_EMAIL = ""


def die(msg):
    print(f"mktree: {msg}", file=sys.stderr)
    sys.exit(1)


def run(cmd, cwd=None, env=None, inp=None, capture=True):
    res = subprocess.run(cmd, cwd=cwd, env=env, input=inp, text=True,
                         stdout=subprocess.PIPE if capture else None,
                         stderr=subprocess.PIPE if capture else None)
    if res.returncode != 0:
        die(f"{' '.join(cmd)} failed:\n{res.stdout or ''}{res.stderr or ''}")
    return (res.stdout or "").strip()


def kernel_path(repo_path):
    for prefix, dest in REMAP.items():
        if repo_path.startswith(prefix):
            return dest + repo_path[len(prefix):]
    if repo_path.split("/", 1)[0] in KERNEL_DIRS:
        return repo_path
    die(f"{repo_path}: not under a kernel directory ({', '.join(KERNEL_DIRS)}, kunit)")
    return None


def repo_kernel_files(repo):
    """Every file of the repo that must be claimed by some commit."""
    out = run(["git", "ls-files", "--cached", "--others", "--exclude-standard",
               "--", *KERNEL_DIRS, *REMAP.keys()], cwd=repo)
    files = set()
    for f in out.splitlines():
        if not f or f.endswith(NOT_IN_SERIES_SUFFIXES):
            continue
        if not os.path.isfile(os.path.join(repo, f)):
            continue        # deleted in the work tree, not yet committed
        if f.startswith("tools/") and not f.startswith(SERIES_TOOLS):
            continue
        files.add(f)
    return files


# tools/ directories that belong to the kernel series (user-space parts that the
# patchset ships); other tools/ content is harness-only.
SERIES_TOOLS = ("tools/lw-trace/", "tools/testing/selftests/xmem/", "tools/xmem/")


def parse_commit(path):
    hdr = {"Subject": None, "Patch": [], "Add": []}
    with open(path) as f:
        text = f.read()
    head, sep, body = text.partition("\n\n")
    if not sep:
        die(f"{path}: no blank line between header and message")
    for line in head.splitlines():
        key, colon, val = line.partition(":")
        if not colon or key not in hdr:
            die(f"{path}: bad header line {line!r}")
        if key == "Subject":
            hdr[key] = val.strip()
        else:
            hdr[key].extend(val.split())
    if not hdr["Subject"]:
        die(f"{path}: no Subject")
    body = body.strip() + "\n"
    sob = f"Signed-off-by: {IDENT_NAME} <{IDENT_EMAIL}>"
    if sob not in body:
        body += ("\n" if "Signed-off-by:" not in body else "") + sob + "\n"
    hdr["Body"] = body
    return hdr


def is_git(path):
    """A git work tree: .git is a directory, or a file (worktree, submodule)."""
    return os.path.isdir(path) and os.path.exists(os.path.join(path, ".git"))


def new_files(repo):
    """Kernel paths of the files added by patches/*.commit, in series order."""
    patchdir = os.path.join(repo, "patches")
    for name in sorted(f for f in os.listdir(patchdir) if f.endswith(".commit")):
        for f in parse_commit(os.path.join(patchdir, name))["Add"]:
            yield kernel_path(f)


def base_identity(base):
    if os.path.isdir(base):
        if is_git(base):
            head = run(["git", "rev-parse", "HEAD"], cwd=base)
            return f"git {os.path.abspath(base)} {head}"
        return f"dir {os.path.abspath(base)}"
    st = os.stat(base)
    return f"tar {os.path.abspath(base)} {st.st_size} {int(st.st_mtime)}"


def git_env(tree, date, index=None):
    env = dict(os.environ)
    env.update({
        "GIT_AUTHOR_NAME": IDENT_NAME, "GIT_AUTHOR_EMAIL": IDENT_EMAIL,
        "GIT_COMMITTER_NAME": IDENT_NAME, "GIT_COMMITTER_EMAIL": IDENT_EMAIL,
        "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date,
    })
    if index:
        env["GIT_INDEX_FILE"] = index
    return env


def kernel_version(tree):
    vals = {}
    with open(os.path.join(tree, "Makefile")) as f:
        for line in f:
            for key in ("VERSION", "PATCHLEVEL", "SUBLEVEL", "EXTRAVERSION"):
                if line.startswith(key + " ="):
                    vals[key] = line.split("=", 1)[1].strip()
            if len(vals) == 4:
                break
    return "{VERSION}.{PATCHLEVEL}.{SUBLEVEL}{EXTRAVERSION}".format(**vals)


def make_base(base, tree):
    """Create TREE as a git repository whose lw-base is the pristine base."""
    stamp = os.path.join(tree, ".git", "lw-base-source")
    ident = base_identity(base)
    if os.path.exists(stamp):
        with open(stamp) as f:
            if f.read().strip() == ident:
                return
        print(f"mktree: base changed, recreating {tree}")
    if os.path.exists(tree):
        shutil.rmtree(tree)
    tmp = tree + ".tmp"
    if os.path.exists(tmp):
        shutil.rmtree(tmp)
    parent = os.path.dirname(os.path.abspath(tree))
    os.makedirs(parent, exist_ok=True)
    # Files get the current time (tar --touch, a fresh copy): a new base must
    # look newer than every object built from an older one.
    if is_git(base):
        print(f"mktree: cloning {base}")
        run(["git", "-c", "gc.auto=0", "clone", "-q", "--shared", base, tmp])
        run(["git", "config", "gc.auto", "0"], cwd=tmp)
        run(["git", "tag", "-f", "lw-base", "HEAD"], cwd=tmp)
    else:
        os.makedirs(tmp)
        if os.path.isdir(base):
            print(f"mktree: copying {base}")
            run(["cp", "-r", base + "/.", tmp])
        else:
            print(f"mktree: extracting {base}")
            run(["tar", "-xf", base, "-C", tmp, "--strip-components=1", "--touch"])
        run(["git", "init", "-q"], cwd=tmp)
        run(["git", "config", "gc.auto", "0"], cwd=tmp)
        run(["git", "config", "core.autocrlf", "false"], cwd=tmp)
        run(["git", "add", "-A", "-f"], cwd=tmp)
        ver = kernel_version(tmp)
        env = git_env(tmp, "2000-01-01T00:00:00Z")
        run(["git", "-c", "commit.gpgsign=false", "commit", "-q", "--no-verify",
             "-m", f"Linux {ver}",
             "-m", f"Pristine base imported from {os.path.basename(base)}."],
            cwd=tmp, env=env)
        run(["git", "tag", "lw-base"], cwd=tmp)
    with open(os.path.join(tmp, ".git", "lw-base-source"), "w") as f:
        f.write(ident + "\n")
    os.rename(tmp, tree)


def build_commits(repo, tree, date):
    patchdir = os.path.join(repo, "patches")
    commits = sorted(f for f in os.listdir(patchdir) if f.endswith(".commit"))
    claimed = {}
    parent = run(["git", "rev-parse", "lw-base^{commit}"], cwd=tree)
    fd, index = tempfile.mkstemp(prefix="lw-index.", dir=os.path.join(tree, ".git"))
    os.close(fd)
    os.unlink(index)
    try:
        env = git_env(tree, date, index)
        run(["git", "read-tree", parent], cwd=tree, env=env)
        for name in commits:
            c = parse_commit(os.path.join(patchdir, name))
            for p in c["Patch"]:
                pf = os.path.join(patchdir, p)
                if not os.path.isfile(pf):
                    die(f"{name}: missing patch {p}")
                res = subprocess.run(["git", "apply", "--cached", "--whitespace=nowarn", pf],
                                     cwd=tree, env=env, text=True, capture_output=True)
                if res.returncode:
                    die(f"{name}: {p} does not apply:\n{res.stderr}")
            for f in c["Add"]:
                src = os.path.join(repo, f)
                if not os.path.isfile(src):
                    die(f"{name}: missing file {f}")
                if f in claimed:
                    die(f"{f} is added by both {claimed[f]} and {name}")
                claimed[f] = name
                mode = "100755" if os.access(src, os.X_OK) else "100644"
                sha = run(["git", "hash-object", "-w", "--no-filters", src], cwd=tree)
                run(["git", "update-index", "--add", "--cacheinfo",
                     f"{mode},{sha},{kernel_path(f)}"], cwd=tree, env=env)
            treeid = run(["git", "write-tree"], cwd=tree, env=env)
            parent = run(["git", "-c", "commit.gpgsign=false", "commit-tree", treeid,
                          "-p", parent, "-F", "-"],
                         cwd=tree, env=env, inp=f"{c['Subject']}\n\n{c['Body']}")
    finally:
        if os.path.exists(index):
            os.unlink(index)
    unclaimed = sorted(repo_kernel_files(repo) - set(claimed))
    if unclaimed:
        die("files not in any patches/*.commit: " + " ".join(unclaimed))
    return parent, len(commits)


def checkout(tree, tip, force):
    cur = subprocess.run(["git", "rev-parse", "-q", "--verify", "lw-mm"], cwd=tree,
                         text=True, capture_output=True).stdout.strip()
    dirty = run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=tree)
    if dirty and not force:
        die(f"{tree} has changes made by hand:\n{dirty}\n"
            "Carry them over (new files: edit them in the repository; upstream files:\n"
            f"git -C {tree} diff, into the right patches/*.diff), revert them,\n"
            "and run again, or run with FORCE=1 to discard them.")
    if cur == tip and not dirty:
        return False
    # Only files whose content differs are rewritten, so make sees only those.
    run(["git", "checkout", "-q", "-f", "-B", "lw-mm", tip], cwd=tree)
    return True


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--base", help="tarball, directory or git tree")
    ap.add_argument("--tree", help="patched tree to create/update")
    ap.add_argument("--list-new-files", action="store_true",
                    help="print the kernel paths of the files the series adds, and exit")
    ap.add_argument("--repo", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    ap.add_argument("--force", action="store_true",
                    help="discard changes made by hand in the tree")
    args = ap.parse_args()
    if args.list_new_files:
        for path in new_files(args.repo):
            print(path)
        return
    if not args.base or not args.tree:
        ap.error("--base and --tree are required")

    global IDENT_NAME, IDENT_EMAIL
    with open(os.path.join(args.repo, "patches", "AUTHOR")) as f:
        m = re.fullmatch(r"\s*([^<]+?)\s*<([^>]+)>\s*", f.read())
    if not m:
        die("patches/AUTHOR must hold one line: Name <email>")
    IDENT_NAME, IDENT_EMAIL = m.group(1), m.group(2)
    # Commit dates follow the repository's last commit, so ids are reproducible.
    last = subprocess.run(["git", "log", "-1", "--format=%cI"], cwd=args.repo,
                          text=True, capture_output=True).stdout.strip()
    date = os.environ.get("LW_DATE") or last or "2026-01-01T00:00:00Z"

    if not os.path.exists(args.base):
        die(f"base {args.base} does not exist")
    make_base(args.base, args.tree)
    tip, n = build_commits(args.repo, args.tree, date)
    changed = checkout(args.tree, tip, args.force)
    print(f"mktree: {args.tree} at lw-mm {tip[:12]} ({n} patches on lw-base)"
          + ("" if changed else ", unchanged"))


if __name__ == "__main__":
    main()
