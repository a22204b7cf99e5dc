"""`weightinit experiment NAME`: run a reproducible experiment (see weightinit.experiments)."""
from __future__ import annotations


def register(sub) -> None:
    from weightinit.experiments import add_subparsers
    p = sub.add_parser("experiment", help="run a reproducible experiment, e.g. xavier-vs-he")
    add_subparsers(p)
    p.set_defaults(func=lambda args: args.experiment_func(args))
