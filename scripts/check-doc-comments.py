#!/usr/bin/env python3
"""Lists public declarations in Sources/ without a `///` doc comment (DocC). Exit status 1 if any.

A declaration counts as documented when the line above it (skipping attributes such as @inlinable and
blank-free comment continuation) is a `///` line. Enum cases in a `case a, b` list and members of
protocol conformances that restate a documented requirement (`description`, `callAsFunction` of Module,
…) are exempt only when listed in EXEMPT below; everything else needs its own comment.
usage: scripts/check-doc-comments.py [--list]
"""
import os
import re
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Sources")
DECL = re.compile(r"^\s*(?:@\w+(?:\([^)]*\))?\s+)*(?:public|open)\s+(?:(?:static|final|override|convenience|required|mutating|nonmutating|indirect|nonisolated(?:\(unsafe\))?)\s+)*(func|var|let|init|subscript|class|struct|enum|protocol|typealias|case|actor|extension)\b")
# Protocol requirements restated by conformers: the protocol documents them.
EXEMPT = re.compile(r"public (var description: String|func callAsFunction\(_ input: Tensor\) throws -> Tensor|"
                    r"var children|var ownParameters|func applySingle|var state: \[String: Tensor\]|func restore\(state:|"
                    r"func learningRate\(atStep|func (fitStart|epochStart|batchStart|afterBackward|batchEnd|epochEnd|fitEnd|activity)\(|"
                    r"var stateKey|func saveState|func restoreState|func transform\(|static func == |func hash\(into|"
                    r"func encode\(to|init\(from decoder|func start\(shape|func direction\(|func project\(|var learningRate: Float|"
                    r"extension )")


def undocumented():
    missing = []
    for folder, _, files in os.walk(ROOT):
        for name in sorted(files):
            if not name.endswith(".swift"):
                continue
            path = os.path.join(folder, name)
            lines = open(path, encoding="utf-8").read().split("\n")
            for i, line in enumerate(lines):
                if not DECL.match(line) or EXEMPT.search(line):
                    continue
                j = i - 1
                while j >= 0 and re.match(r"^\s*@\w+", lines[j]):
                    j -= 1
                if j >= 0 and lines[j].strip().startswith("///"):
                    continue
                # A `case` directly after another documented or undocumented case in a list of simple cases
                # inherits its enum's documentation only when the enum says what the cases are.
                missing.append(f"{os.path.relpath(path, os.path.join(ROOT, '..'))}:{i + 1}: {line.strip()}")
    return missing


if __name__ == "__main__":
    found = undocumented()
    if "--list" in sys.argv or found:
        print("\n".join(found))
    print(f"{len(found)} public declarations without a /// comment", file=sys.stderr)
    sys.exit(1 if found else 0)
