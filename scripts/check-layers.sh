#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The module's layers, checked. A file's layer is its folder; from the top:
#
#   bind > drm > host > vmbus > sys
#
# and dxg_main.rs, the crate root, is above them all. A file may use its
# own layer and the layers below it; `crate::proto` (the protocol module)
# and the crate root's own items (`crate::GuidText`, `crate::MODULE_NAME`,
# `crate::module_parameters`, ...) may be used from any layer.
#
# Lists every `crate::<x>` reference (`use crate::...`, grouped
# `use crate::{...}`, and paths in code) of every .rs file of the module,
# per file with its line, then names each reference that points up the
# stack as FILE:LINE: FROM -> TO. Comments are not references. proto/,
# uapi/ and tests/ are userspace crates and not checked; neither are
# generated files.
#
# Usage: scripts/check-layers.sh [-q]    (-q: only the upward references)
# Exit status: 0 if no reference points up, 1 otherwise (also for a .rs
# file outside the layer folders), 2 on a usage error.
set -u
quiet=0
case "${1:-}" in
-q) quiet=1 ;;
"") ;;
*) echo "usage: $0 [-q]" >&2; exit 2 ;;
esac
cd "$(dirname "$0")/.." || exit 2
exec python3 - "$quiet" <<'PY'
import os, re, sys

quiet = sys.argv[1] == "1"
ORDER = ["sys", "vmbus", "host", "drm", "bind"]  # bottom to top
RANK = {name: i for i, name in enumerate(ORDER)}
ROOT = "dxg_main.rs"
# A char literal (not a lifetime).
CHAR = re.compile(r"'(?:\\(?:x[0-9a-fA-F]{2}|u\{[0-9a-fA-F]+\}|.)|[^\\'\n])'")

def strip_comments(text):
    """`text` with // and /* */ comments and the insides of string and
    char literals blanked (newlines kept), so that offsets still give the
    right line numbers: neither holds a reference."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif text.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append('"' + re.sub(r"[^\n]", " ", text[i + 1:j]) + '"')
            i = j + 1
        elif c == "'" and CHAR.match(text, i):
            j = CHAR.match(text, i).end()
            out.append(" " * (j - i))
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)

def group_items(text, start):
    """The first path segment of each item of the `{...}` group that opens
    at `text[start]`, with its offset."""
    items, depth, i, expect = [], 0, start, True
    while i < len(text):
        c = text[i]
        if c == "{":
            depth += 1
            expect = depth == 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                break
        elif c == "," and depth == 1:
            expect = True
        elif expect and depth == 1 and (c.isalpha() or c == "_"):
            m = re.match(r"[A-Za-z_][A-Za-z0-9_]*", text[i:])
            items.append((m.group(0), i))
            expect = False
            i += len(m.group(0))
            continue
        i += 1
    return items

def references(text):
    """(offset, first segment, the path as written) of every crate:: use."""
    refs = []
    for m in re.finditer(r"(?<![A-Za-z0-9_$])crate::", text):
        j = m.end()
        if text.startswith("{", j):
            for name, off in group_items(text, j):
                tail = re.match(r"[A-Za-z0-9_:]*", text[off:]).group(0)
                if text.startswith("{", off + len(tail)):
                    tail += "{..}"
                refs.append((off, name, "crate::{" + tail.rstrip(":") + "}"))
        else:
            path = re.match(r"[A-Za-z0-9_:]*", text[j:]).group(0)
            shown = path + "{..}" if text.startswith("{", j + len(path)) else path.rstrip(":")
            refs.append((m.start(), path.split("::")[0], "crate::" + shown))
    return refs

def layer_of(path):
    top = path.split("/")[0]
    if path == ROOT:
        return "root"
    return top if top in RANK and "/" in path else None

def target_of(name):
    if name in RANK:
        return name
    return "proto" if name == "proto" else "root"

files = [ROOT]
for top in ORDER:
    for d, _, names in os.walk(top):
        files += [os.path.join(d, f) for f in names
                  if f.endswith(".rs") and not f.endswith("_generated.rs")]
strays = [f for f in os.listdir(".") if f.endswith(".rs") and f != ROOT]

upward, total = [], 0
for path in sorted(files):
    src = layer_of(path)
    text = strip_comments(open(path, encoding="utf-8").read())
    refs = references(text)
    total += len(refs)
    if not quiet:
        print(f"{path} [{src}]")
    for off, name, written in refs:
        line = text.count("\n", 0, off) + 1
        dst = target_of(name)
        if not quiet:
            print(f"  {line:5d}  {dst:6s} {written}")
        if src != "root" and dst in RANK and RANK[dst] > RANK[src]:
            upward.append(f"{path}:{line}: {src} -> {dst} ({written}): "
                          f"points up the stack")

for f in sorted(strays):
    upward.append(f"{f}: a .rs file outside the layer folders "
                  f"({', '.join(ORDER[::-1])}) and not the crate root")
for u in upward:
    print(f"check-layers: {u}")
print(f"check-layers: {len(files)} files, {total} crate:: references, "
      f"{len(upward)} upward; order {' > '.join(ORDER[::-1])}")
sys.exit(1 if upward else 0)
PY
