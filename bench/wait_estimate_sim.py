"""Discrete-event benchmark of the wait customers are quoted (``routing.estimates``)
against the baselines in ``bench/estimator_baselines.py``.

Run::

    python bench/wait_estimate_sim.py                      # defaults
    python bench/wait_estimate_sim.py --seed 7 --hours 48 --replications 3

or from code (``make bench``)::

    from bench.wait_estimate_sim import run
    figures = run(seed=1, hours=72, replications=10)
    figures["ratio_all"], figures["target_met"], figures["mean"]["all"]["ours"]

Model (one brand+category queue, FIFO):

* Arrivals: non-homogeneous Poisson process (thinning) with an hourly profile
  -- quiet night, morning ramp, lunch peak, afternoon, evening -- scaled by a
  random per-day factor, so that at the peak the offered load exceeds the
  staffed capacity on some days.
* Agents: shifts (night, early, day, late, evening) of agents with 2 or 3
  concurrent-chat slots; each agent misses a day with some probability and
  takes a 45-minute break near mid-shift.  An agent who logs off (break or
  end of shift) stops taking chats but finishes the ones it has (those slots
  are no longer "eligible").  Customers arriving while nobody is online get
  the offline form and do not queue.
* Handle time: lognormal (median 6 min, sigma 0.6), independent of load.
* Patience: lognormal (mean 8 min, sigma 1.0) -- deliberately *not* the
  exponential the estimator assumes; customers still queued when their
  patience runs out give up.
* Routing: whenever a customer arrives, a chat ends or an agent logs in, the
  head of the queue goes to the online agent with most free slots.

At each arrival every estimator is asked, with the same information
(position, eligible capacity, busy slots, now, and the event history it was
fed), for its estimate; for customers who got served the estimate is compared
with the realised wait.  Exit code is always 0.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import statistics
import sys
import time
from collections import deque
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

import simpy

if __package__ in (None, ""):  # executed as a script: make the repo importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.estimator_baselines import (  # noqa: E402
    BaseEstimator,
    ErlangCEstimator,
    LastToEnterServiceEstimator,
    RocketChatEstimator,
)
from routing.estimates import EXIT_WINDOW, HISTORY_WINDOW, QueueHistory, wait_quote  # noqa: E402

TARGET_RATIO = 0.8
HOUR = 3600.0

#: Customers per hour at the start of each hour of the day (linearly
#: interpolated in between).
DEFAULT_PROFILE: tuple[float, ...] = (
    10, 7, 5, 5, 6, 10,        # 00-05 quiet night
    20, 45, 90, 130, 150, 165,  # 06-11 morning ramp
    220, 225, 160, 145, 140, 125,  # 12-17 lunch peak, afternoon
    110, 95, 80, 55, 35, 18,    # 18-23 evening
)

#: (start hour, end hour, slots per agent, number of agents); end may be > 24.
DEFAULT_SHIFTS: tuple[tuple[float, float, int, int], ...] = (
    (0.0, 8.0, 3, 2),    # night
    (7.0, 15.0, 3, 3),   # early
    (7.5, 15.5, 2, 2),
    (9.0, 17.0, 3, 2),   # day
    (11.0, 19.0, 2, 2),  # late
    (12.0, 20.0, 3, 2),
    (16.0, 24.0, 3, 2),  # evening
    (18.0, 24.0, 2, 1),
)


@dataclass
class SimParams:
    """Parameters of one simulated queue."""

    profile: tuple[float, ...] = DEFAULT_PROFILE
    shifts: tuple[tuple[float, float, int, int], ...] = DEFAULT_SHIFTS
    day_factor_sigma: float = 0.15     # lognormal sd of the per-day volume factor
    absence_prob: float = 0.08         # chance an agent misses a given shift
    break_minutes: float = 45.0        # one break in shifts of >= 6 h, near mid-shift
    handle_median_s: float = 360.0
    handle_sigma: float = 0.6
    patience_mean_s: float = 480.0
    patience_sigma: float = 1.0        # 0 => exponential patience
    load_factor: float = 1.1           # multiplies the arrival profile
    warmup_s: float = 3600.0           # customers arriving earlier are not scored


class AppEstimator(BaseEstimator):
    """What customers are quoted: ``routing.estimates.wait_quote`` over the same windows
    of recent history the app reads from its database (``routing.selectors.queue_history``)."""

    name = "ours"

    def __init__(self) -> None:
        self.handles: deque[float] = deque(maxlen=HISTORY_WINDOW)
        # Queue exits, served or abandoned, in one window as the database reads them.
        self.exits: deque[tuple[float, float, float | None, bool]] = deque(maxlen=EXIT_WINDOW)

    def record_service_start(self, now: float, waited_seconds: float, predicted_seconds: float | None = None) -> None:
        self.exits.append((now, waited_seconds, predicted_seconds, False))

    def record_service_end(self, now: float, handle_seconds: float) -> None:
        self.handles.append(handle_seconds)

    def record_abandon(self, now: float, waited_seconds: float) -> None:
        self.exits.append((now, waited_seconds, None, True))

    def quote(self, position: int, eligible_capacity: int, busy_slots: int, now: float) -> tuple[float, float]:
        history = QueueHistory(
            handle_seconds=list(self.handles),
            served=[(at, waited, raw) for at, waited, raw, abandoned in self.exits if not abandoned],
            abandons=[(at, waited) for at, waited, _, abandoned in self.exits if abandoned],
        )
        return wait_quote(position=position, eligible_capacity=eligible_capacity, busy_slots=busy_slots, history=history, now=now)

    def estimate(self, position: int, eligible_capacity: int, busy_slots: int, now: float) -> float:
        return self.quote(position, eligible_capacity, busy_slots, now)[0]


def make_estimators() -> dict[str, BaseEstimator]:
    """Fresh estimators, ours first."""
    return {
        "ours": AppEstimator(),
        "rocketchat": RocketChatEstimator(),
        "erlang_c": ErlangCEstimator(),
        "les": LastToEnterServiceEstimator(),
    }


class _Agent:
    __slots__ = ("slots", "busy", "online")

    def __init__(self, slots: int) -> None:
        self.slots = slots
        self.busy = 0
        self.online = False


class _Customer:
    __slots__ = ("arrival", "event", "quotes", "feedback", "queued", "served_at", "patience", "state")

    def __init__(self, arrival: float, event: simpy.Event, quotes: dict[str, float],
                 feedback: dict[str, float], queued: bool, patience: float,
                 state: tuple[int, int, int]) -> None:
        self.arrival = arrival
        self.feedback = feedback
        self.state = state  # (position, eligible_capacity, busy_slots) at arrival
        self.event = event
        self.quotes = quotes
        self.queued = queued  # had to wait: position > free slots at arrival
        self.served_at: float | None = None
        self.patience = patience


class _Sim:
    def __init__(self, seed: int, hours: float, params: SimParams,
                 estimator_factory: Callable[[], dict[str, BaseEstimator]]) -> None:
        self.rng = random.Random(seed)
        self.env = simpy.Environment()
        self.p = params
        self.horizon = hours * HOUR
        self.ests = estimator_factory()
        self.queue: list[_Customer] = []
        self.agents: list[_Agent] = []
        # (actual wait, had to queue, quotes, arrival time, (position, capacity, busy))
        self.records: list[tuple[float, bool, dict[str, float], float, tuple[int, int, int]]] = []
        self.n_arrivals = 0
        self.n_abandoned = 0
        self.n_offline = 0
        self.n_days = int(math.ceil(hours / 24.0)) + 1
        sd = params.day_factor_sigma
        self.day_factor = [math.exp(self.rng.gauss(0.0, sd) - sd * sd / 2) for _ in range(self.n_days)]

    # -- model pieces ---------------------------------------------------------

    def rate(self, t: float) -> float:
        """Arrivals per second at time t."""
        day = int(t // (24 * HOUR))
        h = (t % (24 * HOUR)) / HOUR
        i = int(h)
        frac = h - i
        prof = self.p.profile
        per_hour = prof[i] * (1 - frac) + prof[(i + 1) % 24] * frac
        return per_hour * self.p.load_factor * self.day_factor[min(day, self.n_days - 1)] / HOUR

    def max_rate(self) -> float:
        return max(self.p.profile) * self.p.load_factor * max(self.day_factor) / HOUR

    def handle_time(self) -> float:
        return self.p.handle_median_s * math.exp(self.p.handle_sigma * self.rng.gauss(0.0, 1.0))

    def patience(self) -> float:
        m, s = self.p.patience_mean_s, self.p.patience_sigma
        if s <= 0:
            return self.rng.expovariate(1.0 / m)
        mu = math.log(m) - s * s / 2
        return math.exp(mu + s * self.rng.gauss(0.0, 1.0))

    def capacity_busy(self) -> tuple[int, int]:
        cap = busy = 0
        for a in self.agents:
            if a.online:
                cap += a.slots
                busy += a.busy
        return cap, busy

    # -- processes ------------------------------------------------------------

    def arrivals(self) -> Generator[simpy.Event, Any, None]:
        lam_max = self.max_rate()
        while True:
            yield self.env.timeout(self.rng.expovariate(lam_max))
            if self.env.now >= self.horizon:
                return
            if self.rng.random() * lam_max <= self.rate(self.env.now):
                self.env.process(self.customer())

    def shift(self, agent: _Agent, start: float, end: float) -> Generator[simpy.Event, Any, None]:
        brk = self.p.break_minutes * 60.0
        if end - start >= 6 * HOUR and brk > 0:
            mid = (start + end) / 2 + self.rng.uniform(-HOUR, HOUR) - brk / 2
            parts = [(start, mid), (mid + brk, end)]
        else:
            parts = [(start, end)]
        for on, off in parts:
            yield self.env.timeout(on - self.env.now)
            agent.online = True
            self.dispatch()
            yield self.env.timeout(off - on)
            agent.online = False  # stops taking chats, finishes its current ones

    def customer(self) -> Generator[simpy.Event, Any, None]:
        env = self.env
        now = env.now
        self.n_arrivals += 1
        cap, busy = self.capacity_busy()
        if cap == 0:
            # Nobody online: the widget shows the offline form, nobody queues.
            self.n_offline += 1
            return
        position = len(self.queue) + 1
        quotes: dict[str, float] = {}
        feedback: dict[str, float] = {}
        for name, est in self.ests.items():
            est.record_arrival(now)
            quotes[name], feedback[name] = est.quote(position, cap, busy, now)
        cust = _Customer(now, env.event(), quotes, feedback, position > cap - busy, self.patience(),
                         (position, cap, busy))
        self.queue.append(cust)
        self.dispatch()
        if not cust.event.triggered:
            yield cust.event | env.timeout(cust.patience)
        if cust.served_at is None:  # gave up
            self.queue.remove(cust)
            self.n_abandoned += 1
            for est in self.ests.values():
                est.record_abandon(env.now, env.now - cust.arrival)
            return
        agent = cust.event.value
        assert isinstance(agent, _Agent)
        handle = self.handle_time()
        yield env.timeout(handle)
        agent.busy -= 1
        for est in self.ests.values():
            est.record_service_end(env.now, handle)
        self.dispatch()

    def dispatch(self) -> None:
        """Route queue heads to the online agent with most free slots."""
        now = self.env.now
        while self.queue:
            best: _Agent | None = None
            best_free = 0
            for a in self.agents:
                if a.online and a.slots - a.busy > best_free:
                    best, best_free = a, a.slots - a.busy
            if best is None:
                return
            cust = self.queue.pop(0)
            best.busy += 1
            cust.served_at = now
            waited = now - cust.arrival
            for name, est in self.ests.items():
                est.record_service_start(now, waited, cust.feedback[name])
            if cust.arrival >= self.p.warmup_s:
                self.records.append((waited, cust.queued, cust.quotes, cust.arrival, cust.state))
            cust.event.succeed(best)

    def run(self) -> None:
        for start_h, end_h, slots, count in self.p.shifts:
            for _ in range(count):
                for day in range(self.n_days):
                    agent = _Agent(slots)
                    self.agents.append(agent)
                    if self.rng.random() < self.p.absence_prob:
                        continue
                    self.env.process(self.shift(agent, (day * 24 + start_h) * HOUR,
                                                (day * 24 + end_h) * HOUR))
        self.env.process(self.arrivals())
        self.env.run(until=self.horizon + 6 * HOUR)  # let the last queue drain


def _metrics(actual: list[float], quoted: list[float]) -> dict[str, float]:
    n = len(actual)
    if n == 0:
        return {"n": 0, "rmse_s": 0.0, "rmse_rel": 0.0, "share_within": 0.0, "mean_signed_error_s": 0.0}
    err = [q - a for q, a in zip(quoted, actual)]
    rmse = math.sqrt(sum(e * e for e in err) / n)
    mean_actual = sum(actual) / n
    return {
        "n": n,
        "rmse_s": rmse,
        "rmse_rel": rmse / mean_actual if mean_actual > 0 else 0.0,
        "share_within": sum(1 for q, a in zip(quoted, actual) if a <= q) / n,
        "mean_signed_error_s": sum(err) / n,
    }


def simulate(seed: int, hours: float, params: SimParams | None = None,
             estimator_factory: Callable[[], dict[str, BaseEstimator]] = make_estimators) -> dict[str, Any]:
    """One replication; returns per-estimator figures for all served customers
    (``all``) and for those who had to queue at arrival (``queued``)."""
    params = params or SimParams()
    sim = _Sim(seed, hours, params, estimator_factory)
    sim.run()
    names = list(sim.ests)
    recs = sim.records
    actual = [r[0] for r in recs]
    queued_recs = [r for r in recs if r[1]]
    out: dict[str, Any] = {
        "seed": seed,
        "arrivals": sim.n_arrivals,
        "served_scored": len(actual),
        "abandon_rate": sim.n_abandoned / max(1, sim.n_arrivals - sim.n_offline),
        "offline_arrivals": sim.n_offline,
        "mean_wait_s": statistics.fmean(actual) if actual else 0.0,
        "queued_share": len(queued_recs) / len(recs) if recs else 0.0,
        "all": {},
        "queued": {},
    }
    for name in names:
        out["all"][name] = _metrics(actual, [r[2][name] for r in recs])
        out["queued"][name] = _metrics([r[0] for r in queued_recs], [r[2][name] for r in queued_recs])
    return out


def _ratio(block: dict[str, dict[str, float]], ours: str = "ours") -> tuple[float, str]:
    baselines = {k: v["rmse_s"] for k, v in block.items() if k != ours}
    best = min(baselines, key=lambda k: baselines[k])
    if baselines[best] <= 0.0:  # nothing scored (tiny runs) or perfect baseline
        return (1.0 if block[ours]["rmse_s"] <= 0.0 else math.inf), best
    return block[ours]["rmse_s"] / baselines[best], best


def run(seed: int = 1, hours: float = 72.0, replications: int = 10,
        params: SimParams | None = None) -> dict[str, Any]:
    """Run ``replications`` simulations (seeds ``seed .. seed+replications-1``)
    and return the mean figures.

    Keys: ``reps`` (per-replication dicts from :func:`simulate`), ``mean`` ->
    ``{"all"|"queued": {estimator: {rmse_rel, share_within,
    mean_signed_error_s, rmse_s}}}``, ``ratio_all`` / ``ratio_queued`` (mean
    over replications of our RMSE / best baseline RMSE), ``best_baseline_*``,
    ``target`` and ``target_met`` (``ratio_all <= target``), plus context
    (mean wait, abandonment, share of customers who had to queue).
    """
    reps = [simulate(seed + i, hours, params) for i in range(replications)]
    names = list(reps[0]["all"])
    mean: dict[str, dict[str, dict[str, float]]] = {}
    for block in ("all", "queued"):
        mean[block] = {}
        for name in names:
            mean[block][name] = {
                key: statistics.fmean(r[block][name][key] for r in reps)
                for key in ("rmse_s", "rmse_rel", "share_within", "mean_signed_error_s")
            }
    ratios_all = [_ratio(r["all"])[0] for r in reps]
    ratios_q = [_ratio(r["queued"])[0] for r in reps]
    ratio_all = statistics.fmean(ratios_all)
    ratio_q = statistics.fmean(ratios_q)
    return {
        "seed": seed,
        "hours": hours,
        "replications": replications,
        "reps": reps,
        "mean": mean,
        "ratio_all": ratio_all,
        "ratio_queued": ratio_q,
        "ratio_all_per_rep": ratios_all,
        "best_baseline_all": _ratio(mean["all"])[1],
        "best_baseline_queued": _ratio(mean["queued"])[1],
        "context": {
            "arrivals_per_rep": statistics.fmean([r["arrivals"] for r in reps]),
            "served_scored_per_rep": statistics.fmean([r["served_scored"] for r in reps]),
            "mean_wait_s": statistics.fmean([r["mean_wait_s"] for r in reps]),
            "abandon_rate": statistics.fmean([r["abandon_rate"] for r in reps]),
            "queued_share": statistics.fmean([r["queued_share"] for r in reps]),
        },
        "target": TARGET_RATIO,
        "target_met": ratio_all <= TARGET_RATIO,
    }


def format_report(res: dict[str, Any]) -> str:
    ctx = res["context"]
    lines = [
        f"wait-estimate benchmark: seed={res['seed']} hours={res['hours']:g} "
        f"replications={res['replications']}",
        f"per replication: {ctx['arrivals_per_rep']:.0f} arrivals, {ctx['served_scored_per_rep']:.0f} served "
        f"& scored, mean actual wait {ctx['mean_wait_s']:.0f} s, abandoned {ctx['abandon_rate']:.1%}, "
        f"had to queue {ctx['queued_share']:.1%}",
    ]
    for block, title in (("all", "all served customers"), ("queued", "served customers who had to queue")):
        lines.append("")
        lines.append(f"[{title}]  (means over replications)")
        lines.append(f"{'estimator':<12} {'RMSE/mean':>10} {'RMSE s':>8} {'actual<=quote':>14} {'mean err s':>11}")
        for name, m in res["mean"][block].items():
            lines.append(f"{name:<12} {m['rmse_rel']:>10.3f} {m['rmse_s']:>8.0f} "
                         f"{m['share_within']:>14.1%} {m['mean_signed_error_s']:>+11.0f}")
    lines.append("")
    lines.append(f"ours / best baseline RMSE, all served:   {res['ratio_all']:.3f} "
                 f"(best baseline: {res['best_baseline_all']}; per rep: "
                 + ", ".join(f"{r:.3f}" for r in res["ratio_all_per_rep"]) + ")")
    lines.append(f"ours / best baseline RMSE, had to queue: {res['ratio_queued']:.3f} "
                 f"(best baseline: {res['best_baseline_queued']})")
    verdict = "MET" if res["target_met"] else "NOT MET"
    lines.append(f"TARGET (ratio <= {res['target']:.2f} on all served): {verdict}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=1, help="first seed (default 1)")
    ap.add_argument("--hours", type=float, default=72.0, help="simulated hours per replication (default 72)")
    ap.add_argument("--replications", type=int, default=10, help="independent replications (default 10)")
    ap.add_argument("--load-factor", type=float, default=SimParams.load_factor,
                    help=f"multiplies the arrival profile (default {SimParams.load_factor})")
    ap.add_argument("--exponential-patience", action="store_true",
                    help="exponential instead of lognormal patience")
    args = ap.parse_args(argv)
    params = SimParams(load_factor=args.load_factor)
    if args.exponential_patience:
        params.patience_sigma = 0.0
    t0 = time.perf_counter()
    try:
        res = run(args.seed, args.hours, args.replications, params)
        print(format_report(res))
    except Exception as exc:  # a benchmark never fails the build
        print(f"benchmark error: {exc!r}")
    print(f"elapsed {time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
