"""bench/mcp.py - what `portscope mcp` costs an agent, against the command line (run by bench/mcp.sh).

python3 bench/mcp.py PORTSCOPE PORT [--reps N]

Measures, on the same machine in one run (stdlib only: a raw JSON-RPC client over pipes, so the
client's own cost stays out of the figures):
  start-up      spawn `portscope mcp`, send `initialize`, read the answer     target <= 50 ms
  who (session) one `tools/call who {target: PORT}` in a running session,
                alternating with the command line's `portscope who PORT --json`  target <= 2x
  who (cold)    a new server per question: spawn, initialize, call, close
Prints medians, the 90th percentile and the ratios.
"""

import argparse
import json
import statistics
import subprocess
import time


class Session:
    def __init__(self, binary):
        self.p = subprocess.Popen([binary, "mcp"], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.next_id = 0

    def request(self, method, params=None):
        self.next_id += 1
        msg = {"jsonrpc": "2.0", "id": self.next_id, "method": method}
        if params is not None:
            msg["params"] = params
        self.p.stdin.write((json.dumps(msg) + "\n").encode())
        self.p.stdin.flush()
        while True:
            line = self.p.stdout.readline()
            if not line:
                raise SystemExit("portscope mcp closed its output")
            answer = json.loads(line)
            if answer.get("id") == self.next_id:
                if "error" in answer:
                    raise SystemExit("error: %s" % answer["error"])
                return answer["result"]

    def initialize(self):
        result = self.request("initialize", {
            "protocolVersion": "2025-11-25", "capabilities": {},
            "clientInfo": {"name": "bench/mcp.py", "version": "1"}})
        self.p.stdin.write(b'{"jsonrpc":"2.0","method":"notifications/initialized"}\n')
        self.p.stdin.flush()
        return result

    def close(self):
        self.p.stdin.close()
        self.p.wait()


def ms(seconds):
    return seconds * 1000.0


def summary(samples):
    s = sorted(samples)
    return statistics.median(s), s[min(len(s) - 1, int(len(s) * 0.9))], s[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("port")
    ap.add_argument("--reps", type=int, default=21)
    args = ap.parse_args()
    call = {"name": "who", "arguments": {"target": args.port}}

    startup = []
    for _ in range(args.reps):
        t = time.perf_counter()
        s = Session(args.binary)
        s.initialize()
        startup.append(ms(time.perf_counter() - t))
        s.close()

    session = Session(args.binary)
    session.initialize()
    held = session.request("tools/call", call)["structuredContent"]["held"]
    in_session, cli, cold = [], [], []
    for _ in range(args.reps):
        t = time.perf_counter()
        session.request("tools/call", call)
        in_session.append(ms(time.perf_counter() - t))
        t = time.perf_counter()
        subprocess.run([args.binary, "who", args.port, "--json"], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        cli.append(ms(time.perf_counter() - t))
        t = time.perf_counter()
        s = Session(args.binary)
        s.initialize()
        s.request("tools/call", call)
        s.close()
        cold.append(ms(time.perf_counter() - t))
    session.close()

    print("who %s: held=%s; %d reps each, alternating" % (args.port, held, args.reps))
    print("%-44s %9s %9s %9s" % ("", "median ms", "p90 ms", "min ms"))
    rows = [("start-up to initialize answered", startup),
            ("who: tools/call in a running session", in_session),
            ("who: new server, initialize, call, close", cold),
            ("who: portscope who PORT --json (the CLI)", cli)]
    for name, samples in rows:
        print("%-44s %9.1f %9.1f %9.1f" % ((name,) + summary(samples)))
    base = statistics.median(cli)
    print("ratio session call / CLI: %.2f (target <= 2)" % (statistics.median(in_session) / base))
    print("ratio cold session / CLI: %.2f" % (statistics.median(cold) / base))
    print("start-up median %.1f ms (target <= 50)" % statistics.median(startup))


main()
