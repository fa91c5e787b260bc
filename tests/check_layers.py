"""Keeps the code in line with the one layer table, the one in
docs/ARCHITECTURE.md between the "layers" markers:

- every #include of a Warden header reaches only the including folder's own
  layer or one the table lets it use;
- every Warden library a CMake target links belongs to such a layer, and
  test-only libraries (a folder's testing/ subfolder) are linked only by
  tests, fuzz targets and other test-only code;
- production code includes no testing/ header;
- errno is read only in platform/ (and in the standalone sdk/, which uses
  no other Warden library): everywhere else a failure is a Status;
- the diagram in the same document (between the "diagram" markers) is the
  one this script draws from the table (`check_layers.py ROOT --draw`).

Test-only code (a folder's testing/ subfolder, its *_test.cc files, and the
C++ test folders under tests/) is checked like its folder."""
import os
import re
import sys

DOC = os.path.join("docs", "ARCHITECTURE.md")
INCLUDE = re.compile(r'^\s*#\s*include\s+"([a-z_]+)/([a-z_]+/)?')
ROW = re.compile(r"^\|\s*`([a-z_/]+)`\s*\|\s*([^|]*)\|")
# C++ test folders under tests/ and what they may use. They sit above every
# layer they name: tests/client runs the owner's client against the device's
# own server, which no folder under src/ may see together.
TEST_FOLDERS = {"client": {"api", "client", "cli"}}


def between(text, name):
    m = re.search(r"<!-- %s: begin -->\n(.*?)<!-- %s: end -->" % (name, name),
                  text, re.S)
    if not m:
        raise SystemExit("%s: no <!-- %s: begin/end --> block" % (DOC, name))
    return m.group(1)


def read_table(root):
    """{folder: set of folders it may use}, from the document's table."""
    text = open(os.path.join(root, DOC), encoding="utf-8").read()
    table = {}
    for line in between(text, "layers").splitlines():
        m = ROW.match(line)
        if not m or m.group(1) == "folder":
            continue
        uses = {u.strip().strip("`").rstrip("/")
                for u in m.group(2).split(",") if u.strip() not in ("", "-")}
        table[m.group(1).rstrip("/")] = uses
    return table, text


def closure(table, folder, seen=None):
    """What `folder` may use: its own entries and everything they may use."""
    out = set()
    for used in table.get(folder, ()):
        if used not in out:
            out.add(used)
            out |= closure(table, used)
    return out


def ranks(table):
    """Each folder's height: 0 for what uses nothing, else one above the
    highest folder it uses."""
    memo = {}

    def rank(f):
        if f not in memo:
            memo[f] = 1 + max((rank(u) for u in table[f]), default=-1)
        return memo[f]
    return {f: rank(f) for f in table}


def draw(table):
    by_rank = {}
    for f, r in ranks(table).items():
        by_rank.setdefault(r, []).append(f + "/")
    lines = ["```"]
    for r in sorted(by_rank, reverse=True):
        lines.append(("%d  " % r) + "  ".join(sorted(by_rank[r])))
    lines.append("```")
    return "\n".join(lines) + "\n"


def is_test_only(relpath):
    parts = relpath.split(os.sep)
    return "testing" in parts[:-1] or parts[-1].endswith("_test.cc")


def check_includes(root, path, allowed, known, bad):
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
                    if not m or m.group(1) not in known:
                        continue
                    if m.group(1) not in allowed:
                        bad.append("%s:%d includes %s/, above its layer"
                                   % (rel, n, m.group(1)))
                    elif m.group(2) == "testing/" and not test_only:
                        bad.append("%s:%d includes test-only %s/testing/"
                                   % (rel, n, m.group(1)))


COMMAND = re.compile(r"\b(warden_library|warden_test|warden_fuzz|"
                     r"add_executable|target_link_libraries)\s*\(([^)]*)\)",
                     re.S)


