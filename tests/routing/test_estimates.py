"""Unit tests of routing.estimates, the wait customers are quoted (pure Python: no
database, no Django models). The benchmark's baselines are tested in tests/bench/."""

from __future__ import annotations

import math
import random

import pytest

from bench.estimator_baselines import ErlangCEstimator, LastToEnterServiceEstimator, RocketChatEstimator
from routing.estimates import DEFAULT_NO_AGENT_SECONDS, EstimatorConfig, QueueHistory, WaitEstimator, estimator_from_history, wait_quote

ALL_ESTIMATORS = (WaitEstimator, RocketChatEstimator, ErlangCEstimator, LastToEnterServiceEstimator)


def _warm(est, handle: float = 400.0, n: int = 100, waits=(), abandons=()):
    """Feed an estimator a steady history."""
    t = 0.0
    for _ in range(n):
        t += 10.0
        est.record_arrival(t)
        est.record_service_end(t, handle)
    for w in waits:
        t += 10.0
        est.record_service_start(t, w)
    for w in abandons:
        t += 10.0
        est.record_abandon(t, w)
    return est, t


def _all_warm():
    return [_warm(cls())[0] for cls in ALL_ESTIMATORS]


def _ok(x: float) -> bool:
    return isinstance(x, float) and math.isfinite(x) and x >= 0.0


# -- monotonicity ---------------------------------------------------------------


@pytest.mark.parametrize("capacity,busy", [(12, 12), (12, 9), (3, 3), (30, 30)])
def test_all_estimators_non_decreasing_in_position(capacity, busy):
    for est in _all_warm():
        values = [est.estimate(p, capacity, busy, 1000.0) for p in range(1, 60)]
        assert all(b >= a for a, b in zip(values, values[1:])), est.name


def test_ours_strictly_increasing_once_queued():
    est, now = _warm(WaitEstimator(), abandons=[120.0] * 20, waits=[60.0] * 50)
    values = [est.estimate(p, 9, 9, now) for p in range(1, 30)]
    assert all(b > a for a, b in zip(values, values[1:]))


def test_ours_free_slots_mean_no_wait():
    est, now = _warm(WaitEstimator())
    assert est.estimate(1, 9, 6, now) == 0.0
    assert est.estimate(3, 9, 6, now) == 0.0
    assert est.estimate(4, 9, 6, now) > 0.0


def test_ours_first_in_line_waits_about_one_slot_release():
    est, now = _warm(WaitEstimator(EstimatorConfig(bias_alpha=0.0)), handle=600.0)
    # 10 busy slots, 600 s each: a slot frees every ~60 s (a bit less with
    # the conditioning on not giving up).
    value = est.estimate(1, 10, 10, now)
    assert 45.0 < value <= 60.0


def test_more_capacity_means_shorter_wait():
    est, now = _warm(WaitEstimator())
    assert est.estimate(10, 20, 20, now) < est.estimate(10, 10, 10, now)


def test_longer_handle_times_mean_longer_wait():
    short, now = _warm(WaitEstimator(), handle=200.0)
    long, _ = _warm(WaitEstimator(), handle=800.0)
    assert long.estimate(5, 9, 9, now) > short.estimate(5, 9, 9, now)


def test_abandonment_ahead_shortens_long_queues():
    patient, now = _warm(WaitEstimator(), waits=[100.0] * 100)
    impatient, _ = _warm(WaitEstimator(), waits=[100.0] * 50, abandons=[100.0] * 50)
    assert impatient.abandon_rate > patient.abandon_rate
    assert impatient.estimate(30, 9, 9, now) < patient.estimate(30, 9, 9, now)


# -- zero capacity, junk input: never negative, NaN or infinite -----------------


def test_zero_capacity_without_throughput_is_large_and_finite():
    est = WaitEstimator()
    assert est.estimate(1, 0, 0, 0.0) == DEFAULT_NO_AGENT_SECONDS
    assert quote(3, 0, 0, QueueHistory()) == DEFAULT_NO_AGENT_SECONDS


def test_zero_capacity_uses_recent_throughput():
    est = WaitEstimator()
    for i in range(60):  # one routing a minute during the last hour
        est.record_service_start(3600.0 + i * 60.0, 30.0)
    now = 3600.0 + 3600.0
    assert est.estimate(1, 0, 0, now) == pytest.approx(60.0, rel=0.05)
    assert est.estimate(5, 0, 0, now) == pytest.approx(300.0, rel=0.05)
    # ...and the throughput ages out.
    assert est.estimate(5, 0, 0, now + 10 * 3600.0) == DEFAULT_NO_AGENT_SECONDS


def test_zero_capacity_all_estimators_finite():
    for est in _all_warm():
        for p in (1, 2, 50):
            assert _ok(est.estimate(p, 0, 0, 1000.0)), est.name


def test_junk_inputs_never_negative_nan_or_inf():
    rng = random.Random(4)
    ests = _all_warm() + [WaitEstimator(), RocketChatEstimator(), ErlangCEstimator(), LastToEnterServiceEstimator()]
    for est in ests:
        est.record_service_end(1.0, float("nan"))
        est.record_service_end(1.0, -5.0)
        est.record_service_end(1.0, float("inf"))
        est.record_service_start(1.0, -3.0, -1.0)
        est.record_abandon(1.0, -7.0)
        for _ in range(300):
            pos = rng.randint(-5, 5000)
            cap = rng.randint(-3, 60)
            busy = rng.randint(-3, 80)
            assert _ok(est.estimate(pos, cap, busy, rng.uniform(0, 1e6))), (est.name, pos, cap, busy)


def test_huge_position_is_cheap_and_capped():
    est, now = _warm(WaitEstimator(), abandons=[60.0] * 10)
    value = est.estimate(10**9, 9, 9, now)
    assert _ok(value) and value <= est.config.max_seconds


