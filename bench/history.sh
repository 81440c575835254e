#!/usr/bin/env bash
# bench/history.sh - cost of `portscope history` over a large history store.
#
# What it measures: a store of EVENTS events (about EVENTS/2 stays: an open and a close each,
# some left open) over PORTS ports, spread over the last 29 days, in a temporary state
# directory. The schema is the real one: `portscope daemon --duration 1s` creates the store,
# then python3's sqlite3 module fills it, one transaction, the way the recorder writes rows
# (close rows repeat their open's owner; open_now lists the open rows).
# Then, with hyperfine (--warmup 3, RUNS runs each), wall-clock per command:
#   portscope history PORT            (one port's timeline: ~EVENTS/PORTS events)   target <= 50 ms
#   portscope history PORT --json
#   portscope history                 (no target: the last hour's events)
#   portscope history --since 30d     (no target: every event matches; the newest 200 shown)
# and, as an anchor, the same one-port query run by the sqlite3 CLI (when installed), with the
# ratio portscope/sqlite3 (process start, time zone, schema check and rendering included).
#
# Run from anywhere:
#   bash bench/history.sh
#   EVENTS=200000 PORTS=4000 RUNS=50 bash bench/history.sh
# Options (environment variable in brackets):
#   --events N [EVENTS=100000]  --ports N [PORTS=2000]  --runs N [RUNS=100]
#   --no-build [NO_BUILD=1]     --keep-store DIR [KEEP_STORE] copy the filled store there
# Needs: cargo, python3 (stdlib sqlite3), hyperfine; sqlite3 CLI optional (the anchor).
set -euo pipefail
BENCH=history.sh
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

EVENTS=${EVENTS:-100000}
PORTS=${PORTS:-2000}
RUNS=${RUNS:-100}
NO_BUILD=${NO_BUILD:-0}
KEEP_STORE=${KEEP_STORE:-}

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
while [[ $# -gt 0 ]]; do
    case "$1" in
        --events) EVENTS=$2; shift 2 ;;
        --ports) PORTS=$2; shift 2 ;;
        --runs) RUNS=$2; shift 2 ;;
        --no-build) NO_BUILD=1; shift ;;
        --keep-store) KEEP_STORE=$2; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "history.sh: unknown argument: $1 (see --help)" >&2; exit 2 ;;
    esac
done
require_positive_ints EVENTS PORTS RUNS
(( PORTS <= 40000 )) || { echo "history.sh: PORTS must be at most 40000" >&2; exit 2; }
for tool in python3 hyperfine; do
    command -v "$tool" >/dev/null || { echo "history.sh: '$tool' not found in PATH" >&2; exit 2; }
done

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILT=$REPO/target/release/portscope
WORK=$(mktemp -d "${TMPDIR:-/tmp}/portscope-bench-history.XXXXXX")
PORTSCOPE=$WORK/portscope   # a private copy: a concurrent cargo build cannot swap it mid-run
STATE=$WORK/state
DB=$STATE/history.db
trap 'rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM

copy_binary

machine_lines
echo "sqlite3:   $(command -v sqlite3 >/dev/null && sqlite3 --version | cut -d' ' -f1-2 || echo 'not installed (no anchor)')"
portscope_line "$PORTSCOPE" "$REPO"
echo

# The real schema: a recorder creates the store (and records this machine's listeners).
"$PORTSCOPE" daemon --duration 1s --interval 500ms --state-dir "$STATE" >/dev/null
[[ -f $DB ]] || { echo "history.sh: the daemon did not create $DB" >&2; exit 1; }

FIRST_PORT=20000
python3 - "$DB" "$EVENTS" "$PORTS" "$FIRST_PORT" <<'PY'
import json, random, sqlite3, sys, time
db, events, ports, first = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rng = random.Random(7)
now = time.time()
span = 29 * 86400.0
stays = events // 2
conn = sqlite3.connect(db, isolation_level=None)
conn.execute("PRAGMA journal_mode=WAL")
conn.execute("BEGIN IMMEDIATE")
session = conn.execute("SELECT max(id) FROM sessions").fetchone()[0]
conn.execute("UPDATE sessions SET started_at = ? WHERE id = ?", (now - span - 60, session))
names = ["python3", "node", "java", "postgres", "redis-server", "nginx", "ruby", "uvicorn"]
cols = ("session, time, kind, proto, address, port, inode, uid, owner_hidden, pid, process, "
        "program, cmdline, user, owner_uid, cwd, container, unit, start_time, others, "
        "found_open, opened_after, open_id, opened_at, ending, closed_after")
