"""Benchmarked releases: record a release's measured results, generate
docs/benchmarks.md from them, and gate a change against the last release.

    python benchmarks/release.py record [--quick]       # results/<version>/<cpu class>.json
    python benchmarks/release.py docs [--check]         # docs/benchmarks.md from the results
    python benchmarks/release.py gate [--threshold 0.10] [--rounds 6]

record runs, for every SIMD path this CPU has (WEIGHTINIT_SIMD), the release kernel
set (benchmarks/kernel_set.py; two passes, each kernel keeping the steadier), the peer
comparison (benchmarks/compare.py: numpy and torch against the memory-write ceiling)
and the pytest-benchmark cases (benchmarks/bench_*.py), and writes them with the
environment they came from.

gate builds the last release recorded for this CPU class (its commit, in a temporary
git worktree) and the working tree, then runs the kernel set on both in paired,
interleaved rounds: one worker process per build (kernel_set.py --serve), asked in turn
kernel by kernel (A B, then B A for the next), so that the two timings of a pair are
seconds apart and see the same load on a shared machine. Each timing is the fastest
of three runs, and the gate compares the per-round ratios (median and range), not
single timings. A kernel whose median ratio is more
than --threshold slower is reported with its round-by-round evidence, and the gate
exits 1. See docs/releasing.md.
"""
from __future__ import annotations

import argparse
import datetime
import difflib
import glob
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "benchmarks", "results")
DOCS = os.path.join(ROOT, "docs", "benchmarks.md")
KERNELS = os.path.join(ROOT, "benchmarks", "kernel_set.py")


# -- environment ---------------------------------------------------------------------

def cpu_info() -> dict:
    model, flags = platform.processor() or "unknown", set()
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                key, _, value = line.partition(":")
                if key.strip() == "model name" and model in ("unknown", "", platform.machine()):
                    model = value.strip()
                elif key.strip() in ("flags", "Features") and not flags:
                    flags = set(value.split())
    except OSError:
        pass
    return {"model": model, "flags": sorted(flags & {"sse4_2", "avx", "avx2", "fma", "avx512f", "avx512bw",
                                                    "avx512dq", "avx512vl", "avx512_bf16", "avx512_fp16",
                                                    "asimd", "sve", "neon"})}


def cpu_class(info: dict | None = None) -> str:
    """The class results are compared within: architecture plus widest vector ISA."""
    info = info or cpu_info()
    flags = set(info["flags"])
    isa = "avx512" if "avx512f" in flags else "avx2" if "avx2" in flags else "portable"
    return f"{platform.machine()}-{isa}"


def _version_of(module: str):
    try:
        return __import__(module).__version__
    except Exception:   # not installed or broken: recorded as absent
        return None


def environment() -> dict:
    import weightinit as wi
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    # the tool's own outputs (results, the generated page) do not make the code dirty
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", ".",
                            ":!benchmarks/results", ":!docs/benchmarks.md"], cwd=ROOT,
                           capture_output=True, text=True).stdout.strip() != ""
    info = cpu_info()
    return {"cpu_class": cpu_class(info), "cpu": info, "cores": len(os.sched_getaffinity(0)),
            "simd_paths": list(wi.available_simd_paths()), "python": platform.python_version(),
            "weightinit": wi.__version__, "numpy": _version_of("numpy"), "torch": _version_of("torch"),
            "transformers": _version_of("transformers"), "commit": commit, "dirty": dirty,
            "date": datetime.date.today().isoformat(), "load_average": os.getloadavg()[0]}


# -- record --------------------------------------------------------------------------

def _run(cmd, env=None, cwd=ROOT):
    print("+", " ".join(cmd), flush=True)
    r = subprocess.run(cmd, cwd=cwd, env={**os.environ, **(env or {})}, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"release: {' '.join(cmd)} failed ({r.returncode}):\n{r.stderr[-2000:]}")
    return r