def cmake_targets(root):
    """[(file, folder, kind, name, [warden deps], test_only)] for every
    target declared or linked under src/ and tests/client/."""
    out = []
    places = [("src", f) for f in sorted(os.listdir(os.path.join(root, "src")))]
    places += [("tests", f) for f in TEST_FOLDERS]
    for top, folder in places:
        base = os.path.join(root, top, folder)
        for dirpath, _, files in os.walk(base):
            if "CMakeLists.txt" not in files:
                continue
            file = os.path.join(dirpath, "CMakeLists.txt")
            testing_dir = "testing" in os.path.relpath(dirpath, base).split(
                os.sep)
            text = re.sub(r"#[^\n]*", "", open(file, encoding="utf-8").read())
            for kind, args in COMMAND.findall(text):
                words = args.split()
                if not words:
                    continue
                name = words[0]
                deps = [w for w in words[1:] if w.startswith("warden_") and
                        w != "warden_options"]
                test_only = (top == "tests" or testing_dir or
                             kind in ("warden_test", "warden_fuzz") or
                             name.endswith("_testing"))
                out.append((os.path.relpath(file, root), folder, kind, name,
                            deps, test_only))
    return out


def check_cmake(root, table, bad):
    targets = cmake_targets(root)
    owner = {}       # library -> folder
    testing = set()  # test-only libraries
    for file, folder, kind, name, deps, test_only in targets:
        if kind == "warden_library":
            owner[name] = folder
            if test_only:
                testing.add(name)
    # Executables declared with add_executable take their test-only mark
    # from their use: test helpers are built only when tests are.
    for file, folder, kind, name, deps, test_only in targets:
        if file.startswith("tests"):
            allowed = closure(table, folder) | TEST_FOLDERS[folder]
            allowed |= set().union(*(closure(table, f) for f in
                                     TEST_FOLDERS[folder]))
        else:
            allowed = closure(table, folder) | {folder}
        exe_test = kind in ("add_executable", "target_link_libraries") and \
            (name.endswith("_test") or name.startswith("fuzz_") or
             "test" in name)
        for dep in deps:
            if dep not in owner:
                continue
            if owner[dep] not in allowed:
                bad.append("%s: %s links %s (%s/), above its layer"
                           % (file, name, dep, owner[dep]))
            elif dep in testing and not (test_only or exe_test or
                                         name in testing):
                bad.append("%s: %s links the test-only %s"
                           % (file, name, dep))


ERRNO = re.compile(r"\berrno\b")
ERRNO_FOLDERS = {"platform", "sdk"}


def check_errno(root, bad):
    src = os.path.join(root, "src")
    for folder in sorted(os.listdir(src)):
        if folder in ERRNO_FOLDERS:
            continue
        path = os.path.join(src, folder)
        for dirpath, _, files in os.walk(path):
            for name in files:
                rel = os.path.relpath(os.path.join(dirpath, name), path)
                if not name.endswith((".h", ".cc")) or is_test_only(rel) or \
                        "_test" in name:
                    continue
                file = os.path.join(dirpath, name)
                with open(file, encoding="utf-8") as f:
                    for n, line in enumerate(f, 1):
                        code = line.split("//")[0]
                        if ERRNO.search(code):
                            bad.append("%s:%d reads errno outside platform/"
                                       % (os.path.relpath(file, root), n))


def main(root, draw_only=False):
    table, text = read_table(root)
    if draw_only:
        sys.stdout.write(draw(table))
        return 0
    bad = []
    for folder, uses in table.items():
        for u in uses - set(table):
            bad.append("%s: %s uses %s/, which the table does not have"
                       % (DOC, folder, u))
    src = os.path.join(root, "src")
    for folder in sorted(os.listdir(src)):
        path = os.path.join(src, folder)
        if not os.path.isdir(path):
            continue
        if folder not in table:
            bad.append("%s: folder missing from the layer table" % folder)
            continue
        check_includes(root, path, closure(table, folder) | {folder, "warden"},
                       set(table), bad)
    for folder, extra in sorted(TEST_FOLDERS.items()):
        path = os.path.join(root, "tests", folder)
        allowed = set(extra)
        for f in extra:
            allowed |= closure(table, f)
        if os.path.isdir(path):
            check_includes(root, path, allowed, set(table), bad)
    # The public SDK headers must not reach into src/.
    inc = os.path.join(root, "include", "warden")
    for name in os.listdir(inc) if os.path.isdir(inc) else []:
        with open(os.path.join(inc, name), encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                m = INCLUDE.match(line)
                if m and m.group(1) in table:
                    bad.append("include/warden/%s:%d includes %s/" %
                               (name, n, m.group(1)))
    check_cmake(root, table, bad)
    check_errno(root, bad)
    if between(text, "diagram") != draw(table):
        bad.append("%s: the diagram differs from the table; replace it with "
                   "the output of tests/check_layers.py . --draw" % DOC)
    for b in bad:
        print(b)
    print("layering: %d violations" % len(bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], "--draw" in sys.argv[2:]))
