#!/usr/bin/env python3
"""Count the text fields (String, Option<String>, Vec<String>) of the clap structs in src/cli*
that code outside src/cli* still names: text the verbs would have to parse themselves. The goal
is 0: the command line converts text into typed options once, in cli/.

    contrib/dev/clap-strings.py [SRC_DIR]     (default: src)
"""
import os
import re
import sys

src = sys.argv[1] if len(sys.argv) > 1 else "src"
cli_files, other_files = [], []
for root, _, files in os.walk(src):
    for f in files:
        if f.endswith(".rs"):
            path = os.path.join(root, f)
            rel = os.path.relpath(path, src)
            (cli_files if rel == "cli.rs" or rel.startswith("cli/") else other_files).append(path)

structs = {}  # name -> [text fields]
for path in cli_files:
    text = open(path, encoding="utf-8").read()
    for m in re.finditer(r"pub struct (\w+)\s*\{(.*?)\n\}", text, re.S):
        name, body = m.groups()
        derives = re.findall(r"#\[derive\(([^)]*)\)\]", text[: m.start()])
        if not derives or not re.search(r"\b(Args|Parser)\b", derives[-1]):
            continue
        fields = re.findall(r"pub (\w+):\s*(String|Option<String>|Vec<String>)\s*,", body)
        structs[name] = [f for f, _ in fields]

outside = "\n".join(open(p, encoding="utf-8").read() for p in other_files)
total = 0
for name in sorted(structs):
    if structs[name] and re.search(rf"\b{name}\b", outside):
        print(f"{name}: {', '.join(structs[name])}")
        total += len(structs[name])
print(f"{total} text fields in clap structs used outside cli/")
