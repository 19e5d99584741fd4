"""bench/load_sockets.py at a tiny size: both servers up, a handful of conversations
talking both ways, figures and ratios printed, nothing lost. The bench runs as its own
process (as `python -m bench` does) on a database of its own, dropped afterwards."""

import os
import re
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]


def test_load_sockets_smoke():
    database = f"helpdesk_bench_load_smoke_{os.getpid()}"
    # The bench is a program of its own with the local settings, not this test run's.
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "TEST_RUN_ID", "TEST_WORKER")}
    env["DJANGO_SETTINGS_MODULE"] = "config.settings.local"
    try:
        result = subprocess.run(
            [sys.executable, "-m", "bench.load_sockets", "--capacity", "2", "--steps", "8", "--headline", "8", "--warmup", "0.2",
             "--measure", "1", "--drain", "2", "--interval", "0.5", "--database", database],
            cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=90,
        )
    finally:
        subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", "--force", database], capture_output=True)
    out = result.stdout
    assert result.returncode == 0, out[-3000:] + result.stderr[-3000:]
    assert re.search(r"^\|\s*8 \|", out, re.M), out  # the 8-socket row of the table, both servers measured
    assert re.search(r"p95 [\d.]+ ms vs echo [\d.]+ ms: [\d.]+x", out), out
    assert re.search(r"lost messages \(acknowledged, never received by the other side\): 0 ", out), out
    assert re.search(r"PostgreSQL connections held by the server: [1-9]", out), out
    assert "p95 passes 250 ms at: ours" in out


def test_lost_counts_acknowledged_messages_the_other_side_never_got():
    from bench.load_sockets import Fleet, Record

    fleet = Fleet(name="unit", port=0, capacity=1)
    fleet.records = {
        "delivered": Record(sent=1.0, direction="c2a", counted=True, acked=1.01, received=1.02),
        "lost": Record(sent=1.0, direction="c2a", counted=True, acked=1.01),
        "unacked": Record(sent=1.0, direction="a2c", counted=True),
    }
    fleet.copies = {"delivered": 1}
    figures = fleet._figures(chats=1, samples=[{"rss_mib": 1.0, "db_connections": 0}], lags=[0.0], client_cpu=0.0, measure=1.0)
    assert (figures["lost"], figures["unacked"], figures["missing_copies"]) == (1, 1, 1)
    assert round(figures["p50"], 6) == 20.0
