"""Benchmarks. A package so that pytest, collecting the bench_*.py smoke tests, puts the
repository root on sys.path rather than this folder: a script here must never shadow an
installed module (a dependency's ``import kernels`` once found ours)."""
