"""`weightinit experiment NAME`: run a reproducible experiment (see weightinit.experiments)."""
from __future__ import annotations


def register(sub) -> None:
    from weightinit.experiments import add_subparsers
    p = sub.add_parser("experiment", help="reproduce a published initialization study, e.g. xavier-vs-he "
                                          "(Xavier vs He init on handwritten digits, tanh vs relu)",
                       description="Reproducible experiments. xavier-vs-he: Xavier (Glorot & Bengio 2010) vs "
                                   "He (He et al. 2015) initialization of shallow and deep MLPs on "
                                   "scikit-learn's 8x8 digits, under tanh and relu, over several seeds: "
                                   "a table and learning curves.")
    add_subparsers(p)
    p.set_defaults(func=_run)


def _run(args) -> int:
    import sys
    try:
        return args.experiment_func(args)
    except ImportError as exc:   # an optional dependency (scikit-learn, matplotlib, torch) is missing
        print(f"weightinit experiment: error: {exc}", file=sys.stderr)
        return 2