def _measure(path: str, tmp: str, quick: bool, flags: list, penv: dict, site: str | None) -> dict:
    """The kernel set and the peer comparison on SIMD path `path`; with `site`, checks
    that the build there is what was timed."""
    env = {**penv, "WEIGHTINIT_SIMD": path}
    c = os.path.join(tmp, f"compare-{path}.json")

    def kernel_pass(i: int) -> dict:
        k = os.path.join(tmp, f"kernels-{path}-{i}.json")
        _run([sys.executable, *flags, KERNELS, "--json", k] + (["--quick"] if quick else []), env, cwd=tmp)
        with open(k) as fh:
            kernels = json.load(fh)
        if site and not os.path.realpath(kernels["module"]).startswith(os.path.realpath(site)):
            raise SystemExit(f"release: timed {kernels['module']}, not the build in {site}")
        return kernels["kernels"]

    # two passes of the kernel set, the peer comparison between them: a burst of other
    # load on a shared machine lasts seconds and slows every run of one pass, so each
    # kernel keeps the pass whose median is lower
    first = kernel_pass(1)
    _run([sys.executable, *flags, os.path.join(ROOT, "benchmarks", "compare.py"), "--log2n",
          "22" if quick else "26", "--json", c], env, cwd=tmp)
    second = kernel_pass(2)
    kernels = {name: {**min(first[name], second[name], key=lambda r: r["median_s"]), "passes": 2}
               for name in first}
    with open(c) as fh:
        return {"kernels": kernels, "peers": json.load(fh), "pytest_benchmark": {}}


def _pytest_benchmark(path: str, tmp: str, quick: bool) -> dict:
    b = os.path.join(tmp, f"bench-{path}.json")
    _run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "not slow",
          "--benchmark-enable", f"--benchmark-json={b}", "benchmarks/"]
         + (["--benchmark-max-time=0.05", "--benchmark-min-rounds=1"] if quick else []), {"WEIGHTINIT_SIMD": path})
    with open(b) as fh:
        return {x["name"]: {s: x["stats"][s] for s in ("median", "min", "max", "rounds")}
                for x in json.load(fh)["benchmarks"]}


def record(quick: bool, commit: str | None = None) -> str:
    """Measure this CPU on every SIMD path: the working tree (kernel set, peers,
    pytest-benchmark), or with `commit` an earlier release built from it in a temporary
    worktree (kernel set and peers, which use only the API every release has)."""
    env = environment()
    tmp = tempfile.mkdtemp(prefix="wi-release-")
    try:
        flags, penv, site = [], {}, None
        if commit is not None:
            src, site = os.path.join(tmp, "src"), os.path.join(tmp, "site")
            _run(["git", "worktree", "add", "--detach", src, commit])
            try:
                _build(src, site)
            finally:
                _run(["git", "worktree", "remove", "--force", src])
            flags, penv = _isolated(site)
            version = _run([sys.executable, *flags, "-c", "import weightinit; print(weightinit.__version__)"],
                           penv, cwd=tmp).stdout.strip()
            env.update(weightinit=version, commit=_run(["git", "rev-parse", commit]).stdout.strip(), dirty=False,
                       recorded_with=f"benchmarks/release.py record --commit of {env['commit'][:10]}")
        elif env["dirty"]:
            print("release: the working tree has uncommitted changes; the results record the commit "
                  f"{env['commit'][:10]} plus them (commit first for a release)", file=sys.stderr)
        env["quick"] = quick
        out = {"environment": env, "paths": {}}
        for path in env["simd_paths"]:
            out["paths"][path] = _measure(path, tmp, quick, flags, penv, site)
            if commit is None:
                out["paths"][path]["pytest_benchmark"] = _pytest_benchmark(path, tmp, quick)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    out["environment"]["load_average_after"] = os.getloadavg()[0]
    env = out["environment"]
    target = os.path.join(RESULTS, env["weightinit"], f"{env['cpu_class']}.json")
    os.makedirs(os.path.dirname(target), exist_ok=True)
    with open(target, "w") as fh:
        json.dump(out, fh, indent=1, sort_keys=True)
        fh.write("\n")
    print(f"release: wrote {os.path.relpath(target, ROOT)}")
    return target


