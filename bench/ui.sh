#!/usr/bin/env bash
# bench/ui.sh - first paint of the `portscope ui` listener table with many listeners present.
#
# bench/loadgen.py opens LISTENERS listening sockets over PROCS processes (no pairs); a private
# copy of the release build serves `portscope ui --listen 127.0.0.1:0`; headless Chromium,
# driven through chromedriver's WebDriver HTTP API (python3, stdlib only), opens the dashboard
# RUNS times (after WARMUP untimed loads).
#
# What is measured, per load, on the page's own clock (performance.now(); 0 = the start of the
# navigation, so the document request, the script, the /api/ls fetch and the DOM work all
# count): before any page script runs, a probe is injected through the DevTools protocol
# (Page.addScriptToEvaluateOnNewDocument: it runs in the page, outside its CSP). Its
# MutationObserver notes the moment the table first holds >= LISTENERS rows ("rows in DOM"),
# then the next requestAnimationFrame callback ("painted": the frame that draws them starts;
# the browser paints right after it). If the page sets performance.mark('table-painted') that
# mark is reported as well. Also taken from the Resource Timing entry of /api/ls: when its
# response ended. Target: painted <= 200 ms (median).
# Anchor: `curl` of /api/ls alone (the data the page needs, with its cookie), CURL_RUNS times;
# the ratio is median painted / median curl.
#
# Run from anywhere, as root (so that portscope sees every process):
#   bash bench/ui.sh
#   LISTENERS=2000 RUNS=15 bash bench/ui.sh
# Options (environment variable in brackets):
#   --listeners N [LISTENERS=2000]  --procs M [PROCS=20]  --runs R [RUNS=15]
#   --warmup W [WARMUP=3]  --curl-runs C [CURL_RUNS=15]  --no-build [NO_BUILD=1]
# Needs: cargo, python3, curl, chromium and chromedriver (Debian: chromium chromium-driver).
set -euo pipefail
BENCH=ui.sh
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

LISTENERS=${LISTENERS:-2000}
PROCS=${PROCS:-20}
RUNS=${RUNS:-15}
WARMUP=${WARMUP:-3}
CURL_RUNS=${CURL_RUNS:-15}
NO_BUILD=${NO_BUILD:-0}
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
CHROMEDRIVER=${CHROMEDRIVER:-/usr/bin/chromedriver}

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
while [[ $# -gt 0 ]]; do
    case "$1" in
        --listeners) LISTENERS=$2; shift 2 ;;
        --procs) PROCS=$2; shift 2 ;;
        --runs) RUNS=$2; shift 2 ;;
        --warmup) WARMUP=$2; shift 2 ;;
        --curl-runs) CURL_RUNS=$2; shift 2 ;;
        --no-build) NO_BUILD=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "ui.sh: unknown argument: $1 (see --help)" >&2; exit 2 ;;
    esac
done
require_positive_ints LISTENERS PROCS RUNS WARMUP CURL_RUNS
for tool in python3 curl "$CHROMIUM" "$CHROMEDRIVER"; do
    command -v "$tool" >/dev/null || { echo "ui.sh: '$tool' not found" >&2; exit 2; }
done

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LOADGEN=$REPO/bench/loadgen.py
BUILT=$REPO/target/release/portscope
WORK=$(mktemp -d "${TMPDIR:-/tmp}/portscope-bench-ui.XXXXXX")
PORTSCOPE=$WORK/portscope   # a private copy: a concurrent cargo build cannot swap it mid-run
LG_PID=""
UI_PID=""

stop_ui() { stop_pid_in UI_PID; }
cleanup() {
    stop_ui
    stop_loadgen
    rm -rf "$WORK"
}
trap cleanup EXIT

if [[ $NO_BUILD != 1 ]]; then
    (cd "$REPO" && cargo build --release --quiet)
fi
cp "$BUILT" "$PORTSCOPE"

