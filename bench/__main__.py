"""`make bench`: every benchmark, each printing its figures as ratios to a baseline
measured in the same run. Pass names to run only some: `python -m bench brand_creation`."""

import importlib
import sys

BENCHMARKS = ["brand_creation", "wait_estimate_sim", "assignment_throughput", "message_latency", "inbox_search", "reports", "suggestions"]


def main(argv: list[str]) -> int:
    names = argv or BENCHMARKS
    for name in names:
        print(f"\n=== {name} ===", flush=True)
        module = importlib.import_module(f"bench.{name}")
        module.main([])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
