"""bench/probe/report.py: score portscope's and nmap's answers per endpoint (protocol, product,
version, TLS, auth) against the manifest bench/probe.sh wrote, print the table and the targets,
optionally write JSON. Arguments: MANIFEST WORK PS_MS PS_RSS_KIB NMAP_MS NMAP_RSS_KIB PS_NOTE
NMAP_NOTE OUT_JSON (empty strings for what did not run)."""
import json
import os
import re
import sys
import xml.etree.ElementTree as ET

(manifest, work, ps_ms, ps_rss, nmap_ms, nmap_rss, ps_note, nmap_note, out_json) = sys.argv[1:10]
FIELDS = ("name", "target", "family", "port", "l4", "protocol", "product", "version", "tls",
          "auth", "what")
rows = [dict(zip(FIELDS, l.rstrip("\n").split("\t"))) for l in open(manifest) if l.strip()]
notes = [n for n in (ps_note, nmap_note) if n]


def answer(protocol, product, version, tls, auth, confident, said):
    return {"protocol": protocol, "product": product, "version": version, "tls": tls,
            "auth": auth, "confident": confident, "said": said}


# portscope: target -> answer
ps = {}
ps_file = os.path.join(work, "portscope.json")
if ps_ms and os.path.exists(ps_file):
    try:
        for r in json.load(open(ps_file)).get("results", []):
            ident = r.get("identification") or {}
            tls = bool(r.get("tls"))
            named = ident and ident.get("confidence") != "unknown"
            words = " ".join(w for w in (ident.get("protocol"), ident.get("product"),
                                         ident.get("version")) if w) if named else ""
            if named and ident.get("auth"):
                words += " auth " + ident["auth"].replace("_", " ")
            if tls:
                words += " [%s]" % ((r.get("tls") or {}).get("version") or "tls")
            said = words.strip() or "%s, unidentified" % r.get("state")
            if r.get("elapsed_ms") is not None:
                said += " (%.0f ms)" % r["elapsed_ms"]
            ps[r.get("target")] = answer(
                ident.get("protocol") if named else None, ident.get("product") if named else None,
                ident.get("version") if named else None, tls,
                ident.get("auth") if named else None,
                named and ident.get("confidence") == "certain", said)
    except ValueError as e:
        notes.append("bad JSON from portscope: %s" % e)

# nmap: (family, l4, port) -> answer
nm = {}
for fam in ("4", "6"):
    path = os.path.join(work, "nmap%s.xml" % fam)
    if not (nmap_ms and os.path.exists(path)):
        continue
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as e:
        notes.append("bad XML from nmap (IPv%s): %s" % (fam, e))
        continue
    for port in root.iter("port"):
        key = (fam, port.get("protocol"), port.get("portid"))
        state = port.find("state").get("state")
        svc = port.find("service")
        if svc is None:
            nm[key] = answer(None, None, None, False, None, False, state)
            continue
        name = svc.get("name", "")
        tunnel = svc.get("tunnel") == "ssl"
        full = ("ssl/" if tunnel else "") + name
        words = " ".join(x for x in (full, svc.get("product"), svc.get("version"),
                                     svc.get("extrainfo")) if x)
        probed = svc.get("method") == "probed" and name not in ("unknown", "tcpwrapped")
        if not probed:
            nm[key] = answer(None, None, None, tunnel, None, False, "%s (guess: %s)" % (state, words))
            continue
        extra = svc.get("extrainfo") or ""
        auth = "required" if re.search(r"auth(entication)? required|password", extra, re.I) else None
        nm[key] = answer(full, svc.get("product"), svc.get("version"), tunnel or name in ("https", "ssl"),
                         auth, svc.get("conf") == "10", words)


def score(row, a):
    """Per field: "ok", "wrong", "missing" or None (not scored)."""
    s = {}
    named = a["protocol"] is not None
    if row["protocol"] == "-":
        s["protocol"] = "wrong" if named else "ok"
    elif not named:
        s["protocol"] = "missing"
    else:
        s["protocol"] = "ok" if re.search(row["protocol"], a["protocol"], re.I) else "wrong"
    for field in ("product", "version"):
        if row[field] == "-":
            s[field] = None
        elif not a[field]:
            s[field] = "missing"
        else:
            s[field] = "ok" if re.search(row[field], a[field], re.I) else "wrong"
    s["tls"] = "ok" if a["tls"] == (row["tls"] == "y") else ("missing" if row["tls"] == "y" else "wrong")
    if row["auth"] == "-":
        s["auth"] = None
    elif not a["auth"]:
        s["auth"] = "missing"
    else:
        s["auth"] = "ok" if a["auth"] == row["auth"] else "wrong"
    # A confident wrong claim: a protocol or product stated with certainty, and false.
    s["confident_wrong"] = bool(a["confident"]) and (
        s["protocol"] == "wrong" or s["product"] == "wrong")
    return s


