"""The `triton` baseline planner (Triton's batcher behind round-robin) and `deploy triton` fragments.

Fragments are parsed with Triton's own ModelConfig protobuf schema (the model_config_pb2 module the
tritonclient package ships), so a field Triton does not know fails the test.
"""

from __future__ import annotations

import importlib.util
import itertools
import math
import warnings
from pathlib import Path

import pytest

import skinflint
from skinflint import model
from skinflint.cli import main
from skinflint.deploy.hardware_map import load_hardware_map
from skinflint.deploy.triton import fragments
from skinflint.errors import InfeasibleError
from skinflint.planners import available
from skinflint.planners.solve.bounds import configs_by_module
from skinflint.spec.loader import load_spec
from skinflint.spec.profiles import ProfileWarning
from skinflint.verify import verify

ROOT = Path(__file__).resolve().parents[2]
TRAFFIC = ROOT / "examples" / "traffic" / "app.yaml"


def model_config_class():
    """Triton's ModelConfig message, loaded from tritonclient's file (its grpc package needs grpcio)."""
    spec = importlib.util.find_spec("tritonclient")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("tritonclient is not installed (pip install 'skinflint[dev]')")
    path = Path(list(spec.submodule_search_locations)[0]) / "grpc" / "model_config_pb2.py"
    loaded = importlib.util.spec_from_file_location("triton_model_config_pb2", path)
    module = importlib.util.module_from_spec(loaded)
    loaded.loader.exec_module(module)
    return module.ModelConfig


def one_module_app(tmp_path: Path, slo_ms: float) -> Path:
    (tmp_path / "hardware.yaml").write_text("hardware:\n  T4: {price_per_hour: 1.0}\n")
    (tmp_path / "profiles.csv").write_text("model,hardware,batch_size,latency_ms\nm,T4,1,10\nm,T4,4,20\nm,T4,8,50\n")
    app = tmp_path / "app.yaml"
    app.write_text(f"name: one\nprofiles: profiles.csv\nhardware: hardware.yaml\nrate: 300\nslo_ms: {slo_ms}\n"
                   "modules:\n  - name: m\n    model: m\n")
    return app


def test_registered() -> None:
    assert "triton" in available()


@pytest.mark.parametrize("slo_ms,cost,batch", [(35, 3.0, 1), (40, 2.0, 4)])
def test_hand_example(tmp_path: Path, slo_ms: float, cost: float, batch: int) -> None:
    # rate 300: b1 theta 100/s -> n = 3, W = 10; b4 theta 200/s -> n = 2, W_rr = 1000*3*2/300 + 20 = 40;
    # b8 theta 160/s -> n = 2, W_rr = 1000*7*2/300 + 50 = 96.7 (no cheaper than b4). So SLO 35 -> 3 x b1,
    # SLO 40 -> 2 x b4. Batch-aware dispatch fills b4 in 1000*3/300 = 10 ms: W = 30, 2 workers at SLO 35.
    app = one_module_app(tmp_path, slo_ms)
    plan = skinflint.plan(app, planner="triton")
    (g,) = plan.module("m").groups
    assert (plan.cost_per_hour, g.batch_size, plan.module("m").dispatch) == (cost, batch, "round-robin")
    assert skinflint.plan(app).cost_per_hour == 2.0


def test_infeasible_below_the_fastest_config(tmp_path: Path) -> None:
    with pytest.raises(InfeasibleError):
        skinflint.plan(one_module_app(tmp_path, 9), planner="triton")


@pytest.mark.parametrize("rate,slo_ms", [(100, 250), (300, 300), (1000, 300)])
def test_exact_against_brute_force(rate: float, slo_ms: float) -> None:
    """Least cost over every choice of one unpadded config per module, W_rr and the path rule."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ProfileWarning)
        spec = load_spec(TRAFFIC, rate=rate, slo_ms=slo_ms)
        plan = skinflint.plan(TRAFFIC, rate=rate, slo_ms=slo_ms, planner="triton")
    assert verify(plan, spec) == []
    options = {}
    for m in spec.app.modules:
        r = spec.app.module_rate(m.name)
        opts = []
        for c in configs_by_module(spec)[m.name]:
            if c.exec_batch_size != c.batch_size:
                continue
            n = max(1, math.ceil(r / c.throughput - model.RTOL))
            opts.append((model.worst_latency_rr_ms(c.batch_size, c.latency_ms, r, n), n * c.price_per_hour))
        options[m.name] = opts
    names = list(options)
    best = min(sum(cost for _, cost in combo) for combo in itertools.product(*options.values())
               if model.leq(model.longest_path_ms(spec.app.modules, {n: w for n, (w, _) in zip(names, combo)},
                                                  spec.app.hop_ms), slo_ms))
    assert plan.cost_per_hour == pytest.approx(best)


def test_fragments_parse_as_triton_model_config(tmp_path: Path) -> None:
    ModelConfig = model_config_class()
    from google.protobuf import text_format

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ProfileWarning)
        plan = skinflint.plan(TRAFFIC, planner="triton")
    frags, notes = fragments(plan, load_hardware_map()[1])
    assert notes == [] and len(frags) == 3 and all(f.fits for f in frags)
    for f, mp in zip(frags, plan.modules):
        (g,) = mp.groups
        cfg = text_format.Parse(f.text, ModelConfig())
        assert cfg.max_batch_size == g.batch_size and list(cfg.dynamic_batching.preferred_batch_size) == [g.batch_size]
        # queue delay = budget - d in microseconds; the triton planner's budget is W_rr, so it is the
        # time one server's share r/n takes to bring b requests, 1000 (b - 1) n / r, plus the
        # module's fan-out lag (the classifiers' 2.5 = 5/2 crops at 300 frames/s: 1000 (1 - 1/5) / 300)
        fill_ms = 1000.0 * (g.batch_size - 1) * g.workers / mp.rate
        lag_ms = model.fanout_lag_ms(load_spec(TRAFFIC).app.module(mp.name).rate_factor, plan.rate)
        assert cfg.dynamic_batching.max_queue_delay_microseconds == round(1000 * (fill_ms + lag_ms))
        assert len(cfg.instance_group) == 1 and cfg.instance_group[0].count == 1
        group = cfg.instance_group[0]
        assert group.kind == type(group).KIND_GPU
        assert f.worst_latency_ms == pytest.approx(g.worst_latency_ms)


def test_batch_aware_plan_is_flagged_over_budget(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    ModelConfig = model_config_class()
    from google.protobuf import text_format

    plan_file = tmp_path / "plan.json"
    assert main(["plan", str(TRAFFIC), "--format", "json", "-o", str(plan_file)]) == 0
    capsys.readouterr()
    assert main(["deploy", "triton", str(plan_file), "-o", str(tmp_path / "tri")]) == 0
    out = capsys.readouterr()
    assert "OVER BUDGET" in out.out and "--planner triton" in out.err
    for path in (tmp_path / "tri").rglob("config.pbtxt"):
        text_format.Parse(path.read_text(), ModelConfig())