echo "machine:   $(nproc) x $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
echo "kernel:    $(uname -r); user $(id -un)"
portscope_line "$PORTSCOPE" "$REPO"
echo "browser:   $("$CHROMIUM" --version 2>/dev/null | head -1); $("$CHROMEDRIVER" --version | cut -d' ' -f1-2)"
echo "loadavg:   $(cut -d' ' -f1-3 /proc/loadavg) (before the run; other work on the machine skews the figures)"
echo "load:      $LISTENERS listeners over $PROCS loadgen processes (bench/loadgen.py --pairs 0)"

start_loadgen_run 0 "$LISTENERS" "$PROCS"

# The ui on a kernel-chosen port; its first stderr line is the URL with the token.
PORTSCOPE_STATE_DIR=$WORK/state "$PORTSCOPE" ui --listen 127.0.0.1:0 >"$WORK/ui.out" 2>"$WORK/ui.err" &
UI_PID=$!
waited=0
until grep -q 'serving http://' "$WORK/ui.err" 2>/dev/null; do
    if ! kill -0 "$UI_PID" 2>/dev/null || (( waited > 100 )); then
        echo "ui.sh: portscope ui did not start:" >&2
        cat "$WORK/ui.err" >&2
        exit 1
    fi
    sleep 0.1; waited=$((waited + 1))
