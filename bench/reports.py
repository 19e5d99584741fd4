"""Report queries on a busy brand's year, and the cross-brand billing on 20 brands.

Generates the data with `generate_busy_year` (a year of 500,000 conversations for one
brand; a month of a busy brand's traffic for each of 20 brands), then times every report
a page shows. Baseline: counting the same period's conversations through the same index
(`SELECT count(*) ... WHERE created_at in the period`), measured in the same run.
Sizes come from the environment for a quick try: REPORTS_BENCH_CONVERSATIONS,
REPORTS_BENCH_BRANDS.
"""

import os
import statistics
import sys
import time
from datetime import date, timedelta

DATABASE = "helpdesk_bench_reports"
YEAR_CONVERSATIONS = int(os.environ.get("REPORTS_BENCH_CONVERSATIONS", "500000"))
BILLING_BRANDS = int(os.environ.get("REPORTS_BENCH_BRANDS", "20"))
LAST_DAY = date(2026, 11, 30)


def _timed(fn, runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main(argv: list[str]) -> None:
    from bench.django_setup import setup

    setup(DATABASE)
    from django.core.management import call_command
    from django.db import connection
    from psycopg import sql

    from chat.billing import agent_time_report
    from chat.report_periods import period_parse
    from chat.reports import brand_report, wait_accuracy
    from tenants.models import Brand

    started = time.perf_counter()
    call_command("generate_busy_year", brand="busy", conversations=YEAR_CONVERSATIONS, days=365, agents=40, end=LAST_DAY.isoformat(), stdout=sys.stdout)
    print(f"generated {YEAR_CONVERSATIONS:,} conversations in {time.perf_counter() - started:.0f} s")
    busy = Brand.objects.get(slug="busy")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    year = period_parse(first_day=LAST_DAY - timedelta(days=364), last_day=LAST_DAY, time_zone="Europe/Berlin")
    month = period_parse(first_day=date(2026, 11, 1), last_day=LAST_DAY, time_zone="Europe/Berlin")

    def count(period):
        with connection.cursor() as cursor:
            cursor.execute(
                sql.SQL("SELECT count(*) FROM {}.chat_conversation WHERE created_at >= %s AND created_at < %s").format(sql.Identifier(busy.schema_name)),
                [period.start, period.end],
            )
            return cursor.fetchone()[0]

    for label, period in (("year", year), ("month", month)):
        baseline = _timed(lambda: count(period))
        page = _timed(lambda: brand_report(brand=busy, period=period))
        accuracy = _timed(lambda: wait_accuracy(brand=busy, period=period))
        print(f"{label}: {count(period):,} conversations; baseline count {baseline * 1000:.0f} ms")
        print(f"  brand report page (every figure, {label}): {page * 1000:.0f} ms  ratio {page / baseline:.1f}x  (target < 1 s)")
        print(f"  wait accuracy alone: {accuracy * 1000:.0f} ms  ratio {accuracy / baseline:.1f}x")
        agents = _timed(lambda: agent_time_report(brands=[busy], period=period))
        print(f"  agent time, one brand: {agents * 1000:.0f} ms  ratio {agents / baseline:.1f}x")

    per_brand = YEAR_CONVERSATIONS // 12
    started = time.perf_counter()
    for index in range(BILLING_BRANDS - 1):
        call_command(
            "generate_busy_year", brand=f"tenant{index:02d}", conversations=per_brand, days=30, agents=40, end=LAST_DAY.isoformat(),
            no_agent_time_rollup=True, stdout=open(os.devnull, "w"),
        )
    print(f"generated a month of {per_brand:,} conversations for {BILLING_BRANDS - 1} more brands in {time.perf_counter() - started:.0f} s")
    from datetime import datetime, timezone as dt_timezone

    from chat.billing import agent_time_buckets_roll_up

    started = time.perf_counter()
    agent_time_buckets_roll_up(since=datetime(2026, 10, 25, tzinfo=dt_timezone.utc), now=datetime(2026, 12, 1, tzinfo=dt_timezone.utc))
    print(f"rolled up agent time of {BILLING_BRANDS} brands for the month in {time.perf_counter() - started:.0f} s")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    brands = list(Brand.objects.exclude(schema_name="public"))
    billing = _timed(lambda: agent_time_report(brands=brands, period=month), runs=2)
    baseline = _timed(lambda: count(month))
    print(f"billing report across {len(brands)} brands, one month: {billing * 1000:.0f} ms  ratio {billing / baseline:.1f}x to one brand's count  (target < 3 s)")


if __name__ == "__main__":
    main(sys.argv[1:])
