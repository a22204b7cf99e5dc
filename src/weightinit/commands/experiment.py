"""`weightinit experiment NAME`: run a reproducible experiment (see weightinit.experiments)."""
from __future__ import annotations


def register(sub) -> None:
    from weightinit.experiments import add_subparsers
    p = sub.add_parser("experiment", help="run a reproducible experiment, e.g. xavier-vs-he")
    add_subparsers(p)
    p.set_defaults(func=_run)


def _run(args) -> int:
    import sys
    try:
        return args.experiment_func(args)
    except ImportError as exc:   # an optional dependency (scikit-learn, matplotlib, torch) is missing
        print(f"weightinit experiment: error: {exc}", file=sys.stderr)
        return 2
