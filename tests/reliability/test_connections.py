"""One server process holds a bounded number of PostgreSQL connections under bursts of
concurrent requests, and static files answer whatever the database does.

Against a real uvicorn subprocess; connections counted in pg_stat_activity."""

from concurrent.futures import ThreadPoolExecutor

import pytest

from .servers import ServerProcess

POOL_MAX = 4
ASYNC_POOL = 2


def burst(server, *, requests: int, concurrency: int) -> tuple[list[int], int]:
    """Fire `requests` DB-backed requests `concurrency` at a time; statuses and the most
    connections seen while they ran."""
    peak = 0

    def one(_):
        return server.get("/api/widget/v1/config", host="alpha.localhost")[0]

    with ThreadPoolExecutor(concurrency) as pool:
        futures = [pool.submit(one, i) for i in range(requests)]
        while not all(f.done() for f in futures):
            peak = max(peak, server.db_connections())
        statuses = [f.result() for f in futures]
    return statuses, max(peak, server.db_connections())


@pytest.mark.django_db(transaction=True)
def test_bursts_stay_under_the_pool_bound_and_do_not_grow(alpha):
    env = {"DB_POOL_MAX_SIZE": str(POOL_MAX), "DB_POOL_MIN_SIZE": "1", "ASYNC_DB_POOL_SIZE": str(ASYNC_POOL)}
    with ServerProcess(env=env) as server:
        bound = POOL_MAX + ASYNC_POOL
        first, peak_first = burst(server, requests=60, concurrency=15)
        after_first = server.db_connections()
        second, peak_second = burst(server, requests=60, concurrency=15)
        after_second = server.db_connections()

    assert set(first) == {200} and set(second) == {200}
    assert peak_first <= bound and peak_second <= bound, (peak_first, peak_second)
    # Nothing leaks from one burst to the next: the pool gives back what it lent.
    assert after_first <= POOL_MAX and after_second <= after_first, (after_first, after_second)


@pytest.mark.django_db(transaction=True)
def test_static_files_answer_when_the_database_does_not(alpha):
    # A database nobody listens on: host resolution fails, static files must not care.
    with ServerProcess(env={"DATABASE_URL": "postgres://postgres@127.0.0.1:1/nothing", "DB_POOL_TIMEOUT": "1"}) as server:
        status, headers, body = server.get("/static/admin/js/core.js", host="alpha.localhost")
    assert status == 200 and b"function" in body