# -- docs ----------------------------------------------------------------------------

def _vkey(version: str):
    return tuple(int(p) if p.isdigit() else p for p in version.split("."))


def load_results() -> dict:
    """{cpu class: [(version, results), ...] newest first}."""
    by_class: dict = {}
    for path in glob.glob(os.path.join(RESULTS, "*", "*.json")):
        with open(path) as fh:
            res = json.load(fh)
        by_class.setdefault(res["environment"]["cpu_class"], []).append((res["environment"]["weightinit"], res))
    for runs in by_class.values():
        runs.sort(key=lambda vr: _vkey(vr[0]), reverse=True)
    return dict(sorted(by_class.items()))


def render_docs() -> str:
    lines = ["# Benchmarks", "",
             "Generated by `python benchmarks/release.py docs` from the recorded results in",
             "`benchmarks/results/<version>/<cpu class>.json`; do not edit by hand (a test checks",
             "that this page and the files agree). Record a CPU with `python benchmarks/release.py",
             "record`; how a release is cut: [releasing.md](releasing.md). Each CPU class shows its",
             "newest recorded release, one section per SIMD path (`WEIGHTINIT_SIMD`): the same",
             "bits on every path, different speed. Rates are Gelem/s (Gbyte/s for the checkpoint).",
             "Hand-written notes on particular measurements: [benchmark-notes.md](benchmark-notes.md).",
             ""]
    for cls, runs in load_results().items():
        version, res = runs[0]
        env = res["environment"]
        lines += [f"## {cls}: weightinit {version}", "",
                  f"{env['cpu']['model']}, {env['cores']} cores; flags {', '.join(env['cpu']['flags']) or '-'}; "
                  f"Python {env['python']}, numpy {env['numpy']}, torch {env['torch']}, "
                  f"transformers {env['transformers']}; commit {env['commit'][:10]}"
                  f"{' (+ uncommitted changes)' if env['dirty'] else ''}; {env['date']}; load average "
                  f"{env['load_average']:.2f} before, {env.get('load_average_after', float('nan')):.2f} after"
                  f"{'; QUICK run (small sizes, not release figures)' if env.get('quick') else ''}.", ""]
        if len(runs) > 1:
            lines += ["Also recorded: " + ", ".join(f"{v}" for v, _ in runs[1:]) + ".", ""]
        for path, r in res["paths"].items():
            lines += [f"### SIMD path {path}", "", "Against the peers (`benchmarks/compare.py`, all cores):", "",
                      "| dtype | kernel | Gelem/s | x ceiling | weightinit speed-up |", "|---|---|---:|---:|---:|"]
            for row in r["peers"]:
                speed = f"{row['weightinit_speedup']:.1f}x" if row["weightinit_speedup"] else ""
                lines.append(f"| {row['dtype']} | {row['kernel']} | {row['gelem_per_s']:.3f} | "
                             f"{row['x_ceiling']:.2f} | {speed} |")
            how = "median of the runs of the steadier of two passes" if any(
                k.get("passes") for k in r["kernels"].values()) else "median of the runs"
            lines += ["", f"Release kernel set (`benchmarks/kernel_set.py`, {how}):", "",
                      "| kernel | median ms | rate |", "|---|---:|---:|"]
            for name, k in r["kernels"].items():
                lines.append(f"| {name} | {k['median_s'] * 1e3:.2f} | {k['rate'] / 1e9:.3f} G{k['unit']}/s |")
            if not r["pytest_benchmark"]:
                lines.append("")
                continue
            lines += ["", "<details><summary>pytest-benchmark (median, min, max in microseconds)</summary>", "",
                      "| case | median | min | max | rounds |", "|---|---:|---:|---:|---:|"]
            for name, s in sorted(r["pytest_benchmark"].items()):
                lines.append(f"| {name} | {s['median'] * 1e6:.1f} | {s['min'] * 1e6:.1f} | {s['max'] * 1e6:.1f} "
                             f"| {s['rounds']} |")
            lines += ["", "</details>", ""]
    return "\n".join(lines).rstrip() + "\n"


