"""Keeps #includes in line with the layering of docs/ARCHITECTURE.md:
a folder may include only itself and the folders below it. Test-only code
(a folder's testing/ subfolder, its *_test.cc files, and the C++ test
folders under tests/) is checked too, and production code may not include a
testing/ header."""
import os
import re
import sys

# Each folder and what it may include (besides itself and the standard and
# third-party headers).
ALLOWED = {
    "base": set(),
    "platform": {"base"},
    "db": {"base", "platform"},
    "events": {"base"},
    "worker": {"base"},
    "crypto": {"base"},
    "schema": {"base"},
    "web": {"base", "schema"},
    "auth": {"base", "platform"},
    "store": {"base", "platform", "db"},
    "net": {"base", "platform", "crypto"},
    "pairing": {"base", "events", "crypto", "schema", "auth"},
    "provision": {"base", "platform", "crypto", "pairing"},
    "app": {"base", "platform", "events", "schema"},
    "sdk": set(),
    "api": {"base", "platform", "events", "worker", "web", "crypto", "schema",
            "auth", "store", "pairing", "provision", "app"},
    "client": {"base", "platform", "web", "crypto", "schema", "pairing"},
    "daemon": {"base", "platform", "events", "worker", "web", "crypto", "schema",
               "auth", "store", "pairing", "provision", "app", "api"},
    "cli": {"base", "platform", "web", "crypto", "schema", "pairing", "provision",
            "client"},
}
# C++ test folders under tests/ and what they may include. They sit above
# every layer they name: tests/client runs the owner's client against the
# device's own server, which no folder under src/ may see together.
TEST_FOLDERS = {
    "client": {"base", "platform", "events", "web", "crypto", "schema", "auth",
               "store", "pairing", "provision", "app", "api", "client"},
}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([a-z_]+)/([a-z_]+/)?')


def is_test_only(relpath):
    parts = relpath.split(os.sep)
    return "testing" in parts[:-1] or parts[-1].endswith("_test.cc")


def check_folder(root, path, allowed, bad):
    for dirpath, _, files in os.walk(path):
        for name in files:
            if not name.endswith((".h", ".cc")):
                continue
            file = os.path.join(dirpath, name)
            rel = os.path.relpath(file, root)
            test_only = is_test_only(os.path.relpath(file, path)) or \
                rel.startswith("tests" + os.sep)
            with open(file, encoding="utf-8") as f:
                for n, line in enumerate(f, 1):
                    m = INCLUDE.match(line)
                    if not m or m.group(1) not in ALLOWED:
                        continue
                    if m.group(1) not in allowed:
                        bad.append("%s:%d includes %s/, above its layer"
                                   % (rel, n, m.group(1)))
                    elif m.group(2) == "testing/" and not test_only:
                        bad.append("%s:%d includes test-only %s/testing/"
                                   % (rel, n, m.group(1)))


def main(root):
    bad = []
    src = os.path.join(root, "src")
    for folder in sorted(os.listdir(src)):
        path = os.path.join(src, folder)
        if not os.path.isdir(path):
            continue
        if folder not in ALLOWED:
            bad.append("%s: folder missing from the layer table" % folder)
            continue
        check_folder(root, path, ALLOWED[folder] | {folder, "warden"}, bad)
    for folder, allowed in sorted(TEST_FOLDERS.items()):
        path = os.path.join(root, "tests", folder)
        if os.path.isdir(path):
            check_folder(root, path, allowed, bad)
    # The public SDK headers must not reach into src/.
    inc = os.path.join(root, "include", "warden")
    for name in os.listdir(inc) if os.path.isdir(inc) else []:
        with open(os.path.join(inc, name), encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                m = INCLUDE.match(line)
                if m and m.group(1) in ALLOWED:
                    bad.append("include/warden/%s:%d includes %s/" %
                               (name, n, m.group(1)))
    for b in bad:
        print(b)
    print("layering: %d violations" % len(bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
