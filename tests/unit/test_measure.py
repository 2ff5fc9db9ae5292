"""The profiler's stopping rule, on a fake clock: warm-up, stable median, time cap, run caps, statistics."""

from __future__ import annotations

import itertools

import pytest

from skinflint.profiling.measure import MeasureOptions, measure, summarize


class FakeWork:
    """A clock in seconds that only the work advances; each run takes the next of `durations_s`."""

    def __init__(self, durations_s) -> None:  # noqa: ANN001 - any iterable of floats
        self.now = 0.0
        self.durations = iter(durations_s)
        self.runs = 0

    def clock(self) -> float:
        return self.now

    def run(self) -> None:
        self.now += next(self.durations)
        self.runs += 1


def test_constant_latency_is_stable_after_two_agreeing_checks():
    work = FakeWork(itertools.repeat(0.010))
    m = measure(work.run, MeasureOptions(warmup_runs=3, warmup_s=0.0), clock=work.clock)
    # checks at n = 10 (first median), 15 (stable 1), 20 (stable 2) -> stop at 20
    assert m.converged and m.n == 20 and m.warmup_runs == 3
    assert work.runs == 23
    assert m.median_ms == pytest.approx(10.0) and m.p99_ms == pytest.approx(10.0)


def test_warmup_lasts_at_least_warmup_s():
    work = FakeWork(itertools.repeat(0.010))
    m = measure(work.run, MeasureOptions(warmup_runs=1, warmup_s=0.055), clock=work.clock)
    assert m.warmup_runs == 6  # 6 x 10 ms is the first count reaching 55 ms


def test_a_median_that_keeps_moving_stops_at_the_time_cap_unconverged():
    work = FakeWork(0.001 * k for k in itertools.count(1))  # 1, 2, 3 ... ms: the median always grows
    m = measure(work.run, MeasureOptions(warmup_runs=0, warmup_s=0.0, time_cap_s=0.1, rel_tol=0.0), clock=work.clock)
    assert not m.converged
    assert m.n == 14  # 1 + 2 + ... + 14 = 105 ms is the first sum >= 100 ms
    assert m.samples_ms[:3] == pytest.approx((1.0, 2.0, 3.0))


def test_slow_runs_still_get_min_cap_runs_samples():
    work = FakeWork(itertools.repeat(1.0))
    m = measure(work.run, MeasureOptions(warmup_runs=0, warmup_s=0.0, time_cap_s=0.1, min_cap_runs=3),
                clock=work.clock)
    assert m.n == 3 and not m.converged


def test_max_runs_caps_a_measurement():
    work = FakeWork(itertools.repeat(0.001))
    m = measure(work.run, MeasureOptions(warmup_runs=0, warmup_s=0.0, min_runs=5, max_runs=12, stable_checks=5),
                clock=work.clock)
    assert m.n == 12 and not m.converged


def test_on_sample_reports_every_sample_with_the_running_median():
    work = FakeWork(itertools.cycle([0.001, 0.003]))
    seen = []
    measure(work.run, MeasureOptions(warmup_runs=0, warmup_s=0.0, min_runs=4, max_runs=4), clock=work.clock,
            on_sample=lambda n, med, el: seen.append((n, med)))
    assert [n for n, _ in seen] == [1, 2, 3, 4]
    assert seen[1][1] == pytest.approx(2.0)  # median of 1 and 3 ms


def test_summary_statistics_interpolate_between_order_statistics():
    m = summarize([float(x) for x in range(1, 101)], converged=True)
    assert (m.median_ms, m.p95_ms, m.p99_ms, m.mean_ms, m.min_ms) == pytest.approx((50.5, 95.05, 99.01, 50.5, 1.0))
    assert m.tail_ratio == pytest.approx((95.05 - 50.5) / 50.5)


@pytest.mark.parametrize("bad", [dict(min_runs=0), dict(min_runs=20, max_runs=10), dict(time_cap_s=-1.0),
                                 dict(check_every=0), dict(rel_tol=float("nan"))])
def test_bad_options_are_rejected(bad):
    with pytest.raises(ValueError):
        MeasureOptions(**bad)


def test_others_share_is_machine_busy_time_minus_our_own():
    from skinflint.profiling.contention import CpuSnapshot, others_share, snapshot

    before, after = CpuSnapshot(100.0, 5.0, 0.0), CpuSnapshot(103.0, 6.0, 2.0)
    assert others_share(before, after, cpus=2) == pytest.approx((3.0 - 1.0) / (2.0 * 2))  # 2 s of 4 core-seconds
    assert others_share(before, CpuSnapshot(100.5, 7.0, 2.0), cpus=2) == 0.0  # clamped: tick granularity
    assert others_share(None, after) is None
    now = snapshot()
    assert now is None or now.machine_busy_s > 0
