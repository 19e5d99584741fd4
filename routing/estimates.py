"""Queue wait-time estimates for live chat ("position N, estimated wait X").

Pure Python (standard library only, no Django, no numpy) so that it can be
used from the request path, from Celery tasks and from the offline
simulation in ``bench/wait_estimate_sim.py`` alike.

Vocabulary
----------
A *queue* is one brand + problem category.  Agents are *eligible* for it when
they are online and assigned to that brand/category.  Each agent handles
several chats at once; the sum of the concurrent-chat limits of the eligible
agents is ``eligible_capacity`` (slots), the number of those slots currently
holding a chat is ``busy_slots``.  ``position`` is the 1-based position of the
customer in the queue (1 = next to be routed).

All times are in seconds; ``now`` is any monotonic clock in seconds (the app
uses the Unix timestamp, the simulation its own clock).

Public API
----------
* :class:`WaitEstimator` -- the recommended estimator (state-based with
  abandonment and online bias correction).  Feed it events, ask it
  :meth:`WaitEstimator.estimate`.  Its state is small and JSON-serializable
  (:meth:`~WaitEstimator.to_dict` / :meth:`~WaitEstimator.from_dict`).
* :func:`estimate_wait_seconds` -- the same estimator as a function of plain
  numbers, for the Django side which keeps recent handle times / waits in the
  database.
* Baselines with the same interface: :class:`RocketChatEstimator`,
  :class:`ErlangCEstimator`, :class:`LastToEnterServiceEstimator`.

Every ``estimate`` returns a finite float ``>= 0`` (never NaN, never inf).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any

__all__ = [
    "EstimatorConfig",
    "BaseEstimator",
    "WaitEstimator",
    "RocketChatEstimator",
    "ErlangCEstimator",
    "LastToEnterServiceEstimator",
    "estimate_wait_seconds",
    "erlang_c_probability",
    "ALL_ESTIMATORS",
    "DEFAULT_NO_AGENT_SECONDS",
    "DEFAULT_MAX_SECONDS",
]

#: Returned when nothing at all is known (no agents online and no throughput
#: observed recently).  Large, honest ("about an hour or more"), but finite.
DEFAULT_NO_AGENT_SECONDS = 3600.0
#: Hard ceiling for any estimate.
DEFAULT_MAX_SECONDS = 4 * 3600.0


def _finite_nonneg(value: float, cap: float) -> float:
    """Clamp ``value`` into ``[0, cap]``; NaN becomes ``cap``."""
    if value != value:  # NaN
        return float(cap)
    if value <= 0.0:
        return 0.0
    return float(min(value, cap))


def _clean(values: Iterable[float] | None) -> list[float]:
    """Keep finite, non-negative numbers only."""
    if not values:
        return []
    out: list[float] = []
    for v in values:
        try:
            f = float(v)
        except (TypeError, ValueError):
            continue
        if f == f and f >= 0.0 and f != math.inf:
            out.append(f)
    return out


def _stage_sum(base_rate: float, step: float, k: int, exact_terms: int = 2000) -> float:
    """``sum_{j=0}^{k-1} 1 / (base_rate + j * step)`` for ``base_rate > 0``.

    Exact for the first ``exact_terms`` terms, then the midpoint-rule integral
    ``ln((b + (k - 1/2) s) / (b + (J - 1/2) s)) / s`` (error ~1e-8 relative), so
    absurd positions cost O(1).
    """
    total = 0.0
    n = min(k, exact_terms)
    for j in range(n):
        total += 1.0 / (base_rate + j * step)
    if k > n:
        if step > 0.0:
            total += math.log((base_rate + (k - 0.5) * step) / (base_rate + (n - 0.5) * step)) / step
        else:
            total += (k - n) / base_rate
    return total


class BaseEstimator:
    """Common interface of every estimator in this module.

    Event methods are no-ops here; subclasses use the ones they need.  The
    ``predicted_seconds`` argument of :meth:`record_service_start` is the
    estimate *this estimator* quoted to that customer when it joined the
    queue (the app stores it on the conversation); estimators that learn from
    their own errors use it, others ignore it.
    """

    name: str = "base"

    def record_arrival(self, now: float) -> None:
        """A customer joined the queue at ``now``."""

    def record_service_start(
        self, now: float, waited_seconds: float, predicted_seconds: float | None = None
    ) -> None:
        """A queued customer was routed to an agent after ``waited_seconds``."""

    def record_service_end(self, now: float, handle_seconds: float) -> None:
        """A chat ended after ``handle_seconds`` of handling (a slot freed)."""

    def record_abandon(self, now: float, waited_seconds: float) -> None:
        """A queued customer gave up after ``waited_seconds``."""

    def estimate(self, position: int, eligible_capacity: int, busy_slots: int, now: float) -> float:
        """Expected wait in seconds for the customer at 1-based ``position``."""
        raise NotImplementedError

    def quote(self, position: int, eligible_capacity: int, busy_slots: int, now: float) -> tuple[float, float]:
        """``(estimate, feedback)``: show ``estimate`` to the customer, store
        ``feedback`` with the conversation and hand it back as
        ``predicted_seconds`` to :meth:`record_service_start`.  For most
        estimators both are the same number."""
        value = self.estimate(position, eligible_capacity, busy_slots, now)
        return value, value


# ---------------------------------------------------------------------------
# The recommended estimator
# ---------------------------------------------------------------------------


@dataclass
class EstimatorConfig:
    """Tunables of :class:`WaitEstimator` (defaults are the benchmarked ones)."""

    #: Handle time assumed before any chat has ended (seconds).
    prior_handle_seconds: float = 420.0
    #: EWMA weight of a new handle time (0.02 ~ the last ~100 chats).
    handle_alpha: float = 0.02
    #: How many recent queue exits (served or abandoned) to keep for the
    #: abandonment-rate estimate.
    abandon_window: int = 200
    #: Prior patience (seconds) used with ``abandon_prior_weight`` pseudo
    #: observations to stabilise the abandonment rate when data is scarce.
    prior_patience_seconds: float = 600.0
    abandon_prior_weight: float = 2.0
    #: Model the customer's *own* chance to give up, i.e. estimate the wait
    #: *of customers who do get served* (that is what is ever observed, and
    #: what the bias correction is fitted on).  False = "if you stay forever".
    condition_on_service: bool = True
    #: EWMA weight of the online bias correction (ratio of observed waits to
    #: *raw* model estimates, for served customers who had to queue; ~the last
    #: 100 of them).  0 disables it.
    bias_alpha: float = 0.01
    bias_min: float = 0.5
    bias_max: float = 2.0
    #: Window (seconds) over which service starts are counted to estimate
    #: throughput when no agent is online.
    throughput_window_seconds: float = 3600.0
    no_agent_seconds: float = DEFAULT_NO_AGENT_SECONDS
    max_seconds: float = DEFAULT_MAX_SECONDS


class WaitEstimator(BaseEstimator):
    """State-based wait estimator with abandonment and bias correction.

    Model (see ``docs/wait_estimate.md``): while a customer is queued every
    eligible slot is busy, and slots free up as a Poisson process of rate
    ``c * mu`` (``c`` = eligible slots, ``1/mu`` = EWMA of recent handle
    times).  Customers ahead also give up, each at rate ``theta`` (estimated
    from recent queue exits: abandons / total time waited).  With ``j``
    customers still ahead the line moves one step at rate ``c*mu + j*theta``,
    so the expected time to be routed from position ``n`` (after free slots
    ``f`` have absorbed the first ``f`` customers, ``k = n - f``) is::

        W(k) = sum_{j=0}^{k-1} 1 / (c*mu + j*theta [+ theta])

    where the bracketed ``theta`` (``condition_on_service``) conditions on the
    customer not giving up themself (exponential-stage tilting).  Finally the
    estimate is multiplied by an online bias factor: EWMA(observed waits) /
    EWMA(raw model estimates) over recently served customers who had to
    queue.  The raw estimate must therefore be fed back: use :meth:`quote`,
    show its first number, store its second with the conversation and pass it
    as ``predicted_seconds`` to :meth:`record_service_start`.

    No eligible capacity: the line only moves if agents log in; the estimate
    is ``k / throughput`` from service starts seen in the last
    ``throughput_window_seconds``, or ``no_agent_seconds`` if there were none.
    """

    name = "ours"

    def __init__(self, config: EstimatorConfig | None = None) -> None:
        self.config = config or EstimatorConfig()
        self.handle_ewma: float | None = None
        self.handle_count: int = 0
        # (waited_seconds, abandoned 0/1) of the most recent queue exits.
        self.exits: deque[tuple[float, int]] = deque(maxlen=self.config.abandon_window)
        # EWMAs of quoted and observed waits (queued customers only).
        self.bias_pred: float = 0.0
        self.bias_obs: float = 0.0
        self.bias_weight: float = 0.0
        # Timestamps of service starts within the throughput window (only used
        # when nobody is online).
        self.starts: deque[float] = deque(maxlen=2000)

    # -- events -------------------------------------------------------------

    def record_arrival(self, now: float) -> None:  # not needed by the model
        return None

    def record_service_start(
        self, now: float, waited_seconds: float, predicted_seconds: float | None = None
    ) -> None:
        waited = max(0.0, float(waited_seconds))
        now = float(now)
        self.starts.append(now)
        horizon = now - self.config.throughput_window_seconds
        while self.starts and self.starts[0] < horizon:
            self.starts.popleft()
        self.exits.append((waited, 0))
        if predicted_seconds is not None and predicted_seconds > 0.0:
            self._update_bias(float(predicted_seconds), waited)

    def record_service_end(self, now: float, handle_seconds: float) -> None:
        h = float(handle_seconds)
        if not (h == h) or h < 0.0 or h == math.inf:
            return
        a = self.config.handle_alpha
        if self.handle_ewma is None:
            self.handle_ewma = h
        else:
            # Faster warm-up: plain mean for the first 1/alpha observations.
            w = max(a, 1.0 / (self.handle_count + 1))
            self.handle_ewma += w * (h - self.handle_ewma)
        self.handle_count += 1

    def record_abandon(self, now: float, waited_seconds: float) -> None:
        self.exits.append((max(0.0, float(waited_seconds)), 1))

    def _update_bias(self, predicted: float, observed: float) -> None:
        a = self.config.bias_alpha
        if a <= 0.0:
            return
        self.bias_pred = (1 - a) * self.bias_pred + a * predicted
        self.bias_obs = (1 - a) * self.bias_obs + a * observed
        self.bias_weight = (1 - a) * self.bias_weight + a

    # -- derived quantities --------------------------------------------------

    @property
    def mean_handle_seconds(self) -> float:
        if self.handle_ewma is None or self.handle_ewma <= 0.0:
            return self.config.prior_handle_seconds
        return self.handle_ewma

    @property
    def abandon_rate(self) -> float:
        """Per-customer abandonment hazard (1/s), MLE for exponential patience."""
        cfg = self.config
        n_ab = sum(a for _, a in self.exits) + cfg.abandon_prior_weight
        exposure = sum(w for w, _ in self.exits) + cfg.abandon_prior_weight * cfg.prior_patience_seconds
        return n_ab / exposure if exposure > 0 else 0.0

    @property
    def bias_factor(self) -> float:
        """Observed / quoted wait ratio, clamped; 1.0 until enough data."""
        cfg = self.config
        if self.bias_weight < 0.2 or self.bias_pred <= 0.0:
            return 1.0
        return min(cfg.bias_max, max(cfg.bias_min, self.bias_obs / self.bias_pred))

    def throughput_per_second(self, now: float) -> float:
        """Service starts per second over the recent window (0 if none)."""
        window = self.config.throughput_window_seconds
        n = sum(1 for t in self.starts if now - window <= t <= now)
        return n / window if window > 0 else 0.0

    # -- estimate -------------------------------------------------------------

    def raw_estimate(self, position: int, eligible_capacity: int, busy_slots: int, now: float) -> float:
        """Model estimate before bias correction (seconds, finite, >= 0)."""
        cfg = self.config
        position = max(1, int(position))
        capacity = max(0, int(eligible_capacity))
        busy = min(max(0, int(busy_slots)), capacity)
        free = capacity - busy
        k = position - free  # departures (or abandons ahead) still needed
        if k <= 0:
            return 0.0
        theta = self.abandon_rate
        self_theta = theta if cfg.condition_on_service else 0.0
        if capacity <= 0:
            tp = self.throughput_per_second(now)
            if tp <= 0.0:
                return min(cfg.no_agent_seconds, cfg.max_seconds)
            return _finite_nonneg(k / tp, cfg.max_seconds)
        service_rate = capacity / self.mean_handle_seconds
        return _finite_nonneg(_stage_sum(service_rate + self_theta, theta, k), cfg.max_seconds)

    def quote(self, position: int, eligible_capacity: int, busy_slots: int, now: float) -> tuple[float, float]:
        """``(estimate, raw_estimate)``; the raw one is what the bias
        correction must be fed back (``predicted_seconds``)."""
        raw = self.raw_estimate(position, eligible_capacity, busy_slots, now)
        if raw <= 0.0:
            return 0.0, 0.0
        if int(eligible_capacity) <= 0:
            return raw, 0.0  # no model to correct: neither scale nor learn from it
        return _finite_nonneg(raw * self.bias_factor, self.config.max_seconds), raw

    def estimate(self, position: int, eligible_capacity: int, busy_slots: int, now: float) -> float:
        return self.quote(position, eligible_capacity, busy_slots, now)[0]

    # -- (de)serialization ---------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Small JSON-serializable snapshot of the whole state."""
        return {
            "config": asdict(self.config),
            "handle_ewma": self.handle_ewma,
            "handle_count": self.handle_count,
            "exits": [list(e) for e in self.exits],
            "bias_pred": self.bias_pred,
            "bias_obs": self.bias_obs,
            "bias_weight": self.bias_weight,
            "starts": list(self.starts),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WaitEstimator:
        known = {f.name for f in fields(EstimatorConfig)}
        cfg = EstimatorConfig(**{k: v for k, v in dict(data.get("config", {})).items() if k in known})
        est = cls(cfg)
        est.handle_ewma = data.get("handle_ewma")
        est.handle_count = int(data.get("handle_count", 0))
        for w, a in data.get("exits", []):
            est.exits.append((float(w), int(a)))
        est.bias_pred = float(data.get("bias_pred", 0.0))
        est.bias_obs = float(data.get("bias_obs", 0.0))
        est.bias_weight = float(data.get("bias_weight", 0.0))
        for t in data.get("starts", []):
            est.starts.append(float(t))
        return est


def estimate_wait_seconds(
    position: int,
    eligible_capacity: int,
    busy_slots: int,
    recent_handle_times: Sequence[float],
    recent_waits: Sequence[float] = (),
    recent_abandon_waits: Sequence[float] | None = None,
    recent_quotes: Sequence[tuple[float, float]] = (),
    recent_service_start_times: Sequence[float] = (),
    now: float = 0.0,
    config: EstimatorConfig | None = None,
) -> float:
    """Function form of :class:`WaitEstimator` for callers holding plain numbers.

    Args:
        position: 1-based queue position of the customer.
        eligible_capacity: concurrent-chat slots of online eligible agents.
        busy_slots: how many of those slots hold a chat now.
        recent_handle_times: handle times (s) of recently ended chats of this
            brand+category, e.g. the last 100, in any order: the function
            form uses their plain mean (the caller picks the window), where
            the stateful class uses an EWMA.
        recent_waits: waits (s) of recently *served* customers, including
            those routed at once (wait 0), e.g. the last 100.
        recent_abandon_waits: waits (s) of the customers who gave up over the
            same period (``[]`` = nobody did).  ``None`` (default) = not
            known: the served waits are then ignored for the abandonment
            rate, which stays at its prior (``1 / prior_patience_seconds``),
            since served waits alone would read as "nobody ever gives up".
        recent_quotes: ``(raw_estimate_seconds, actual_wait_seconds)`` of
            recently served customers who had to queue (any order; the bias
            factor is the ratio of the sums, used once there are ~20 pairs);
            ``raw_estimate_seconds`` is the second number
            :meth:`WaitEstimator.quote` returned when they joined.
        recent_service_start_times: timestamps of recent routings (only used
            when ``eligible_capacity`` is 0, to estimate throughput).
        now: current time on the same clock as the timestamps above.
        config: optional :class:`EstimatorConfig`.

    Returns:
        Estimated wait in seconds: finite, ``>= 0``.
    """
    est = WaitEstimator(config)
    handles = _clean(recent_handle_times)
    if handles:
        est.handle_ewma = math.fsum(handles) / len(handles)
        est.handle_count = len(handles)
    # Queue exits: the caller chose the window, keep all of them (order is
    # irrelevant to the abandonment-rate estimate).
    if recent_abandon_waits is None:
        exits: list[tuple[float, int]] = []
    else:
        exits = [(w, 0) for w in _clean(recent_waits)] + [(w, 1) for w in _clean(recent_abandon_waits)]
    est.exits = deque(exits, maxlen=max(est.config.abandon_window, len(exits)))
    # Bias: ratio of sums over the pairs given, weighted like n EWMA updates.
    pairs: list[tuple[float, float]] = []
    for q in recent_quotes or ():
        try:
            pred, obs = float(q[0]), float(q[1])
        except (TypeError, ValueError, IndexError):
            continue
        if pred > 0 and obs >= 0 and math.isfinite(pred) and math.isfinite(obs):
            pairs.append((pred, obs))
    a = est.config.bias_alpha
    if pairs and a > 0.0:
        est.bias_pred = math.fsum(p for p, _ in pairs) / len(pairs)
        est.bias_obs = math.fsum(o for _, o in pairs) / len(pairs)
        est.bias_weight = 1.0 - (1.0 - a) ** len(pairs)
    est.starts.extend(sorted(_clean(recent_service_start_times)))  # deque keeps the newest
    return est.estimate(position, eligible_capacity, busy_slots, now)


# ---------------------------------------------------------------------------
# Baselines
# ---------------------------------------------------------------------------


class RocketChatEstimator(BaseEstimator):
    """Rocket.Chat's formula: ``((position - 1) / capacity + 1) * avg_handle``.

    ``avg_handle`` is the plain mean of the last ``window`` (100) handle
    times; ``capacity`` is ``eligible_capacity`` (guarded to at least 1).  It
    ignores free slots: even a customer who will be routed at once is quoted
    one average chat duration.
    """

    name = "rocketchat"

    def __init__(self, window: int = 100, prior_handle_seconds: float = 420.0,
                 max_seconds: float = DEFAULT_MAX_SECONDS) -> None:
        self.handles: deque[float] = deque(maxlen=window)
        self.prior_handle_seconds = prior_handle_seconds
        self.max_seconds = max_seconds

    def record_service_end(self, now: float, handle_seconds: float) -> None:
        h = float(handle_seconds)
        if h == h and 0.0 <= h < math.inf:
            self.handles.append(h)

    def estimate(self, position: int, eligible_capacity: int, busy_slots: int, now: float) -> float:
        avg = sum(self.handles) / len(self.handles) if self.handles else self.prior_handle_seconds
        capacity = max(1, int(eligible_capacity))
        position = max(1, int(position))
        return _finite_nonneg(((position - 1) / capacity + 1.0) * avg, self.max_seconds)


def erlang_c_probability(servers: int, offered_load: float) -> float:
    """Erlang C: probability that an arrival has to wait in M/M/c.

    ``servers`` = c, ``offered_load`` = a = lambda / mu (Erlangs).  Returns 1.0
    when ``a >= c`` (unstable) and 0.0 when ``a <= 0``.  Uses the numerically
    stable Erlang B recursion.
    """
    c = int(servers)
    a = float(offered_load)
    if c <= 0 or a >= c:
        return 1.0
    if a <= 0.0:
        return 0.0
    b = 1.0  # Erlang B with 0 servers
    for m in range(1, c + 1):
        b = a * b / (m + a * b)
    rho = a / c
    return b / (1.0 - rho + rho * b)


class ErlangCEstimator(BaseEstimator):
    """Erlang C (M/M/c) with moving averages.

    Servers ``c`` = ``eligible_capacity`` slots; ``1/mu`` = mean of the last
    ``window`` handle times; ``lambda`` = arrivals in the last
    ``arrival_window_seconds`` divided by that window.

    Interpretation of "the wait of the customer at ``position``": Erlang C is
    a steady-state formula that knows nothing of position, so

    * if ``position <= free slots`` the customer does not wait: 0;
    * otherwise the customer is in Erlang C's "has to wait" event, whose
      expected wait is ``E[Wq | Wq > 0] = 1 / (c*mu - lambda)``
      (``= E[Wq] / C(c, a)``).  Utilisation is clamped to ``max_rho`` (0.95)
      because the formula diverges when load reaches capacity.
    * ``c = 0``: ``no_agent_seconds``.

    :func:`erlang_c_probability` is exposed for dashboards that want the
    unconditional ``E[Wq] = C(c, a) / (c*mu - lambda)``.
    """

    name = "erlang_c"

    def __init__(self, window: int = 100, arrival_window_seconds: float = 1800.0,
                 prior_handle_seconds: float = 420.0, max_rho: float = 0.95,
                 no_agent_seconds: float = DEFAULT_NO_AGENT_SECONDS,
                 max_seconds: float = DEFAULT_MAX_SECONDS) -> None:
        self.handles: deque[float] = deque(maxlen=window)
        self.arrivals: deque[float] = deque()
        self.arrival_window_seconds = arrival_window_seconds
        self.prior_handle_seconds = prior_handle_seconds
        self.max_rho = max_rho
        self.no_agent_seconds = no_agent_seconds
        self.max_seconds = max_seconds

    def record_arrival(self, now: float) -> None:
        self.arrivals.append(float(now))
        self._trim(now)

    def _trim(self, now: float) -> None:
        while self.arrivals and self.arrivals[0] < now - self.arrival_window_seconds:
            self.arrivals.popleft()

    def record_service_end(self, now: float, handle_seconds: float) -> None:
        h = float(handle_seconds)
        if h == h and 0.0 <= h < math.inf:
            self.handles.append(h)

    def arrival_rate(self, now: float) -> float:
        self._trim(now)
        return len(self.arrivals) / self.arrival_window_seconds

    def estimate(self, position: int, eligible_capacity: int, busy_slots: int, now: float) -> float:
        c = max(0, int(eligible_capacity))
        busy = min(max(0, int(busy_slots)), c)
        if max(1, int(position)) <= c - busy:
            return 0.0
        if c == 0:
            return min(self.no_agent_seconds, self.max_seconds)
        mean_h = sum(self.handles) / len(self.handles) if self.handles else self.prior_handle_seconds
        mu = 1.0 / mean_h
        lam = min(self.arrival_rate(now), self.max_rho * c * mu)
        return _finite_nonneg(1.0 / (c * mu - lam), self.max_seconds)


class LastToEnterServiceEstimator(BaseEstimator):
    """LES: quote the wait of the last customer who entered service.

    Pure form (Ibrahim & Whitt): ignores position and current state; 0 before
    anyone was served.
    """

    name = "les"

    def __init__(self, max_seconds: float = DEFAULT_MAX_SECONDS) -> None:
        self.last_wait: float = 0.0
        self.max_seconds = max_seconds

    def record_service_start(
        self, now: float, waited_seconds: float, predicted_seconds: float | None = None
    ) -> None:
        self.last_wait = max(0.0, float(waited_seconds))

    def estimate(self, position: int, eligible_capacity: int, busy_slots: int, now: float) -> float:
        return _finite_nonneg(self.last_wait, self.max_seconds)


#: Name -> class, in the order the benchmark prints them.
ALL_ESTIMATORS: dict[str, type[BaseEstimator]] = {
    WaitEstimator.name: WaitEstimator,
    RocketChatEstimator.name: RocketChatEstimator,
    ErlangCEstimator.name: ErlangCEstimator,
    LastToEnterServiceEstimator.name: LastToEnterServiceEstimator,
}
