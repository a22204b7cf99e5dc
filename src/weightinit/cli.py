"""The `weightinit` command. Each subcommand lives in weightinit.commands.<name>
and provides register(subparsers), which adds its parser and sets func."""
from __future__ import annotations

DESCRIPTION = """\
Initialize neural-network weights fast and reproducibly: write randomly initialized
checkpoints (any transformers model, GPT-2, Llama, or your own spec) straight to disk,
inspect them, and check how an initialization scheme propagates signals before you train.
Every value depends only on (seed, tensor name, index): the same bytes on any machine."""

EPILOG = """\
examples:
  weightinit create gpt2 -o gpt2-random          GPT-2 small, initialized as transformers does
  weightinit inspect gpt2-random                 tensors, schemes, measured vs expected std
  weightinit diagnose --activation relu --scheme 'normal(std=0.01)'
  weightinit experiment xavier-vs-he             Xavier vs He init on digits, tanh and relu
  weightinit demo --gib 0.25                     fill rate of this machine

run 'weightinit COMMAND --help' for the options of a command."""
import argparse
import importlib
import os
import sys

# one module per subcommand; add new ones here
COMMANDS = ["demo", "create", "inspect", "verify", "experiment", "diagnose"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="weightinit", description=DESCRIPTION, epilog=EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"weightinit.commands.{name}").register(sub)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except BrokenPipeError:
        # the reader went away (`weightinit inspect DIR | head`): end quietly, as head expects
        _silence_stdout()
        return 0
    except (TypeError, ValueError, OSError) as exc:
        print(f"weightinit {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"weightinit {args.command}: interrupted", file=sys.stderr)
        return 130


def _silence_stdout() -> None:
    """Point stdout at /dev/null so that the interpreter's final flush does not raise
    again on the closed pipe."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # pragma: no cover
        pass


if __name__ == "__main__":
    sys.exit(main())
