#!/usr/bin/env python3
"""bench/api_watch.py: waits on shoald's API from one process, for bench/rolling_update.sh.

A shell loop that runs `shoal service inspect` every 20 ms starts three processes per look (a
subshell, the CLI, grep): on a two-vCPU machine that takes a third of a CPU away from the update
it measures, and sees the end up to one look late. This keeps one kept-alive connection to the
unix socket instead, and looks every INTERVAL seconds.

  api_watch.py SOCKET running SERVICE N [INTERVAL]
      waits until SERVICE has N tasks in state running; prints nothing
  api_watch.py SOCKET update SERVICE [INTERVAL] -- COMMAND...
      notes the time, runs COMMAND (the `shoal service update --detach ...`), and waits until
      SERVICE's UpdateStatus.State is "completed"; prints the seconds from before COMMAND to the
      look that saw it completed. Exits 1 if the update pauses or rolls back.
Gives up after 120 s (exit 2).
"""
import http.client
import json
import socket
import subprocess
import sys
import time
import urllib.parse

API = "/v1.41"
LIMIT_S = 120


class UnixConnection(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("shoal")
        self.unix_path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(self.unix_path)
        self.sock = s


def get(conn, path):
    conn.request("GET", API + path)
    resp = conn.getresponse()
    body = resp.read()
    if resp.status != 200:
        raise RuntimeError(f"GET {path}: HTTP {resp.status}: {body[:200]!r}")
    return json.loads(body)


def wait(conn, interval, done):
    deadline = time.monotonic() + LIMIT_S
    while time.monotonic() < deadline:
        if done(conn):
            return time.time()
        time.sleep(interval)
    print("api_watch: gave up after %d s" % LIMIT_S, file=sys.stderr)
    sys.exit(2)


def main(argv):
    if len(argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    sock, mode, service = argv[1], argv[2], argv[3]
    conn = UnixConnection(sock)
    if mode == "running":
        want = int(argv[4])
        interval = float(argv[5]) if len(argv) > 5 else 0.02
        query = urllib.parse.quote(json.dumps({"service": [service]}))
        wait(conn, interval,
             lambda c: sum(t["Status"]["State"] == "running" for t in get(c, "/tasks?filters=" + query)) >= want)
        return 0
    if mode == "update":
        rest = argv[4:]
        if "--" not in rest:
            print(__doc__, file=sys.stderr)
            return 2
        split = rest.index("--")
        interval = float(rest[0]) if split > 0 else 0.01
        command = rest[split + 1:]

        def completed(c):
            state = get(c, "/services/" + service).get("UpdateStatus", {}).get("State", "")
            if "paused" in state or "rollback" in state:
                print("api_watch: the update did not complete: " + state, file=sys.stderr)
                sys.exit(1)
            return state == "completed"

        start = time.time()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        end = wait(conn, interval, completed)
        print("%.3f" % (end - start))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
