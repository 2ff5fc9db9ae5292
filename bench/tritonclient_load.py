"""Load a running `skinflint serve` with Triton's own client (tritonclient.http, the dev extra):
`--requests` inferences, `--concurrency` in flight at once (closed loop), binary tensors; prints
the throughput, latency percentiles and the statuses.

    .venv/bin/skinflint serve examples/traffic/app.yaml --runner sleep --port 8000 &
    .venv/bin/python bench/tritonclient_load.py --url 127.0.0.1:8000 --model traffic --requests 2000 --concurrency 32
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", default="127.0.0.1:8000")
    ap.add_argument("--model", required=True)
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--frames", type=int, default=1, help="frames per request")
    args = ap.parse_args()
    token = os.environ.get("SKINFLINT_TOKEN")
    headers = {"Authorization": f"Bearer {token}"} if token else None
    client = httpclient.InferenceServerClient(args.url, concurrency=args.concurrency, network_timeout=60)
    meta = client.get_model_metadata(args.model, headers=headers)
    shape = [args.frames, *meta["inputs"][0]["shape"][1:]]
    inp = httpclient.InferInput("frame", shape, "FP32")
    inp.set_data_from_numpy(np.random.default_rng(0).random(shape, dtype=np.float32))
    sent, latencies, statuses = [], [], {"ok": 0}
    t0 = time.perf_counter()
    for _ in range(args.requests):
        sent.append((time.perf_counter(), client.async_infer(args.model, [inp], headers=headers)))
    for start, pending in sent:
        try:
            pending.get_result()
            statuses["ok"] += 1
            latencies.append(1000 * (time.perf_counter() - start))
        except InferenceServerException as e:
            key = (e.status() or "error").split()[0]
            statuses[key] = statuses.get(key, 0) + 1
    wall = time.perf_counter() - t0
    client.close()
    lat = np.asarray(latencies)
    print(f"{args.requests} requests x {args.frames} frames, {args.concurrency} in flight: {args.requests / wall:.0f} "
          f"req/s ({args.requests * args.frames / wall:.0f} frames/s); statuses {statuses}")
    if lat.size:
        print("latency ms (queued in the client included): p50 {:.1f}  p90 {:.1f}  p99 {:.1f}".format(
            *np.percentile(lat, [50, 90, 99])))


if __name__ == "__main__":
    main()
