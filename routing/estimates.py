"""Queue wait-time estimates for live chat ("position N, estimated wait X").

Pure Python (standard library only, no Django, no numpy). There is one estimator, and it is
both what customers are quoted and what ``bench/wait_estimate_sim.py`` scores: the app
keeps a queue's recent history in the database (``routing.selectors.queue_history``) and
calls :func:`wait_quote`, which replays that history through :class:`WaitEstimator` and
asks it for the quote; the benchmark keeps the same windows of its simulated queue and
calls the same function. The benchmark's baselines live in ``bench/``.

Vocabulary
----------
A *queue* is one brand + problem category.  Agents are *eligible* for it when
they are online and assigned to that brand/category.  Each agent handles
several chats at once; the sum of the concurrent-chat limits of the eligible
agents is ``eligible_capacity`` (slots), the number of those slots currently
holding a chat is ``busy_slots``.  ``position`` is the 1-based position of the
customer in the queue (1 = next to be routed).

All times are in seconds; ``now`` is any monotonic clock in seconds (the app
uses the Unix timestamp, the simulation its own clock). Every estimate is a
finite float ``>= 0`` (never NaN, never inf).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = [
    "EstimatorConfig",
    "QueueHistory",
    "WaitEstimator",
    "wait_quote",
    "DEFAULT_NO_AGENT_SECONDS",
    "DEFAULT_MAX_SECONDS",
    "HISTORY_WINDOW",
    "EXIT_WINDOW",
    "clamp_seconds",
]

#: Returned when nothing at all is known (no agents online and no throughput
#: observed recently).  Large, honest ("about an hour or more"), but finite.
DEFAULT_NO_AGENT_SECONDS = 3600.0
#: Hard ceiling for any estimate.
DEFAULT_MAX_SECONDS = 4 * 3600.0
#: How much recent history a queue's estimate reads (the app's database and the
#: benchmark alike): the last handle times, and the last queue exits, served or given up,
#: in one window so that both kinds cover the same span of time (the abandonment rate is
#: their ratio).
HISTORY_WINDOW = 100
EXIT_WINDOW = 200


def clamp_seconds(value: float, cap: float) -> float:
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


class WaitEstimator:
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
            return clamp_seconds(k / tp, cfg.max_seconds)
        service_rate = capacity / self.mean_handle_seconds
        return clamp_seconds(_stage_sum(service_rate + self_theta, theta, k), cfg.max_seconds)

    def quote(self, position: int, eligible_capacity: int, busy_slots: int, now: float) -> tuple[float, float]:
        """``(estimate, raw_estimate)``; the raw one is what the bias
        correction must be fed back (``predicted_seconds``)."""
        raw = self.raw_estimate(position, eligible_capacity, busy_slots, now)
        if raw <= 0.0:
            return 0.0, 0.0
        if int(eligible_capacity) <= 0:
            return raw, 0.0  # no model to correct: neither scale nor learn from it
        return clamp_seconds(raw * self.bias_factor, self.config.max_seconds), raw

    def estimate(self, position: int, eligible_capacity: int, busy_slots: int, now: float) -> float:
        return self.quote(position, eligible_capacity, busy_slots, now)[0]


@dataclass
class QueueHistory:
    """A queue's recent past, oldest first, as the database (or the benchmark) keeps it.

    ``handle_seconds``: handle times of recently ended chats. ``served``: recently routed
    customers as ``(routed_at, waited_seconds, raw_quote_seconds or None)``, the raw quote
    being the second number :meth:`WaitEstimator.quote` gave when they joined.
    ``abandons``: customers who gave up, as ``(left_at, waited_seconds)``.
    """

    handle_seconds: Sequence[float] = ()
    served: Sequence[tuple[float, float, float | None]] = ()
    abandons: Sequence[tuple[float, float]] = ()


def estimator_from_history(history: QueueHistory, config: EstimatorConfig | None = None) -> WaitEstimator:
    """A :class:`WaitEstimator` in the state the history's events would have left it."""
    estimator = WaitEstimator(config)
    for handle in _clean(history.handle_seconds):
        estimator.record_service_end(0.0, handle)
    exits: list[tuple[float, int, float, float | None]] = []
    for item in history.served or ():
        try:
            at, waited, raw = float(item[0]), float(item[1]), item[2]
        except (TypeError, ValueError, IndexError):
            continue
        exits.append((at, 0, waited, raw))
    for item in history.abandons or ():
        try:
            at, waited = float(item[0]), float(item[1])
        except (TypeError, ValueError, IndexError):
            continue
        exits.append((at, 1, waited, None))
    for at, abandoned, waited, raw in sorted(exits, key=lambda e: e[0]):
        if not (math.isfinite(at) and math.isfinite(waited)):
            continue
        if abandoned:
            estimator.record_abandon(at, waited)
        else:
            raw_quote = float(raw) if isinstance(raw, (int, float)) and math.isfinite(raw) else None
            estimator.record_service_start(at, waited, raw_quote)
    return estimator


def wait_quote(
    *, position: int, eligible_capacity: int, busy_slots: int, history: QueueHistory, now: float, config: EstimatorConfig | None = None
) -> tuple[float, float]:
    """``(seconds to show the customer, raw figure to keep with their queue entry)``."""
    return estimator_from_history(history, config).quote(position, eligible_capacity, busy_slots, now)