ins = "INSERT INTO events (%s) VALUES (%s)" % (cols, ", ".join("?" * 26))
# Stays per port, in time order; the last stay of every tenth port stays open.
per_port = [stays // ports + (1 if i < stays % ports else 0) for i in range(ports)]
rows = []
inode = 1_000_000
for i, n in enumerate(per_port):
    port = first + i
    t = now - span + rng.uniform(0, 3600)
    step = span / max(n, 1)
    for k in range(n):
        inode += 1
        name = rng.choice(names)
        pid = rng.randint(1000, 4_000_000)
        opened = t + rng.uniform(0, step / 2)
        closed = opened + rng.uniform(1, step / 2)
        owner = (pid, name, name, json.dumps(["/usr/bin/" + name, "--port", str(port)]),
                 "dev", 1000, "/home/dev/app%d" % (i % 50), None, None,
                 int(opened) - 2, None)
        open_last = (k == n - 1 and i % 10 == 0)
        rows.append((opened, "listen-opened", port, inode, owner, None, None, None, open_last))
        if not open_last:
            ending = rng.choice(["process-exited", "process-exited", "socket-closed"])
            rows.append((closed, "listen-closed", port, inode, owner, opened, ending, inode))
        t += step
rows.sort(key=lambda r: r[0])
open_ids = {}
for r in rows:
    time_, kind, port, ino, owner = r[:5]
    (pid, proc, program, cmdline, user, uid, cwd, container, unit, start, others) = owner
    if kind == "listen-opened":
        cur = conn.execute(ins, (session, time_, kind, "tcp", "0.0.0.0", port, ino, uid, 0,
                                 pid, proc, program, cmdline, user, uid, cwd, container, unit,
                                 start, others, 0, None, None, None, None, None))
        open_ids[ino] = cur.lastrowid
        if r[8]:
            conn.execute("INSERT INTO open_now (event_id) VALUES (?)", (cur.lastrowid,))
    else:
        conn.execute(ins, (session, time_, kind, "tcp", "0.0.0.0", port, ino, uid, 0,
                           pid, proc, program, cmdline, user, uid, cwd, container, unit,
                           start, others, 0, None, open_ids.pop(ino), r[5], r[6], None))
conn.execute("UPDATE sessions SET last_alive = ?, stopped_at = ? WHERE id = ?", (now, now, session))
conn.execute("COMMIT")
conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
conn.execute("ANALYZE")
n = conn.execute("SELECT count(*) FROM events").fetchone()[0]
print("store:     %d events over %d ports (+ this machine's listeners), %d still open, %.1f MiB"
      % (n, ports, conn.execute("SELECT count(*) FROM open_now").fetchone()[0],
         conn.execute("PRAGMA page_count").fetchone()[0] * conn.execute("PRAGMA page_size").fetchone()[0] / 1048576))
PY

PORT=$((FIRST_PORT + PORTS / 2))
if [[ -n $KEEP_STORE ]]; then mkdir -p "$KEEP_STORE" && cp "$DB" "$KEEP_STORE/"; fi
STAYS=$("$PORTSCOPE" history "$PORT" --state-dir "$STATE" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["matched"])')
echo "port:      $PORT ($STAYS stays)"
echo

# The one-port query portscope makes (closes in the port, plus its open listeners), for sqlite3.
ANCHOR_SQL="SELECT * FROM (SELECT e.*, COALESCE(e.opened_at, e.time) AS stay_from FROM events e
  WHERE e.kind = 'listen-closed' AND e.port BETWEEN $PORT AND $PORT
  UNION ALL SELECT e.*, e.time FROM open_now o JOIN events e ON e.id = o.event_id
  WHERE e.kind = 'listen-opened' AND e.port BETWEEN $PORT AND $PORT)
  ORDER BY stay_from DESC LIMIT 200;"

CMDS=(
    "$PORTSCOPE history $PORT --state-dir $STATE"
    "$PORTSCOPE history $PORT --state-dir $STATE --json"
    "$PORTSCOPE history --state-dir $STATE"
    "$PORTSCOPE history --since 30d --state-dir $STATE"
)
NAMES=("history PORT" "history PORT --json" "history (last hour)" "history --since 30d")
if command -v sqlite3 >/dev/null; then
    CMDS+=("sqlite3 -readonly $DB \"$ANCHOR_SQL\"")
    NAMES+=("sqlite3 (same one-port query)")
fi
ARGS=()
for i in "${!CMDS[@]}"; do ARGS+=(--command-name "${NAMES[$i]}" "${CMDS[$i]}"); done
# Exit status 1 ("nothing recorded") is an answer, not a failure.
hyperfine --warmup 3 --runs "$RUNS" -N --ignore-failure --style basic \
    --export-json "$WORK/results.json" "${ARGS[@]}" >&2

python3 - "$WORK/results.json" <<'PY'
import json, sys
res = json.load(open(sys.argv[1]))["results"]
ms = {r["command"]: r for r in res}
print("| command | mean ms | ± sd | min | median | max |")
print("|---|---:|---:|---:|---:|---:|")
for r in res:
    t = [x * 1000 for x in r["times"]]
    print("| `%s` | %.1f | %.1f | %.1f | %.1f | %.1f |" % (
        r["command"], r["mean"] * 1000, r["stddev"] * 1000, min(t), r["median"] * 1000, max(t)))
one = ms["history PORT"]
verdict = "PASS" if one["mean"] * 1000 <= 50 else "MISS"
print("\nhistory PORT: mean %.1f ms, max %.1f ms (target <= 50 ms: %s)" % (
    one["mean"] * 1000, max(one["times"]) * 1000, verdict))
anchor = ms.get("sqlite3 (same one-port query)")
if anchor:
    print("anchor: sqlite3 CLI %.1f ms; ratio portscope/sqlite3 = %.2f" % (
        anchor["mean"] * 1000, one["mean"] / anchor["mean"]))
print("(n = %d runs each after 3 warm-up runs; hyperfine -N, no shell)" % len(one["times"]))
PY
