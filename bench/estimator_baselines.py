"""Baseline wait estimators the benchmark scores ours against (bench/wait_estimate_sim.py).

Each has the interface the simulation drives: events in (``record_*``), a ``quote``
out. None of them is quoted to customers; ``routing.estimates`` is.
"""

from __future__ import annotations

import math
from collections import deque

from routing.estimates import DEFAULT_MAX_SECONDS, DEFAULT_NO_AGENT_SECONDS, clamp_seconds


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
        return clamp_seconds(((position - 1) / capacity + 1.0) * avg, self.max_seconds)


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
        return clamp_seconds(1.0 / (c * mu - lam), self.max_seconds)


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
        return clamp_seconds(self.last_wait, self.max_seconds)
