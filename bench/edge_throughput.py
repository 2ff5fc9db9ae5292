"""The HTTP edge's sustained rate, before and after, side by side (issue 14).

For each server version (`before`: the tree at --before REV, run from a `git archive` of it;
`after`: this tree) and each offered rate R, `skinflint serve --runner sleep` serves an app
planned for R (workers sleep their profiled time, so only our Python is measured) and
`skinflint load` — in its own process, this tree's lean client, the same for both — offers R
(Poisson, --duration s). Printed per run: attainment (within the SLO, of sent), refused, the
time the edge added (client latency - the runtime's own time) at p50/p99, and the time to a 503;
then each version's max sustained rate (attainment >= 99.9 %) and the after/before ratios.

    .venv/bin/python bench/edge_throughput.py                      # the full table (~8 min)
    .venv/bin/python bench/edge_throughput.py --rates 500,1500 --versions after --duration 5

Apps: `edge` (one module, batch b takes 2 + 0.25 b ms, SLO 100 ms: the edge is all there is),
also as 10-frame KServe v2 requests, and planned for 100/s but offered 1,000/s (10 x overload:
time to a 503, admitted on time); `traffic` (examples/traffic/app.yaml, three modules, 6 items a
frame) at its planned 300/s and at 10 x. A run whose `send lag` is large measured the load
generator, not the server (the machine could not offer that rate). `server CPU us/req` (the
server process's CPU time over the run, per request sent) is the steadiest figure on a shared
machine: a core serves about 1e6 / that many requests a second.
On a shared machine absolute numbers wander; compare the two versions within one run.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
TRAFFIC = ROOT / "examples" / "traffic" / "app.yaml"


def edge_app(directory: Path, rate: float) -> Path:
    """A one-module app planned for `rate`: batch b takes 2 + 0.25 b ms, SLO 100 ms."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "hardware.yaml").write_text("hardware:\n  cpu: {price_per_hour: 0.1}\n")
    rows = ["model,hardware,batch_size,latency_ms"] + [f"m,cpu,{b},{2 + 0.25 * b:.3f}" for b in (1, 2, 4, 8, 16, 32)]
    (directory / "profiles.csv").write_text("\n".join(rows) + "\n")
    app = directory / "app.yaml"
    app.write_text(f"name: edge\nprofiles: profiles.csv\nhardware: hardware.yaml\nrate: {rate}\nslo_ms: 100\n"
                   "modules:\n  - {name: m, model: m}\n")
    return app


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def checkout(rev: str, into: Path) -> Path:
    """`rev`'s src/ extracted under `into` (a PYTHONPATH entry)."""
    into.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "src"], capture_output=True, check=True).stdout
    tar = into / "src.tar"
    tar.write_bytes(archive)
    with tarfile.open(tar) as t:
        t.extractall(into, filter="data")
    return into / "src"


