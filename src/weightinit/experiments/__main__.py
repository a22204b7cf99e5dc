import argparse
import sys

from . import add_subparsers


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m weightinit.experiments", description="weightinit experiments")
    add_subparsers(p)
    args = p.parse_args(argv)
    try:
        return args.experiment_func(args)
    except (TypeError, ValueError, ImportError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


sys.exit(main())
