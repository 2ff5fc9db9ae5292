"""Admission control's estimate against hand arithmetic, and the fan-out adapters."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from skinflint.runtime import adapters
from skinflint.runtime.admission import Admission
from skinflint.topology import compile_model
from skinflint.errors import SpecError
from tests.runtime.apps import planned, write_app


def test_estimate_is_queue_wait_plus_worst_latency_along_the_path(tmp_path: Path):
    plan, spec = planned(write_app(tmp_path, rate=20, slo_ms=100, det_ms=20, cls_ms=5, adapter="frame"),
                         sharing=False)
    sm = compile_model(plan, spec)
    adm = Admission(sm, max_in_flight=10)
    det, cls = sm.modules
    theta = [sum(1000.0 * w.worker.batch_size / w.worker.full_ms for w in m.workers) for m in sm.modules]
    # empty: W_detect + W_classify; with 3 detector items queued: + 3 / theta_detect seconds
    assert adm.estimate_ms([0, 0]) == pytest.approx(det.worst_latency_ms + cls.worst_latency_ms)
    assert adm.estimate_ms([3, 0]) == pytest.approx(1000 * 3 / theta[0] + det.worst_latency_ms + cls.worst_latency_ms)
    assert adm.decide([0, 0], 0).admit
    over = adm.decide([100, 0], 0)              # 100 queued frames at 20 ms each: ~2 s, far past 100 ms
    assert not over.admit and over.retry_after_s == int(np.ceil((over.estimate_ms - 100) / 1000))
    assert not adm.decide([0, 0], 10).admit     # the bounded queue


def test_crops_cut_the_best_boxes_and_resize_them():
    frame = np.arange(3 * 10 * 10, dtype=np.float32).reshape(3, 10, 10)
    boxes = np.array([[0.0, 0.0, 0.5, 0.5], [0.5, 0.5, 1.0, 1.0]], np.float32)
    scores = np.array([[0.1, 0.2], [0.9, 0.0]], np.float32)        # box 1 scores best
    out = adapters.crops(frame, {"det": [{"boxes": boxes, "scores": scores}]}, 3, (3, 4, 4))
    assert len(out) == 3 and all(o.shape == (3, 4, 4) for o in out)
    assert out[0][0, 0, 0] == frame[0, 5, 5]      # box 1's top-left corner (0.5 * 10 = pixel 5)
    assert out[1][0, 0, 0] == frame[0, 0, 0]      # then box 0; then box 1 again (more crops than boxes)
    np.testing.assert_array_equal(out[2], out[0])


def test_frame_adapter_and_unknown_names():
    out = adapters.frame(np.ones((1, 2, 2), np.float32), {}, 2, (3, 4, 4))
    assert len(out) == 2 and out[0].shape == (3, 4, 4)
    with pytest.raises(SpecError, match="crops"):
        adapters.get_adapter("nope")


def test_measured_slowdown_scales_the_estimate(tmp_path: Path):
    plan, spec = planned(write_app(tmp_path, rate=20, slo_ms=100, det_ms=20, cls_ms=5, adapter="frame"),
                         sharing=False)
    sm = compile_model(plan, spec)
    adm = Admission(sm, max_in_flight=10)
    base = adm.estimate_ms([2, 0])
    det = sm.modules[0].workers[0].worker
    for _ in range(200):                                  # batches take twice their profiled time
        adm.observe(0, 0, 1, 2 * det.times_ms[0])
    assert adm.slowdown[0] == pytest.approx(2.0, rel=1e-6)
    waited = 1000 * 2 / adm.throughput[0] + sm.modules[0].worst_latency_ms
    assert adm.estimate_ms([2, 0]) == pytest.approx(base + waited)   # the detector's part counts twice


def test_time_waited_before_the_runtime_counts_against_the_slo(tmp_path: Path):
    plan, spec = planned(write_app(tmp_path, rate=20, slo_ms=100, det_ms=20, cls_ms=5, adapter="frame"),
                         sharing=False)
    adm = Admission(compile_model(plan, spec), max_in_flight=10)
    empty = adm.estimate_ms([0, 0])            # W_detect + W_classify, below the 100 ms SLO
    assert adm.decide([0, 0], 0, waited_ms=100 - empty).admit            # exactly at the SLO: in
    late = adm.decide([0, 0], 0, waited_ms=100 - empty + 1)              # 1 ms over: out
    assert not late.admit and late.estimate_ms == pytest.approx(101)


def test_entry_layouts_are_told_by_shape_and_dtype_alone():
    assert adapters.frame_layout((3, 4, 5), np.float32, (3, 4, 5)) == adapters.CHW
    assert adapters.frame_layout((2, 4, 5, 3), np.uint8, (3, 4, 5)) == adapters.HWC   # N frames, channels last
    for shape, dtype in [((4, 5, 3), np.float32), ((3, 4, 5), np.uint8), ((1, 1, 1_000_000), np.float32)]:
        with pytest.raises(ValueError, match=r"\[3, 4, 5\] float32 \(CHW\) or \[4, 5, 3\] uint8"):
            adapters.frame_layout(shape, dtype, (3, 4, 5))
    image = np.arange(4 * 5 * 3, dtype=np.uint8).reshape(4, 5, 3)      # pixel (y, x) channel c
    chw = adapters.to_model_layout(image, adapters.HWC)
    assert chw.shape == (3, 4, 5) and chw.dtype == np.float32
    assert chw[2, 1, 3] == np.float32(image[1, 3, 2]) / np.float32(255)  # channel 2 of pixel (1, 3), scaled


def test_resize_reads_only_what_it_writes():
    wide = np.zeros((1, 1, 1_000_000), np.float32)     # the 4 MB tensor that once took 3.7 GB (issue 14)
    import tracemalloc
    tracemalloc.start()
    out = adapters.resize(wide, (3, 32, 32))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert out.shape == (3, 32, 32) and peak < 1_000_000    # the output is 12 kB; the input 4 MB