def serve(app: Path, src: Path | None, port: int, extra: tuple[str, ...] = ()) -> subprocess.Popen:
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = str(src)
    cmd = [sys.executable, "-c", "from skinflint.cli import run; run()", "serve", str(app), "--runner", "sleep",
           "--port", str(port), *extra]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of process `pid`, all its threads."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_up(url: str, proc: subprocess.Popen, timeout_s: float = 120) -> None:
    end = time.time() + timeout_s
    while time.time() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {proc.stderr.read()[-500:]}")
        try:
            if httpx.get(f"{url}/v1/plan", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("server did not come up")


def one_run(app: Path, src: Path | None, rate: float, duration: float, protocol: str, frames: int = 1,
            extra: tuple[str, ...] = ()) -> dict:
    """Serve `app`, load it at `rate` from another process, stop the server; the load report."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = serve(app, src, port, extra)
    try:
        wait_up(url, proc)
        cpu0 = cpu_s(proc.pid)
        out = subprocess.run([str(BIN / "skinflint"), "load", url, "--rate", str(rate), "--duration", str(duration),
                              "--protocol", protocol, "--frames", str(frames), "--format", "json", "--timeout", "10"],
                             capture_output=True, text=True, timeout=duration + 120)
        if out.returncode != 0:
            raise RuntimeError(out.stderr[-500:])
        report = json.loads(out.stdout)
        report["server_cpu_us"] = 1e6 * (cpu_s(proc.pid) - cpu0) / max(1, report["sent"])
        return report
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def row(version: str, app: str, protocol: str, rate: float, r: dict) -> str:
    e, ref, o = r["edge_ms"], r["refused_ms"], r["outcomes"]
    return (f"| {version} | {app} | {protocol} | {rate:g} | {r['offered_rate']:.0f} | {r['slo_attainment']:.2%} | "
            f"{r['admitted_on_time']:.2%} | {o.get('refused', 0)} | {o.get('failed', 0)} | "
            f"{o.get('error', 0) + r['lost']} | {e['p50']:.2f} / {e['p99']:.2f} | {r['latency_ms']['p99']:.1f} | "
            f"{ref['p99']:.1f} | {r['max_send_lag_ms']:.0f} | {r['server_cpu_us']:.0f} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rates", default="250,500,1000,1500,2000,3000", help="offered rates for the edge app")
    ap.add_argument("--duration", type=float, default=5.0)
    ap.add_argument("--before", default="7693620", help="git revision of the server before the change")
    ap.add_argument("--versions", default="before,after")
    ap.add_argument("--no-traffic", action="store_true", help="skip the traffic app at 300/s")
    args = ap.parse_args()
    rates = [float(r) for r in args.rates.split(",") if r]
    tmp = Path(tempfile.mkdtemp(prefix="edge-bench-"))
    sources = {"after": None}
    if "before" in args.versions:
        sources["before"] = checkout(args.before, tmp / "before")
    versions = [v for v in args.versions.split(",") if v]
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at start; Poisson, "
          f"{args.duration:g} s a run, load generator in its own process\n")
    print("| server | app | protocol | rate | offered/s | within SLO (of sent) | admitted on time | refused | 5xx | "
          "no answer | edge p50 / p99 ms | latency p99 ms | 503 p99 ms | send lag max ms | server CPU us/req |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    best: dict[str, float] = {}
    for rate in rates:
        app = edge_app(tmp / f"edge{rate:g}", rate)
        for v in versions:
            protocols = ["v1"] if v == "before" else ["v1", "v2"]
            for protocol in protocols:
                r = one_run(app, sources[v], rate, args.duration, protocol)
                print(row(v, "edge", protocol, rate, r), flush=True)
                if r["slo_attainment"] >= 0.999:
                    best[f"{v} {protocol}"] = max(best.get(f"{v} {protocol}", 0.0), rate)
    for v in versions:                  # multi-frame KServe v2 requests: 10 frames each, --rate counts frames
        if v == "after":
            for rate in rates:
                r = one_run(edge_app(tmp / f"edge{rate:g}", rate), None, rate, args.duration, "v2", 10)
                print(row(v, "edge", "v2 x10", rate, r), flush=True)
    overload = edge_app(tmp / "edge-overload", 100)
    for v in versions:                  # 10 x overload: an app planned for 100/s offered 1,000/s
        print(row(v, "edge@100", "v1", 1000, one_run(overload, sources[v], 1000, args.duration, "v1")), flush=True)
    if "after" in versions:             # the same with a 20 % admission margin (--admit-slack 0.8)
        r = one_run(overload, None, 1000, args.duration, "v1", extra=("--admit-slack", "0.8"))
        print(row("after, slack 0.8", "edge@100", "v1", 1000, r), flush=True)
    if not args.no_traffic:
        for v in versions:
            r = one_run(TRAFFIC, sources[v], 300, args.duration, "v1")
            print(row(v, "traffic", "v1", 300, r), flush=True)
            print(row(v, "traffic", "v1", 3000, one_run(TRAFFIC, sources[v], 3000, args.duration, "v1")), flush=True)
    print(f"\nload average {os.getloadavg()[0]:.2f} at the end")
    print("max sustained rate (>= 99.9 % within the SLO): " + ", ".join(f"{k} {b:g}/s" for k, b in best.items()))
    if "before v1" in best and "after v1" in best:
        print(f"after / before (v1): {best['after v1'] / best['before v1']:.2f}x")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from record import record
    with record(__file__, sys.argv[1:]):
        main()
