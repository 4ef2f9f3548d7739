#!/usr/bin/env python3
"""Package.swift's dependency lists against the imports: fails when a target imports a module
of this package or of a package dependency that it does not declare (it compiles only because
something else pulled the module in), or declares one that none of its files imports.

Reads `swift package dump-package` (the manifest as SwiftPM evaluates it) and every target's
Swift files. Platform modules (Foundation, Glibc, Testing, ...) are not declared and not checked.
Exceptions live in ALLOWED_UNUSED below, each with its reason.

Usage: scripts/check-deps.py [dump.json]      (exit 1 on any mismatch)
"""
import json, os, re, subprocess, sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PLATFORM = {"Foundation", "FoundationEssentials", "FoundationNetworking", "Glibc", "Musl", "Darwin", "Dispatch",
            "Synchronization", "Testing", "XCTest", "os", "_Concurrency", "Android", "WinSDK", "ucrt"}
# A product whose module name differs from the product's.
PRODUCT_MODULES = {"Collections": {"OrderedCollections", "DequeModule", "HeapModule"}}
# Declared but never imported, on purpose: linked for what it does at link or run time.
ALLOWED_UNUSED = {
    # The --wrap forwarders (Runtime/CGlibcCompat) are linked into every Lambda executable, never imported.
    "CGlibcCompat": "linked for its __wrap_ symbols",
}
IMPORT = re.compile(r"^\s*(?:@[\w()]+\s+)*import\s+(?:(?:struct|class|enum|protocol|func|var|let|typealias)\s+)?([A-Za-z_][\w]*)", re.M)


def dump():
    if len(sys.argv) > 1:
        return json.load(open(sys.argv[1]))
    out = subprocess.run(["swift", "package", "dump-package"], cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def declared(target):
    names = set()
    for dep in target["dependencies"]:
        kind, value = next(iter(dep.items()))
        name = value[0]
        names |= PRODUCT_MODULES.get(name, {name}) if kind == "product" else {name}
    return names


def imports(path):
    found = set()
    for folder, _, files in os.walk(os.path.join(ROOT, path)):
        for name in files:
            if name.endswith(".swift"):
                text = open(os.path.join(folder, name), encoding="utf-8").read()
                # Multi-line string literals (Python scripts, templates in tests) are not imports.
                text = re.sub(r'#*""".*?"""#*', "", text, flags=re.S)
                found |= set(IMPORT.findall(text))
    return found


def main():
    package = dump()
    own = {t["name"] for t in package["targets"]}
    external = set()
    for t in package["targets"]:
        for dep in t["dependencies"]:
            kind, value = next(iter(dep.items()))
            if kind == "product":
                external |= PRODUCT_MODULES.get(value[0], {value[0]})
    problems = []
    for t in package["targets"]:
        if t["type"] in ("system", "binary", "plugin"):
            continue
        path = t.get("path") or os.path.join("Tests" if t["type"] == "test" else "Sources", t["name"])
        used = imports(path) - PLATFORM - {t["name"]}
        has = declared(t)
        # Only modules this package can name: its own targets and its dependencies' products.
        missing = sorted(m for m in used - has if m in own or m in external)
        unused = sorted(m for m in has - used if m not in ALLOWED_UNUSED)
        unknown = sorted(m for m in used - has if m not in own and m not in external)
        for m in missing:
            problems.append(f"{t['name']} ({path}) imports {m} but does not declare it")
        for m in unused:
            problems.append(f"{t['name']} ({path}) declares {m} but no file imports it")
        for m in unknown:
            problems.append(f"{t['name']} ({path}) imports {m}, which is neither a target nor a declared product")
    if problems:
        print("check-deps: Package.swift and the imports disagree:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 1
    print(f"check-deps: {sum(1 for t in package['targets'] if t['type'] not in ('system', 'binary', 'plugin'))} targets, "
          "every import declared and every declaration imported")
    return 0


if __name__ == "__main__":
    sys.exit(main())