def docs(check: bool) -> int:
    text = render_docs()
    if check:
        with open(DOCS) as fh:
            current = fh.read()
        if current != text:
            diff = difflib.unified_diff(current.splitlines(), text.splitlines(), "docs/benchmarks.md",
                                        "generated", lineterm="", n=0)
            print("docs/benchmarks.md disagrees with benchmarks/results (run `python benchmarks/release.py "
                  "docs`):\n" + "\n".join(list(diff)[:40]), file=sys.stderr)
            return 1
        print("docs/benchmarks.md agrees with benchmarks/results")
        return 0
    with open(DOCS, "w") as fh:
        fh.write(text)
    print(f"release: wrote {os.path.relpath(DOCS, ROOT)}")
    return 0


# -- gate ----------------------------------------------------------------------------

def compare_rounds(rounds: list, threshold: float) -> list:
    """rounds: [{kernel: (release seconds, tree seconds)}]. Returns one row per kernel:
    (kernel, median ratio tree/release, min ratio, max ratio, slower?) where slower
    means the median ratio exceeds 1 + threshold."""
    rows = []
    for name in rounds[0]:
        ratios = [r[name][1] / r[name][0] for r in rounds if r[name][0] > 0]
        med = statistics.median(ratios)
        rows.append((name, med, min(ratios), max(ratios), med > 1 + threshold))
    return rows


def _build(source: str, target: str) -> None:
    _run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "--target", target,
          source])


def _isolated(site: str) -> tuple:
    """Interpreter flags and environment that import weightinit from `site` only: -S
    skips the .pth files (an editable install's import hook would otherwise win over
    PYTHONPATH); numpy and the rest come from the site-packages directories as plain
    paths."""
    import site as site_module
    return ["-S"], {"PYTHONPATH": os.pathsep.join([site] + site_module.getsitepackages())}


class _Worker:
    """kernel_set.py --serve importing weightinit from `site` only: times one kernel at
    a time on request, so that the gate can alternate two builds kernel by kernel."""

    def __init__(self, site: str, quick: bool, env: dict):
        flags, penv = _isolated(site)
        self.proc = subprocess.Popen([sys.executable, *flags, KERNELS, "--serve"] + (["--quick"] if quick else []),
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                     env={**os.environ, **penv, **env}, cwd=tempfile.gettempdir())
        hello = self._answer()
        if not os.path.realpath(hello["module"]).startswith(os.path.realpath(site)):
            self.close()
            raise SystemExit(f"release gate: timed {hello['module']}, not the build in {site}")
        self.kernels = hello["kernels"]

    def _answer(self) -> dict:
        line = self.proc.stdout.readline()
        if not line:
            raise SystemExit(f"release gate: a kernel worker stopped (exit status {self.proc.wait()})")
        return json.loads(line)

    def time(self, kernel: str, reps: int = 3) -> float:
        """the fastest of `reps` runs, seconds"""
        self.proc.stdin.write(f"{kernel} {reps}\n")
        self.proc.stdin.flush()
        return self._answer()["min_s"]

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            self.proc.wait()


