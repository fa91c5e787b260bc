"""Keeps #includes in line with the layering of docs/ARCHITECTURE.md:
a folder may include only itself and the folders below it."""
import os
import re
import sys

# Each folder and what it may include (besides itself and the standard and
# third-party headers).
ALLOWED = {
    "base": set(),
    "platform": {"base"},
    "events": {"base"},
    "worker": {"base"},
    "crypto": {"base"},
    "schema": {"base"},
    "web": {"base", "schema"},
    "auth": {"base", "platform"},
    "store": {"base", "platform"},
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
INCLUDE = re.compile(r'^\s*#\s*include\s+"([a-z_]+)/')


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
        allowed = ALLOWED[folder] | {folder, "warden"}
        for dirpath, _, files in os.walk(path):
            for name in files:
                if not name.endswith((".h", ".cc")):
                    continue
                file = os.path.join(dirpath, name)
                with open(file, encoding="utf-8") as f:
                    for n, line in enumerate(f, 1):
                        m = INCLUDE.match(line)
                        if m and m.group(1) in ALLOWED and \
                                m.group(1) not in allowed:
                            bad.append("%s:%d includes %s/, above its layer"
                                       % (os.path.relpath(file, root), n,
                                          m.group(1)))
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
