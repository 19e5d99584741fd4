"""Unit tests of routing.estimates (pure Python: no database, no Django models)."""

from __future__ import annotations

import json
import math
import random

import pytest

from routing.estimates import (
    ALL_ESTIMATORS,
    DEFAULT_NO_AGENT_SECONDS,
    ErlangCEstimator,
    EstimatorConfig,
    LastToEnterServiceEstimator,
    RocketChatEstimator,
    WaitEstimator,
    erlang_c_probability,
    estimate_wait_seconds,
)


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
    return [_warm(cls())[0] for cls in ALL_ESTIMATORS.values()]


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
    assert estimate_wait_seconds(3, 0, 0, []) == DEFAULT_NO_AGENT_SECONDS


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


def test_function_form_handles_empty_and_dirty_lists():
    assert estimate_wait_seconds(1, 6, 6, []) > 0.0
    assert estimate_wait_seconds(1, 6, 3, []) == 0.0
    value = estimate_wait_seconds(4, 6, 6, [300.0, float("nan"), -1.0, "x"], recent_waits=[None, 10.0])  # type: ignore[list-item]
    assert _ok(value)


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


def test_function_form_bias_from_quote_pairs():
    handles = [400.0] * 100
    base = estimate_wait_seconds(6, 9, 9, handles)
    up = estimate_wait_seconds(6, 9, 9, handles, recent_quotes=[(100.0, 140.0)] * 100)
    down = estimate_wait_seconds(6, 9, 9, handles, recent_quotes=[(100.0, 70.0)] * 100)
    assert down < base < up
    assert up == pytest.approx(1.4 * base, rel=1e-6)
    # A handful of pairs is not enough evidence yet.
    assert estimate_wait_seconds(6, 9, 9, handles, recent_quotes=[(100.0, 140.0)] * 3) == pytest.approx(base)


# -- state & function form ------------------------------------------------------


def test_state_round_trips_through_json():
    est, now = _warm(WaitEstimator(), waits=[30.0, 90.0] * 20, abandons=[200.0] * 5)
    _feed_bias(est, 1.3, n=50)
    blob = json.dumps(est.to_dict())
    assert len(blob) < 20_000
    clone = WaitEstimator.from_dict(json.loads(blob))
    for p in (1, 4, 17):
        assert clone.estimate(p, 9, 9, now) == est.estimate(p, 9, 9, now)


def test_function_form_matches_class_on_same_data():
    handles = [300.0, 500.0, 450.0, 380.0] * 25
    waits = [0.0, 40.0, 120.0] * 30
    abandons = [150.0, 400.0] * 5
    est = WaitEstimator()
    est.handle_ewma, est.handle_count = sum(handles) / len(handles), len(handles)
    for w in waits:
        est.record_service_start(0.0, w)
    for w in abandons:
        est.record_abandon(0.0, w)
    f = estimate_wait_seconds(7, 12, 12, handles, recent_waits=waits, recent_abandon_waits=abandons)
    assert f == pytest.approx(est.estimate(7, 12, 12, 0.0))


def test_function_form_unknown_abandons_use_the_prior():
    waits = [0.0, 60.0, 200.0] * 30
    unknown = estimate_wait_seconds(20, 9, 9, [400.0], recent_waits=waits)
    nobody_gave_up = estimate_wait_seconds(20, 9, 9, [400.0], recent_waits=waits, recent_abandon_waits=[])
    prior_only = estimate_wait_seconds(20, 9, 9, [400.0])
    assert unknown == pytest.approx(prior_only)
    assert nobody_gave_up > unknown  # "nobody gives up" means a slower line


def test_function_form_keeps_all_exits_the_caller_gives():
    # 200 served then 200 abandoned must not collapse to "everyone abandons".
    mixed = estimate_wait_seconds(20, 9, 9, [400.0], recent_waits=[60.0] * 200, recent_abandon_waits=[60.0] * 200)
    all_abandon = estimate_wait_seconds(20, 9, 9, [400.0], recent_abandon_waits=[60.0] * 200)
    assert mixed > all_abandon


# -- baselines ------------------------------------------------------------------


def test_rocketchat_formula():
    est = RocketChatEstimator()
    for h in [300.0, 500.0]:
        est.record_service_end(0.0, h)
    assert est.estimate(1, 6, 6, 0.0) == pytest.approx(400.0)
    assert est.estimate(7, 6, 6, 0.0) == pytest.approx(800.0)
    assert est.estimate(3, 0, 0, 0.0) == pytest.approx(1200.0)  # capacity guarded to 1
    # Only the last 100 chats count.
    for _ in range(100):
        est.record_service_end(0.0, 100.0)
    assert est.estimate(1, 6, 6, 0.0) == pytest.approx(100.0)


def test_erlang_c_probability_known_values():
    assert erlang_c_probability(1, 0.5) == pytest.approx(0.5)
    assert erlang_c_probability(2, 1.0) == pytest.approx(1 / 3)
    assert erlang_c_probability(3, 3.0) == 1.0
    assert erlang_c_probability(5, 0.0) == 0.0
    assert 0.0 < erlang_c_probability(100, 90.0) < 1.0


def test_erlang_c_estimator():
    est = ErlangCEstimator(arrival_window_seconds=1000.0)
    for _ in range(10):
        est.record_service_end(0.0, 600.0)  # mu = 1/600
    for i in range(5):
        est.record_arrival(500.0 + i)  # lambda = 5 / 1000 s
    # c = 6 slots: c*mu = 0.01 / s, lambda = 0.005 / s -> 1 / 0.005 = 200 s
    assert est.estimate(1, 6, 6, 600.0) == pytest.approx(200.0)
    assert est.estimate(1, 6, 4, 600.0) == 0.0
    # Arrivals age out of the window: lambda -> 0, wait -> 1/(c*mu) = 100 s.
    assert est.estimate(1, 6, 6, 5000.0) == pytest.approx(100.0)
    # Overload is clamped, not infinite.
    for i in range(500):
        est.record_arrival(5000.0 + i)
    assert _ok(est.estimate(1, 6, 6, 5500.0))


def test_les_quotes_last_wait():
    est = LastToEnterServiceEstimator()
    assert est.estimate(3, 6, 6, 0.0) == 0.0
    est.record_service_start(10.0, 75.0)
    est.record_service_start(11.0, 42.0)
    assert est.estimate(1, 6, 6, 12.0) == 42.0
    assert est.estimate(9, 0, 0, 12.0) == 42.0


def test_quote_feedback_defaults_to_estimate_for_baselines():
    est, now = _warm(RocketChatEstimator())
    shown, feedback = est.quote(2, 6, 6, now)
    assert shown == feedback == est.estimate(2, 6, 6, now)


# -- the simulation -------------------------------------------------------------


def test_short_simulation_returns_finite_figures():
    pytest.importorskip("simpy")
    from bench.wait_estimate_sim import format_report, run

    res = run(seed=3, hours=8, replications=2)
    assert set(res["mean"]["all"]) == {"ours", "rocketchat", "erlang_c", "les"}
    for block in ("all", "queued"):
        for name, figs in res["mean"][block].items():
            for key, value in figs.items():
                assert math.isfinite(value), (block, name, key)
            assert 0.0 <= figs["share_within"] <= 1.0
    assert math.isfinite(res["ratio_all"]) and res["ratio_all"] > 0
    assert isinstance(res["target_met"], bool)
    assert "TARGET" in format_report(res)
