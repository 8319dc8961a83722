"""Benchmarks for issue #6: side-by-side measurements that print ratios, never pass or fail on time.

Run them all with `python -m benchmarks [--quick]`, or one with `python -m benchmarks.bench_solve`
(`bench_training`, `bench_scaling`, `bench_checking`, `bench_graphs`, `bench_graph_training`, `bench_grading`, `bench_layers`). See
docs/performance.md.
"""

BENCHMARKS = ("bench_solve", "bench_training", "bench_scaling", "bench_checking", "bench_graphs", "bench_graph_training",
              "bench_grading", "bench_layers")
