"""`make bench`: every benchmark, each printing its figures as ratios to a baseline
measured in the same run. Pass names to run only some: `python -m bench brand_creation`."""

import importlib
import sys

BENCHMARKS = ["brand_creation", "wait_estimate_sim", "assignment_throughput", "message_latency", "load_sockets", "inbox_search", "reports", "suggestions"]


def main(argv: list[str]) -> int:
    names = argv or BENCHMARKS
    status = 0
    for name in names:
        print(f"\n=== {name} ===", flush=True)
        module = importlib.import_module(f"bench.{name}")
        # A benchmark that finds a broken promise (load_sockets: a lost message) returns
        # non-zero; the others still run.
        status = module.main([]) or status
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
