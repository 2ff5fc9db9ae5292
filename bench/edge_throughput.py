"""The HTTP edge's figures of issue 14 and the overload figures of issue 13, in a few minutes.

Each run: `skinflint serve --runner sleep` (workers sleep their profiled time, so only our Python
is measured) serves an app planned for the offered rate, and `skinflint load` — in its own process
— offers it (Poisson, --duration s); the server is stopped after each run. Printed per run:
attainment (within the SLO, of sent), refused, the time the edge added (client latency - the
runtime's own time, Server-Timing) at p50/p99, the time to a 503, the load generator's worst send
lag, and the server's CPU per request. Then the summary: the max sustained rate at >= 99.9 %
within the SLO (single-frame KServe v2 requests; multi-frame ones, in frames/s and req/s), the
bundled traffic app at its planned 300/s, 10 x overload, and the same load on uvicorn / FastAPI.

    .venv/bin/python bench/edge_throughput.py                    # the default figures (~4 min)
    .venv/bin/python bench/edge_throughput.py --rates 500,1500 --frame-rates 3000 --no-compare
    .venv/bin/python bench/edge_throughput.py --before 7693620   # also the server at that revision (v1)

Apps: `edge` (one module, batch b takes 2 + 0.25 b ms, SLO 100 ms: the edge is all there is),
single-frame and as --frames-frame KServe v2 requests (--rate counts frames); planned for 100/s but
offered 1,000/s (10 x overload: time to a 503, admitted on time); `traffic`
(examples/traffic/app.yaml, three modules, 6 items a frame) at its planned 300/s. A run whose
`send lag` is large measured the load generator, not the server. `server CPU us/req` (the server
process's CPU time over the run, per request sent) is the steadiest figure on a shared machine.
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


def serve(app: Path, src: Path | None, port: int, extra: tuple[str, ...] = (), server: str = "edge") -> subprocess.Popen:
    """`skinflint serve` (server `edge`), or the same application on uvicorn / FastAPI (edge_uvicorn.py)."""
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = str(src)
    if server == "edge":
        cmd = [sys.executable, "-c", "from skinflint.cli import run; run()", "serve", str(app), "--runner", "sleep",
               "--port", str(port), *extra]
    else:
        cmd = [sys.executable, str(Path(__file__).resolve().parent / "edge_uvicorn.py"), str(app), "--port", str(port),
               "--server", server]
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
            extra: tuple[str, ...] = (), server: str = "edge") -> dict:
    """Serve `app`, load it at `rate` (frames/s) from another process, stop the server; the load report."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = serve(app, src, port, extra, server)
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