done
URL=$(sed -n 's#.*serving \(http://127\.0\.0\.1:[0-9]*/?token=[0-9a-f]*\).*#\1#p' "$WORK/ui.err" | head -1)
BASE=${URL%%/\?token=*}
TOKEN=${URL##*token=}

# ---- anchor: curl of /api/ls ------------------------------------------------------------
curl -s -o "$WORK/ls.json" -H "Cookie: portscope_token=$TOKEN" "$BASE/api/ls"
ROWS=$(python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(sum(1 for s in d['sockets'] if s['state']=='listen' or (s['proto']=='udp' and s['remote'] is None)))" "$WORK/ls.json")
echo "sanity:    /api/ls lists $ROWS listeners, $(wc -c <"$WORK/ls.json") bytes"
(( ROWS >= LISTENERS )) || { echo "ui.sh: expected at least $LISTENERS listeners in /api/ls" >&2; exit 1; }
: >"$WORK/curl.txt"
for _ in $(seq "$CURL_RUNS"); do
    curl -s -o /dev/null -w '%{http_code} %{time_total}\n' -H "Cookie: portscope_token=$TOKEN" \
        "$BASE/api/ls" >>"$WORK/curl.txt"
done

# ---- the page in headless Chromium ------------------------------------------------------
python3 - "$URL" "$BASE" "$LISTENERS" "$RUNS" "$WARMUP" "$WORK" "$CHROMIUM" "$CHROMEDRIVER" "$WORK/curl.txt" <<'PY'
import json, os, statistics, subprocess, sys, time, urllib.request

url, base, want, runs, warmup, work, chromium, chromedriver, curl_file = sys.argv[1:]
want, runs, warmup = int(want), int(runs), int(warmup)

# chromedriver picks its own port (--port=0) and prints it. It can fail to get one when the
# load holds many loopback ports (it wants the same port on 127.0.0.1 and ::1): try 3 times.
for attempt in range(3):
    log = open(os.path.join(work, "chromedriver.log"), "w+")
    drv = subprocess.Popen([chromedriver, "--port=0"], stdout=subprocess.PIPE, stderr=log,
                           text=True, start_new_session=True)
    port = None
    for line in drv.stdout:
        log.write(line)
        if "started successfully on port " in line:
            port = int(line.rsplit(" ", 1)[1].strip().rstrip("."))
            break
    if port is not None:
        break
    drv.wait()
    log.seek(0)
    print("ui.sh: chromedriver did not start (attempt %d):\n%s" % (attempt + 1, log.read()), file=sys.stderr)
else:
    sys.exit(1)
wd = "http://127.0.0.1:%d" % port

def call(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(wd + path, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=120) as r:
        return json.load(r)["value"]

# The probe: runs before the page's scripts, on every new document of the session.
PROBE = """
(function () {
  const want = %d;
  window.__bench = {};
  function rows() { return document.querySelectorAll('#listeners tbody tr').length; }
  const mo = new MutationObserver(function () {
    if (window.__bench.dom === undefined && rows() >= want) {
      window.__bench.dom = performance.now();
      mo.disconnect();
      requestAnimationFrame(function () { window.__bench.frame = performance.now(); });
    }
  });
  mo.observe(document, { childList: true, subtree: true });
})();
""" % want

session = None
try:
    caps = {"capabilities": {"alwaysMatch": {"goog:chromeOptions": {"binary": chromium, "args": [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
        "--window-size=1280,800", "--user-data-dir=" + os.path.join(work, "profile")]}}}}
    session = call("POST", "/session", caps)["sessionId"]
    s = "/session/" + session
    call("POST", s + "/goog/cdp/execute",
         {"cmd": "Page.addScriptToEvaluateOnNewDocument", "params": {"source": PROBE}})

    def load(target):
        call("POST", s + "/url", {"url": target})
        deadline = time.time() + 60
        while True:
            r = call("POST", s + "/execute/sync", {"script": """
                const b = window.__bench || {};
                if (b.frame === undefined) return null;
                const ls = performance.getEntriesByType('resource').filter(e => e.name.endsWith('/api/ls'));
                const m = performance.getEntriesByName('table-painted');
                return {dom: b.dom, frame: b.frame, ls_end: ls.length ? ls[0].responseEnd : null,
                        ls_start: ls.length ? ls[0].startTime : null,
                        mark: m.length ? m[0].startTime : null,
                        doc_end: performance.getEntriesByType('navigation')[0].responseEnd,
                        rows: document.querySelectorAll('#listeners tbody tr').length};""", "args": []})
            if r is not None:
                return r
            if time.time() > deadline:
                seen = call("POST", s + "/execute/sync", {"script": "return [document.querySelectorAll('#listeners tbody tr').length, (document.getElementById('status') || {}).textContent, JSON.stringify(window.__bench)];", "args": []})
                sys.exit("ui.sh: the table never held %d rows within 60 s (rows, #status, probe): %r" % (want, seen))
            time.sleep(0.02)

    first = load(url)      # with ?token=: the redirect that sets the cookie counts here
    for _ in range(warmup):
        load(base + "/")
    samples = [load(base + "/") for _ in range(runs)]
finally:
    if session:
        try:
            call("DELETE", "/session/" + session)
        except Exception:
            pass
    os.killpg(drv.pid, 15)
    drv.wait()

def med(key):
    vals = [x[key] for x in samples if x[key] is not None]
    return statistics.median(vals) if vals else None

print()
print("first visit (token URL, redirect, cookie): rows in DOM %.0f ms, painted %.0f ms" % (first["dom"], first["frame"]))
print()
print("%-4s %10s %10s %10s %10s %10s %6s" % ("run", "doc end", "ls start", "ls end", "rows DOM", "painted", "rows"))
for i, x in enumerate(samples, 1):
    f = lambda v: "-" if v is None else "%.1f" % v
    print("%-4d %10s %10s %10s %10s %10s %6d" % (i, f(x["doc_end"]), f(x["ls_start"]), f(x["ls_end"]), f(x["dom"]), f(x["frame"]), x["rows"]))
curl = [float(l.split()[1]) * 1000 for l in open(curl_file) if l.strip()]
curl_ok = all(l.split()[0] == "200" for l in open(curl_file) if l.strip())
painted = med("frame")
mark = med("mark")
print()
print("summary: %d loads; median (ms from navigation start): document %.1f, /api/ls response end %.1f, rows in DOM %.1f, painted %.1f (min %.1f, max %.1f)"
      % (len(samples), med("doc_end"), med("ls_end"), med("dom"), painted,
         min(x["frame"] for x in samples), max(x["frame"] for x in samples)))
if mark is not None:
    print("         performance.mark('table-painted'): median %.1f ms" % mark)
else:
    print("         (the page sets no performance.mark('table-painted'))")
print("anchor:  curl /api/ls: median %.1f ms over %d runs (all HTTP 200: %s)" % (statistics.median(curl), len(curl), "yes" if curl_ok else "NO"))
print("verdict: painted / curl = %.2fx; target painted <= 200 ms: %s" % (painted / statistics.median(curl), "PASS" if painted <= 200 else "MISS"))
PY
