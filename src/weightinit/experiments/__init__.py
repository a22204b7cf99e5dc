"""Reproducible experiments. ``python -m weightinit.experiments xavier-vs-he`` or
``weightinit experiment xavier-vs-he``."""
from __future__ import annotations

#: experiment name -> module (each has add_arguments(parser) and run_cli(args))
EXPERIMENTS = {"xavier-vs-he": "weightinit.experiments.xavier_vs_he"}


def add_subparsers(parser):
    import argparse
    import importlib
    sub = parser.add_subparsers(dest="experiment", required=True)
    for name, mod in EXPERIMENTS.items():
        m = importlib.import_module(mod)
        p = sub.add_parser(name, help=m.__doc__.split("\n\n")[0].replace("\n", " "), description=m.__doc__,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        m.add_arguments(p)
        p.set_defaults(experiment_func=m.run_cli)
    return sub
