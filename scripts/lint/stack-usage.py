#!/usr/bin/env python3
"""Worst stack use of every HTTP request path, from GCC's call graphs (-fcallgraph-info=su,da: one .ci file per
object, with each function's frame and its direct calls), checked against CivetWeb's worker stack (102,400 bytes
in Debian's build, measured with pthread_getattr_np in a handler).

Each request starts in http_api_handler (or CivetWeb's error callback) and reaches one route handler (h_*) through
the route table. The worst chain is the largest sum of frames along direct calls from the entry through
dispatch to a handler and down. Indirect calls are resolved by name where the project makes them: the route
table (every h_*), the row callbacks of the database helpers (*_row, fill_*), qsort comparators (cmp*). Work run
by util_run_with_stack (imports) runs on its own 16 MiB thread and is cut there. Library code (libc, SQLite,
jansson, OpenSSL, libarchive, CivetWeb) has no call graph here: LIBRARY_ALLOWANCE bytes are kept for it.
Recursion inside the project, a dynamic frame (VLA, alloca) or an unresolved indirect call on a request path
fails the check, as does a worst chain above the budget.

    scripts/lint/stack-usage.py BUILD_DIR_WITH_CI_FILES [--show N]
"""
import argparse
import collections
import os
import re
import sys

CIVETWEB_STACK = 102400
LIBRARY_ALLOWANCE = 48 * 1024
ENTRIES = ["http_api_handler", "on_http_error"]
OWN_STACK = {"util_run_with_stack"}  # runs its function on a thread of its own
# Recursion the project allows, with its depth bound: def.c walks its static key table (top level, an object or
# a list of objects, their keys), never the data.
BOUNDED_RECURSION = {"walk": 3, "set_field": 3}
# Indirect calls, by the function making them: which functions they may reach (a name pattern).
INDIRECT = [
    (r"^dispatch$", r"^h_\w+$"),                                    # the route table
    (r"^(dbi_rows|dbi_row|export_reply)$", r"^(fill_\w+|\w+_row)$"),  # database row callbacks
    (r"^db_submission_insert$", r"^commit_upload$"),                # the upload's commit hook
    (r"^dbi_memo_record$", r"^read_(session|token|role)$"),         # records read on a memo's miss
    (r"sort", r"^cmp\w*$"),                                         # qsort comparators
]

NODE = re.compile(r'node: \{ title: "([^"]+)" label: "([^"]*)"')
EDGE = re.compile(r'edge: \{ sourcename: "([^"]+)" targetname: "([^"]+)"')


def short(name):
    return name.rsplit(":", 1)[-1]


def load(build):
    frames, dynamic, edges, defined = {}, set(), collections.defaultdict(set), set()
    for root, _, files in os.walk(build):
        for f in files:
            if not f.endswith(".ci") or "/opt-" in root:
                continue
            text = open(os.path.join(root, f), encoding="utf-8", errors="replace").read()
            for title, label in NODE.findall(text):
                m = re.search(r"\\n(\d+) bytes \((static|dynamic[^)]*)\)", label)
                if m:
                    frames[title] = int(m.group(1))
                    defined.add(title)
                    if m.group(2) == "dynamic":  # "dynamic,bounded" frames have a known bound: the size shown
                        dynamic.add(title)
                    d = re.search(r"\\n(\d+) dynamic objects", label)
                    if d and int(d.group(1)) > 0:
                        dynamic.add(title)
            for src, dst in EDGE.findall(text):
                edges[src].add(dst)
    # an external node (declared in one file, defined in another) resolves by its plain name
    by_name = collections.defaultdict(list)
    for t in defined:
        by_name[short(t)].append(t)
    return frames, dynamic, edges, by_name


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--show", type=int, default=5)
    args = ap.parse_args()
    frames, dynamic, edges, by_name = load(args.build)
    if not frames:
        print("no .ci files under %s: configure with -DCONCOURS_STACK_INFO=ON" % args.build)
        print("0 passed, 1 failed")
        return 1
    def reachable_by(caller):
        for who, what in INDIRECT:
            if re.search(who, short(caller)):
                return [t for t in frames if re.match(what, short(t)) and not short(t).startswith("dbi_")]
        return None

    handlers = [t for t in frames if short(t).startswith("h_")]

    def targets(node):
        out = []
        for dst in edges.get(node, ()):
            if dst == "__indirect_call":
                out.append("__indirect_call")
            elif dst in frames:
                out.append(dst)
            else:
                out.extend(by_name.get(short(dst), []))  # defined in another object; [] for library code
        return out

    problems = []
    memo = {}

    def worst(node, stack):
        """(bytes, chain) of the deepest path from NODE."""
        if node in memo:
            return memo[node]
        if node in stack:
            cycle = stack[stack.index(node):]
            if all(short(n) in BOUNDED_RECURSION for n in cycle):
                depth = min(BOUNDED_RECURSION[short(n)] for n in cycle)
                return sum(frames.get(n, 0) for n in cycle) * (depth - 1), [node]
            problems.append("recursion on a request path: " + " -> ".join(short(n) for n in stack + [node]))
            return 0, [node]
        if node in dynamic:
            problems.append("unbounded stack frame (VLA or alloca) on a request path: " + short(node))
        best, chain = 0, []
        if short(node) not in OWN_STACK:
            for t in targets(node):
                if t == "__indirect_call":
                    group = reachable_by(node)
                    if group is None:
                        problems.append("unresolved indirect call in " + short(node))
                        continue
                    for g in group:
                        b, c = worst(g, stack + [node])
                        if b > best:
                            best, chain = b, c
                    continue
                b, c = worst(t, stack + [node])
                if b > best:
                    best, chain = b, c
        result = (frames.get(node, 0) + best, [node] + chain)
        if not any(short(n) in BOUNDED_RECURSION for n in stack):
            memo[node] = result  # a result inside a bounded cycle depends on the path: not cached
        return result

    results = []
    for e in ENTRIES:
        for node in by_name.get(e, []):
            results.append(worst(node, []))
    if not results:
        problems.append("no entry point found (%s)" % ", ".join(ENTRIES))
    total, chain = max(results) if results else (0, [])
    budget = CIVETWEB_STACK - LIBRARY_ALLOWANCE
    print("worst request path: %d bytes of project frames (+ %d kept for library code) of CivetWeb's %d-byte "
          "stack:" % (total, LIBRARY_ALLOWANCE, CIVETWEB_STACK))
    for n in chain:
        print("  %6d  %s" % (frames.get(n, 0), short(n)))
    ranked = sorted(((worst(h, [])[0], short(h)) for h in handlers), reverse=True)[: args.show]
    print("deepest handlers: " + ", ".join("%s %d" % (n, b) for b, n in ranked))
    if total > budget:
        problems.append("the worst request path needs %d bytes, over the budget of %d" % (total, budget))
    for p in sorted(set(problems)):
        print("problem: " + p)
    print("%d passed, %d failed" % (0 if problems else 1, 1 if problems else 0))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