HEADER = ("| server | app | protocol | rate | offered req/s | within SLO (of sent) | admitted on time | refused | "
          "5xx | no answer | edge p50 / p99 ms | latency p99 ms | 503 p99 ms | send lag max ms | server CPU us/req |\n"
          "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
SUSTAINED = 0.999


class Runs:
    """The runs of one invocation: each printed as it ends, kept for the summary."""

    def __init__(self, tmp: Path, duration: float) -> None:
        self.tmp, self.duration, self.kept = tmp, duration, []

    def run(self, label: str, app_name: str, rate: float, protocol: str = "v2", frames: int = 1, *,
            planned: float | None = None, src: Path | None = None, server: str = "edge",
            extra: tuple[str, ...] = (), duration: float | None = None) -> dict:
        """One run of the edge app planned for `planned` (default: `rate`), or the traffic app."""
        if app_name == "traffic":
            app = TRAFFIC
        else:
            app = edge_app(self.tmp / f"edge{planned or rate:g}", planned or rate)
        r = one_run(app, src, rate, duration or self.duration, protocol, frames, extra, server)
        shown = protocol if frames == 1 else f"{protocol} x{frames}"
        print(row(label, app_name if planned is None else f"{app_name}@{planned:g}", shown, rate, r), flush=True)
        self.kept.append((label, app_name, protocol, frames, rate, r))
        return r


def sustained(runs: list[tuple[float, dict]]) -> tuple[float, dict] | None:
    """The highest rate whose run had >= 99.9 % of sent within the SLO, with its report."""
    ok = [(rate, r) for rate, r in runs if r["slo_attainment"] >= SUSTAINED]
    return max(ok, key=lambda x: x[0]) if ok else None


def summary_line(what: str, best: tuple[float, dict] | None, frames: int = 1) -> str:
    if best is None:
        return f"- {what}: no rate tried held {SUSTAINED:.1%} within the SLO"
    rate, r = best
    per = f" = {rate / frames:g} req/s of {frames} frames" if frames > 1 else ""
    return (f"- {what}: {rate:g} {'frames' if frames > 1 else 'req'}/s{per} ({r['slo_attainment']:.2%} within the "
            f"SLO), edge added p50 {r['edge_ms']['p50']:.2f} ms, p99 {r['edge_ms']['p99']:.2f} ms")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rates", default="500,1000,1500,2000", help="single-frame rates (req/s) of the edge app")
    ap.add_argument("--frame-rates", default="1000,2000,3000,5000", help="multi-frame rates (frames/s)")
    ap.add_argument("--frames", type=int, default=10, help="frames per multi-frame request")
    ap.add_argument("--duration", type=float, default=5.0)
    ap.add_argument("--overload-duration", type=float, default=10.0)
    ap.add_argument("--before", default=None, help="also run the server at this git revision (v1, --rates)")
    ap.add_argument("--compare-rate", type=float, default=1000.0, help="the rate of the uvicorn/FastAPI comparison")
    ap.add_argument("--no-compare", action="store_true", help="skip the uvicorn/FastAPI comparison")
    ap.add_argument("--no-traffic", action="store_true", help="skip the traffic app at 300/s")
    args = ap.parse_args()
    rates = [float(r) for r in args.rates.split(",") if r]
    frame_rates = [float(r) for r in args.frame_rates.split(",") if r]
    tmp = Path(tempfile.mkdtemp(prefix="edge-bench-"))
    runs = Runs(tmp, args.duration)
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at start; Poisson, "
          f"{args.duration:g} s a run ({args.overload_duration:g} s overloaded), load generator in its own process\n")
    print(HEADER)
    single = [(rate, runs.run("edge", "edge", rate)) for rate in rates]
    multi = [(rate, runs.run("edge", "edge", rate, frames=args.frames)) for rate in frame_rates]
    traffic = None if args.no_traffic else runs.run("edge", "traffic", 300)
    overload = [runs.run("edge", "edge", 1000, protocol, planned=100, duration=args.overload_duration)
                for protocol in ("v2", "v1")]
    compared = {}
    if not args.no_compare:
        for server in ("edge", "uvicorn", "fastapi"):
            compared[server] = runs.run(server, "edge", args.compare_rate, server=server)
    if args.before:
        src = checkout(args.before, tmp / "before")
        for rate in rates:
            runs.run(f"before ({args.before})", "edge", rate, "v1", src=src)
    print(f"\nload average {os.getloadavg()[0]:.2f} at the end\n")
    print(summary_line("max sustained rate, single-frame KServe v2", sustained(single)))
    print(summary_line(f"max sustained rate, {args.frames}-frame KServe v2", sustained(multi), args.frames))
    if traffic is not None:
        print(f"- traffic app at 300/s: {traffic['slo_attainment']:.2%} within the SLO, "
              f"{traffic['outcomes'].get('refused', 0)} refused, edge added p50 {traffic['edge_ms']['p50']:.2f} ms")
    for protocol, r in zip(("v2", "v1"), overload):
        print(f"- 10 x overload ({protocol}): time to a 503 p99 {r['refused_ms']['p99']:.1f} ms, "
              f"{r['admitted_on_time']:.2%} of admitted on time, {r['outcomes'].get('refused', 0)} refused")
    for server, r in compared.items():
        print(f"- {server} at {args.compare_rate:g}/s: {r['slo_attainment']:.2%} within the SLO, edge added p50 "
              f"{r['edge_ms']['p50']:.2f} / p99 {r['edge_ms']['p99']:.2f} ms, server CPU {r['server_cpu_us']:.0f} us/req")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from record import record
    with record(__file__, sys.argv[1:]):
        main()