ran = {"portscope": bool(ps_ms), "nmap": bool(nmap_ms)}
table = []
for row in rows:
    entry = {k: row[k] for k in ("name", "target", "l4", "what")}
    for tool in ("portscope", "nmap"):
        if not ran[tool]:
            entry[tool] = None
            continue
        if tool == "portscope":
            a = ps.get(row["target"]) or answer(None, None, None, False, None, False, "no result")
        else:
            a = nm.get((row["family"], row["l4"], row["port"])) or answer(
                None, None, None, False, None, False, "no result")
        entry[tool] = {"said": a["said"], "score": score(row, a)}
    table.append(entry)


def mark(s):
    m = {"ok": "+", "wrong": "X", "missing": "-", None: "."}
    return "".join(m[s[f]] for f in ("protocol", "product", "version", "tls", "auth"))


def cell(e):
    return "n/a" if e is None else "%s %s" % (mark(e["score"]), e["said"])


w1 = max(len(e["target"]) for e in table)
w2 = max(len(e["what"]) for e in table)
w3 = max(15, max(len(cell(e["portscope"])) for e in table))
print("%-*s  %-*s  %-*s  %s" % (w1, "TARGET", w2, "WHAT RUNS THERE", w3, "PORTSCOPE PROBE", "NMAP -sV -sU"))
for e in table:
    print("%-*s  %-*s  %-*s  %s" % (w1, e["target"], w2, e["what"], w3, cell(e["portscope"]), cell(e["nmap"])))
print()
print("(the five marks: protocol, product, version, TLS, auth; + right, X wrong, - not said,")
print(" . not scored: the daemon does not state it. A silent or closed port is right when nothing")
print(" is named.)")

summary = {}
for tool in ("portscope", "nmap"):
    if not ran[tool]:
        continue
    t = {}
    for field in ("protocol", "product", "version", "tls", "auth"):
        scored = [e[tool]["score"][field] for e in table if e[tool]["score"][field] is not None]
        t[field] = [scored.count("ok"), len(scored)]
    with_protocol = [e for e, r in zip(table, rows) if r["protocol"] != "-"]
    t["named"] = [sum(e[tool]["score"]["protocol"] == "ok" for e in with_protocol), len(with_protocol)]
    t["confident_wrong"] = [e["name"] for e in table if e[tool]["score"]["confident_wrong"]]
    summary[tool] = t
    print("%-9s protocol %2d/%d, product %2d/%d, version %2d/%d, tls %2d/%d, auth %2d/%d; confident wrong: %d%s" % (
        tool, *t["protocol"], *t["product"], *t["version"], *t["tls"], *t["auth"],
        len(t["confident_wrong"]), (" (" + ", ".join(t["confident_wrong"]) + ")") if t["confident_wrong"] else ""))

fmt_ms = lambda ms: "%.1f ms" % float(ms) if ms else "n/a"
fmt_rss = lambda kib: "%.1f MiB" % (int(kib) / 1024) if kib else "n/a"
print("wall time: portscope %s, nmap %s; peak RSS: portscope %s, nmap %s" % (
    fmt_ms(ps_ms), fmt_ms(nmap_ms), fmt_rss(ps_rss), fmt_rss(nmap_rss)))
verdicts = {}
if "portscope" in summary:
    ok, n = summary["portscope"]["named"]
    verdicts["named"] = ok >= 0.95 * n
    print("target: protocol named for >= 95%% of endpoints: %d/%d = %.1f%%: %s" % (
        ok, n, 100.0 * ok / max(n, 1), "PASS" if verdicts["named"] else "MISS"))
    verdicts["no_confident_wrong"] = not summary["portscope"]["confident_wrong"]
    print("target: zero confident wrong claims: %s" % ("PASS" if verdicts["no_confident_wrong"] else "MISS"))
    if ps_rss:
        verdicts["rss"] = int(ps_rss) <= 32 * 1024
        print("target: peak RSS <= 32 MiB: %s" % ("PASS" if verdicts["rss"] else "MISS"))
if "portscope" in summary and "nmap" in summary:
    missed = [e["name"] for e in table
              if e["nmap"]["score"]["protocol"] == "ok" and e["portscope"]["score"]["protocol"] != "ok"]
    verdicts["every_nmap_names"] = not missed
    print("target: protocol named wherever nmap names it: %s%s" % (
        "PASS" if not missed else "MISS", (" (not: " + ", ".join(missed) + ")") if missed else ""))
    ratio = float(ps_ms) / float(nmap_ms)
    verdicts["ratio"] = ratio <= 0.02
    print("target: wall <= 1/50 of nmap's: ratio %.4f: %s" % (ratio, "PASS" if verdicts["ratio"] else "MISS"))
for note in notes:
    print("note: " + note)
if out_json:
    json.dump({"rows": table, "summary": summary, "verdicts": verdicts,
               "portscope_ms": float(ps_ms) if ps_ms else None,
               "nmap_ms": float(nmap_ms) if nmap_ms else None,
               "portscope_rss_kib": int(ps_rss) if ps_rss else None,
               "nmap_rss_kib": int(nmap_rss) if nmap_rss else None}, open(out_json, "w"), indent=1)
