"""The benchmark's baseline estimators (bench/estimator_baselines.py) and the
simulation that scores the quoted wait against them."""

from __future__ import annotations

import math

import pytest

from bench.estimator_baselines import ErlangCEstimator, LastToEnterServiceEstimator, RocketChatEstimator, erlang_c_probability
from tests.routing.test_estimates import _ok, _warm


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