def test_quote_from_empty_and_dirty_history():
    assert quote(1, 6, 6, QueueHistory()) > 0.0
    assert quote(1, 6, 3, QueueHistory()) == 0.0
    dirty = QueueHistory(
        handle_seconds=[300.0, float("nan"), -1.0, "x"],  # type: ignore[list-item]
        served=[(1.0, None, None), (2.0, 10.0, "y"), (float("inf"), 5.0, 3.0), (3.0,)],  # type: ignore[list-item]
        abandons=[("z", 1.0), (4.0, float("nan"))],  # type: ignore[list-item]
    )
    assert _ok(quote(4, 6, 6, dirty))


# -- bias correction ----------------------------------------------------------


def _feed_bias(est: WaitEstimator, ratio: float, n: int = 300) -> float:
    """Customers at position 5 actually wait ``ratio`` x the raw estimate."""
    _warm(est)
    before = est.estimate(5, 9, 9, 2000.0)
    for i in range(n):
        shown, raw = est.quote(5, 9, 9, 2000.0 + i)
        est.record_service_start(2000.0 + i, ratio * raw, raw)
    return before


@pytest.mark.parametrize("ratio", [1.5, 0.6])
def test_bias_correction_moves_towards_observed_waits(ratio):
    est = WaitEstimator()
    before = _feed_bias(est, ratio)
    after = est.estimate(5, 9, 9, 3000.0)
    if ratio > 1:
        assert est.bias_factor > 1.0 and after > before
    else:
        assert est.bias_factor < 1.0 and after < before
    assert est.bias_factor == pytest.approx(ratio, rel=0.05)
    assert after == pytest.approx(ratio * est.raw_estimate(5, 9, 9, 3000.0), rel=1e-9)


def test_bias_correction_disabled_and_clamped():
    off = WaitEstimator(EstimatorConfig(bias_alpha=0.0))
    _feed_bias(off, 1.7)
    assert off.bias_factor == 1.0
    wild = WaitEstimator()
    _feed_bias(wild, 10.0)
    assert wild.bias_factor == wild.config.bias_max


def test_bias_not_applied_to_no_wait_quotes():
    est = WaitEstimator()
    _feed_bias(est, 1.8)
    assert est.estimate(1, 9, 5, 3000.0) == 0.0


def test_quote_bias_from_the_raw_quotes_of_served_customers():
    handles = [400.0] * 100

    def served(waited, raw, n=100):
        return [(float(t), waited, raw) for t in range(n)]

    base_up = quote(6, 9, 9, QueueHistory(handle_seconds=handles, served=served(140.0, None)))
    up = quote(6, 9, 9, QueueHistory(handle_seconds=handles, served=served(140.0, 100.0)))
    base_down = quote(6, 9, 9, QueueHistory(handle_seconds=handles, served=served(70.0, None)))
    down = quote(6, 9, 9, QueueHistory(handle_seconds=handles, served=served(70.0, 100.0)))
    assert up == pytest.approx(1.4 * base_up, rel=1e-6)
    assert down == pytest.approx(0.7 * base_down, rel=1e-6)
    # A handful of pairs is not enough evidence yet.
    assert quote(6, 9, 9, QueueHistory(handle_seconds=handles, served=served(140.0, 100.0, n=3))) == pytest.approx(
        quote(6, 9, 9, QueueHistory(handle_seconds=handles, served=served(140.0, None, n=3)))
    )


# -- the quote is the estimator replayed over the history ---------------------------


def quote(position, capacity, busy, history, now=0.0):
    return wait_quote(position=position, eligible_capacity=capacity, busy_slots=busy, history=history, now=now)[0]


def test_quote_is_the_estimator_fed_the_same_events_in_time_order():
    history = QueueHistory(
        handle_seconds=[300.0, 500.0, 450.0, 380.0] * 25,
        served=[(float(t), [0.0, 40.0, 120.0][t % 3], 80.0 if t % 2 else None) for t in range(90)],
        abandons=[(t + 0.5, [150.0, 400.0][t % 2]) for t in range(0, 90, 9)],
    )
    fed = WaitEstimator()
    for handle in history.handle_seconds:
        fed.record_service_end(0.0, handle)
    exits = [(at, "served", waited, raw) for at, waited, raw in history.served] + [(at, "left", waited, None) for at, waited in history.abandons]
    for at, kind, waited, raw in sorted(exits):
        if kind == "served":
            fed.record_service_start(at, waited, raw)
        else:
            fed.record_abandon(at, waited)
    for position in (1, 7, 30):
        assert quote(position, 12, 12, history, now=100.0) == pytest.approx(fed.estimate(position, 12, 12, 100.0))
    assert estimator_from_history(history).handle_count == 100


def test_abandons_in_the_history_shorten_long_queues():
    served = [(float(t), 60.0, None) for t in range(100)]
    patient = quote(20, 9, 9, QueueHistory(handle_seconds=[400.0], served=served))
    impatient = quote(20, 9, 9, QueueHistory(handle_seconds=[400.0], served=served, abandons=[(t + 0.5, 60.0) for t in range(100)]))
    assert impatient < patient


def test_a_full_window_of_each_keeps_both_served_and_abandoned():
    # 100 served then 100 abandoned (the database's windows) must not read as "everyone abandons".
    mixed = QueueHistory(handle_seconds=[400.0], served=[(float(t), 60.0, None) for t in range(100)], abandons=[(100.0 + t, 60.0) for t in range(100)])
    all_abandon = QueueHistory(handle_seconds=[400.0], abandons=[(100.0 + t, 60.0) for t in range(100)])
    assert quote(20, 9, 9, mixed) > quote(20, 9, 9, all_abandon)