def gate(threshold: float, n_rounds: int, quick: bool, against: str | None, tree_env: list) -> int:
    cls = cpu_class()
    runs = load_results().get(cls, [])
    import weightinit as wi
    candidates = [(v, r) for v, r in runs if (against is None and v != wi.__version__) or v == against]
    if not candidates:
        print(f"release gate: no recorded release for CPU class {cls} to compare with "
              f"(recorded: {', '.join(v for v, _ in runs) or 'none'}); pass --against VERSION", file=sys.stderr)
        return 2
    version, res = candidates[0]
    commit = res["environment"]["commit"]
    tmp = tempfile.mkdtemp(prefix="wi-gate-")
    extra = dict(item.split("=", 1) for item in tree_env)
    try:
        src = os.path.join(tmp, "release-src")
        _run(["git", "worktree", "add", "--detach", src, commit])
        try:
            _build(src, os.path.join(tmp, "release"))
        finally:
            _run(["git", "worktree", "remove", "--force", src])
        _build(ROOT, os.path.join(tmp, "tree"))
        workers = {}
        try:
            for side in ("release", "tree"):
                workers[side] = _Worker(os.path.join(tmp, side), quick, extra if side == "tree" else {})
            names = [k for k in workers["release"].kernels if k in workers["tree"].kernels]
            rounds = []
            for i in range(n_rounds):
                got = {"release": {}, "tree": {}}
                for j, name in enumerate(names):   # the two builds seconds apart, in alternating order
                    for side in (("release", "tree") if (i + j) % 2 == 0 else ("tree", "release")):
                        got[side][name] = workers[side].time(name)
                rounds.append({k: (got["release"][k], got["tree"][k]) for k in names})
                print(f"round {i + 1}/{n_rounds} done", flush=True)
        finally:
            for w in workers.values():
                w.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    rows = compare_rounds(rounds, threshold)
    print(f"\nload average {os.getloadavg()[0]:.2f} (the gate needs an otherwise idle machine)")
    print(f"working tree vs weightinit {version} (commit {commit[:10]}) on {cls}, {n_rounds} paired rounds; "
          f"ratio = tree time / release time (> 1: slower); threshold {threshold:.0%}")
    if extra:
        print(f"tree run with {' '.join(tree_env)}")
    print(f"{'kernel':<32}{'median':>8}{'range':>16}  verdict")
    for name, med, lo, hi, slower in rows:
        print(f"{name:<32}{med:>8.3f}{f'{lo:.3f}-{hi:.3f}':>16}  {'SLOWER' if slower else 'ok'}")
    slow = [r for r in rows if r[4]]
    for name, *_ in slow:
        times = ", ".join(f"{a * 1e3:.1f}/{b * 1e3:.1f}" for a, b in (r[name] for r in rounds))
        print(f"evidence {name} (release/tree ms per round): {times}")
    print(f"{len(slow)} kernel(s) slower than the threshold" if slow else "no kernel slower than the threshold")
    return 1 if slow else 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("record", help="measure this CPU and write benchmarks/results/<version>/<class>.json")
    p.add_argument("--quick", action="store_true", help="small sizes: a smoke run, not for a release")
    p.add_argument("--commit", default=None,
                   help="record an earlier release from its commit (kernel set and peers only)")
    p = sub.add_parser("docs", help="generate docs/benchmarks.md from benchmarks/results")
    p.add_argument("--check", action="store_true", help="exit 1 when the page and the results disagree")
    p = sub.add_parser("gate", help="paired rounds of the working tree against the last recorded release")
    p.add_argument("--threshold", type=float, default=0.10, help="slower by more than this fraction fails (0.10)")
    p.add_argument("--rounds", type=int, default=6)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--against", default=None, help="a recorded version (default: the newest other than this one)")
    p.add_argument("--tree-env", action="append", default=[], metavar="KEY=VALUE",
                   help="environment of the working tree's runs only (e.g. to check the gate catches a slowdown)")
    args = ap.parse_args(argv)
    if args.command == "record":
        record(args.quick, args.commit)
        return 0
    if args.command == "docs":
        return docs(args.check)
    return gate(args.threshold, args.rounds, args.quick, args.against, args.tree_env)


if __name__ == "__main__":
    sys.exit(main())
