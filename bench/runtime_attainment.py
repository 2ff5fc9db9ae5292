"""Does the runtime attain what the planner's simulation promised? (issue 11, point 5)

Plans the app for its traffic (the default: Poisson, target 0.999), serves that plan over HTTP
with the sleep runner (`skinflint serve --runner sleep`: workers sleep their profiled batch time,
so only skinflint's own code is measured), drives it with `skinflint load` from a second process
under the same arrivals, and puts the attainment the runtime delivered beside the simulator's:
the planner's own figure and `simulate_traffic` of the same plan for the same duration (mean
over seeds). The whole edge is in the loop (HTTP, admission, dispatch, timers).

    .venv/bin/python bench/runtime_attainment.py [APP.yaml] [--rate R] [--duration 30]
        [--traffic poisson] [--target 0.999] [--seeds 5] [--port 8123]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import urllib.request
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SKINFLINT = [sys.executable, "-m", "skinflint"]


def wait_ready(url: str, timeout_s: float = 120.0) -> None:
    end = time.time() + timeout_s
    while time.time() < end:
        try:
            with urllib.request.urlopen(f"{url}/v2/health/ready", timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"the server at {url} did not get ready in {timeout_s:.0f} s")


def main() -> None:
    import skinflint
    from skinflint.sim.attainment import simulate_traffic
    from skinflint.spec.loader import load_spec

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("app", nargs="?", default=str(ROOT / "examples" / "traffic" / "app.yaml"))
    ap.add_argument("--rate", type=float, default=None)
    ap.add_argument("--duration", type=float, default=30.0)
    ap.add_argument("--traffic", default="poisson")
    ap.add_argument("--target", type=float, default=0.999)
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--port", type=int, default=8123)
    args = ap.parse_args()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        spec = load_spec(args.app, rate=args.rate)
        plan = skinflint.plan(spec, traffic=args.traffic, target=args.target)
        sims = [simulate_traffic(plan, spec, plan.check.traffic, args.duration, np.random.default_rng(100 + k))
                for k in range(args.seeds)]
    sim = float(np.mean([r.slo_attainment for r in sims]))
    url = f"http://127.0.0.1:{args.port}"
    with tempfile.TemporaryDirectory() as tmp:
        plan_file = Path(tmp) / "plan.json"
        plan_file.write_text(plan.to_json())
        server = subprocess.Popen(SKINFLINT + ["serve", args.app, "--plan", str(plan_file), "--runner", "sleep",
                                               "--port", str(args.port)], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, text=True)
        try:
            wait_ready(url)
            out = subprocess.run(SKINFLINT + ["load", url, "--rate", f"{plan.offered_rate:g}", "--duration",
                                              f"{args.duration:g}", "--arrivals", plan.check.traffic.arrivals,
                                              "--format", "json"], capture_output=True, text=True, check=True)
            load = json.loads(out.stdout)
        finally:
            server.terminate()
            server.wait(timeout=60)
    runtime = load["on_time"] / load["sent"]
    print(f"app {spec.app.name}: {plan.offered_rate:g} req/s, SLO {spec.app.slo_ms:g} ms, plan ${plan.cost_per_hour:.3f}/h, "
          f"{plan.check.traffic.describe()}")
    print("| | requests | attained |")
    print("|---|---:|---:|")
    print(f"| planner's check (seeds {', '.join(map(str, plan.check.seeds))}) | {plan.check.requests:,} "
          f"| {100 * plan.check.attained:.3f} % |")
    print(f"| simulator, {args.duration:g} s x {args.seeds} seeds | {sum(r.requests for r in sims):,} | {100 * sim:.3f} % |")
    print(f"| runtime over HTTP, sleep runner, {args.duration:g} s | {load['sent']:,} | {100 * runtime:.3f} % |")
    late = load["outcomes"].get("ok", 0) - load["on_time"]
    print(f"\nruntime - simulator: {100 * (runtime - sim):+.3f} points | runtime outcomes {load['outcomes']}, "
          f"{late} late | edge added p50 {load['edge_ms']['p50']:.2f} ms | worst send lag {load['max_send_lag_ms']:.1f} ms")


if __name__ == "__main__":
    from record import record

    with record(__file__, sys.argv[1:]):
        main()
