"""The CLI reads like the library: help for everything, the scheme notation that
`inspect` prints is accepted back, messages use the names the user typed."""
import argparse
import math

import pytest

from weightinit import schemes
from weightinit.cli import build_parser, main


def _parsers(parser, path=("weightinit",)):
    """(command path, parser) for the parser and every subcommand under it."""
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _parsers(sub, path + (name,))


def test_every_command_and_option_has_help():
    missing = []
    for path, parser in _parsers(build_parser()):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                missing += [f"{' '.join(path)} {c.dest}" for c in action._choices_actions if not (c.help or "").strip()]
            elif not (action.help or "").strip():
                missing.append(f"{' '.join(path)} {'/'.join(action.option_strings) or action.dest}")
    assert not missing, f"no help text: {missing}"


def test_top_level_help_describes_the_tool(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "weightinit.commands" not in out and "register(" not in out
    assert "checkpoint" in out and "reproducib" in out and "examples:" in out


def test_experiment_help_names_the_study(capsys):
    with pytest.raises(SystemExit):
        main(["experiment", "--help"])
    out = capsys.readouterr().out
    assert "Glorot & Bengio 2010" in out and "He et al. 2015" in out


def _table(out):
    return [ln for ln in out.splitlines() if ln.strip()[:1].isdigit()]


def test_diagnose_accepts_the_inspect_notation(capsys):
    common = ["diagnose", "--depth", "3", "--width", "16", "--batch", "20"]
    assert main(common + ["--scheme", "normal(std=0.01)"]) == 0
    a = capsys.readouterr().out
    assert main(common + ["--scheme", "normal", "--param", "std=0.01"]) == 0
    b = capsys.readouterr().out
    assert _table(a) and _table(a) == _table(b)
    assert main(common + ["--scheme", "variance_scaling(scale=2,mode=fan_in,distribution=normal,"
                          "layout=torch,in_axis=None,out_axis=None,batch_axis=[])"]) == 0
    c = capsys.readouterr().out
    assert main(common + ["--scheme", "he_normal"]) == 0
    assert _table(c) == _table(capsys.readouterr().out)


@pytest.mark.parametrize("argv,typed", [
    (["--scheme", "normal(std=-1)"], "std"),
    (["--scheme", "normal", "--param", "std=-1"], "std"),
    (["--scheme", "trunc_normal(std=0)"], "std"),
    (["--scheme", "uniform(a=1,b=0)"], "b must be greater than a"),
])
def test_diagnose_messages_use_the_names_typed(argv, typed, capsys):
    assert main(["diagnose", "--depth", "2", "--width", "4"] + argv) == 2
    err = capsys.readouterr().err
    assert typed in err and "stddev" not in err, err


@pytest.mark.parametrize("text,expect", [
    ("normal(std=0.01)", schemes.Normal(0.0, 0.01)),
    ("normal( mean = 1 , std = 2 )", schemes.Normal(1.0, 2.0)),
    ("uniform(a=-1, b=1)", schemes.Uniform(-1.0, 1.0)),
    ("uniform(low=-1,high=1)", schemes.Uniform(-1.0, 1.0)),
    ("trunc_normal(mean=0,std=0.02,a=-0.04,b=0.04)", schemes.TruncatedNormal(0.0, 0.02, -0.04, 0.04)),
    ("zeros()", schemes.Constant(0.0)),
    ("trunc_normal(a=-inf, b=inf)", schemes.TruncatedNormal(0.0, 1.0, -math.inf, math.inf)),
])
def test_scheme_notation(text, expect):
    assert schemes.get(text) == expect


def test_scheme_notation_round_trips_what_inspect_prints():
    from weightinit.commands.inspect import _scheme_str
    for name in ("he_normal", "xavier_uniform", "lecun_normal", "normal", "uniform", "trunc_normal", "ones",
                 "orthogonal", "sparse", "dirac", "eye"):
        s = schemes.get(name)
        back = schemes.get(_scheme_str(s.to_dict())).to_dict()   # inspect prints floats to 4 digits
        for k, v in s.to_dict().items():
            assert back[k] == (pytest.approx(v, rel=1e-3) if isinstance(v, float) else v), (name, k)


@pytest.mark.parametrize("text,exc,msg", [
    ("normal(std=0.01", ValueError, "NAME"),
    ("normal(0.01)", ValueError, "key=value"),
    ("normal(std=1, std=2)", ValueError, "twice"),
    ("normal(stddev=1)", ValueError, "stddev"),           # the dataclass field is not a parameter
    ("uniform(low=0, b=1)", ValueError, "not both"),
    ("normal(std=@)", ValueError, "value"),
])
def test_scheme_notation_errors(text, exc, msg):
    with pytest.raises(exc, match=msg):
        schemes.get(text)


def test_notation_and_keyword_given_twice():
    with pytest.raises(ValueError, match="std"):
        schemes.get("normal(std=1)", std=2.0)


def test_uniform_accepts_torch_names():
    assert schemes.get("uniform", a=-2, b=3) == schemes.get("uniform", low=-2, high=3)
    with pytest.raises(ValueError, match="b must be greater than a"):
        schemes.get("uniform", a=1.0, b=1.0)
    with pytest.raises(TypeError, match="^a must"):
        schemes.get("uniform", a="x", b=1.0)


def test_spec_files_accept_the_notation(tmp_path):
    from weightinit.checkpoint import load_spec
    p = tmp_path / "spec.toml"
    p.write_text('seed = 0\ndtype = "float32"\n\n[[tensors]]\nname = "w"\nshape = [4, 4]\n'
                 'scheme = "normal(std=0.02)"\n')
    spec = load_spec(str(p))
    assert spec.tensors[0].scheme == schemes.Normal(0.0, 0.02)


def test_demo_prints_threads_and_says_stats_are_sampled(capsys):
    assert main(["demo", "--gib", "0.04", "--threads", "1"]) == 0
    out = capsys.readouterr().out
    assert "1 thread" in out and "sample" in out, out


def test_diagnose_plot_has_integer_layer_ticks(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    import matplotlib.figure
    from weightinit.diagnostics import plots, propagate
    figs = []
    real = matplotlib.figure.Figure.savefig
    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", lambda self, *a, **k: (figs.append(self), real(self, *a, **k))[1])
    plots.plot_report(tmp_path / "p.png", propagate([16] * 4, "relu", "he_normal", batch=20), dpi=30)
    (fig,) = figs
    for ax in fig.axes:
        lo, hi = ax.get_xlim()
        ticks = [t for t in ax.get_xticks() if lo <= t <= hi]
        assert ticks and all(float(t).is_integer() for t in ticks), ticks
