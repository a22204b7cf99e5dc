"""Hostile input (issue 24): recorded schemes from untrusted JSON, planted symlinks,
reserved metadata, FIFOs and deep nesting. Each is a clear ValueError (CLI: one line,
exit code 2) and nothing is written; none reads memory outside its own arrays."""
import base64
import json
import math
import os
import subprocess
import sys
import zlib

import numpy as np
import pytest

import weightinit as wi
from weightinit import schemes
from weightinit.checkpoint import CheckpointSpec, TensorSpec, create_checkpoint
from weightinit.cli import main

LEAF2 = {"scheme": {"name": "normal", "mean": 0.0, "std": 1.0}, "shape": [2], "leaf": 0}
LEAF88 = {**LEAF2, "shape": [8, 8]}
ZERO_ROW = {"scheme": {"name": "constant", "value": 0.0}, "shape": [1, 8], "leaf": 0}


# the child's own peak RSS in MiB (VmHWM: ru_maxrss would carry over the pytest parent's
# peak through fork and exec)
PEAK_MIB = ("import re; print(int(re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1))"
            " // 1024)")


def _zlib_b64(data: bytes) -> str:
    return base64.b64encode(zlib.compress(data)).decode()


def _nested(depth):
    node = LEAF88
    for _ in range(depth):
        node = {"op": "neg", "x": node}
    return node


def _whole(value):
    return [{"region": None, "value": value}]


def _patch(region):
    return [{"region": None, "value": LEAF88}, {"region": region, "value": ZERO_ROW}]


# (steps, the words the error must contain)
BAD_RECORDED = {
    "strided-past-its-source": (_whole({"op": "strided", "offset": 0, "shape": [8, 8], "strides": [8, 1],
                                        "x": LEAF2}), "reads element 63 of a source of 2"),
    "strided-huge-strides": (_whole({"op": "strided", "offset": 0, "shape": [8, 8], "strides": [1 << 40, 1],
                                     "x": LEAF2}), "strided view"),
    "strided-offset-past-end": (_whole({"op": "strided", "offset": 100, "shape": [8, 8], "strides": [0, 0],
                                        "x": LEAF88}), "strided view"),
    "strided-negative-stride": (_whole({"op": "strided", "offset": 63, "shape": [8, 8], "strides": [-8, -1],
                                        "x": LEAF88}), "strides"),
    "strided-no-strides": (_whole({"op": "strided", "offset": 0, "shape": [8, 8], "x": LEAF88}), "lacks 'strides'"),
    "add-without-y": (_whole({"op": "add", "x": LEAF88}), "lacks 'y'"),
    "unknown-op": (_whole({"op": "system", "x": LEAF88}), "unknown recorded operation"),
    "leaf-without-shape": (_whole({"scheme": {"name": "normal"}, "leaf": 0}), "shape"),
    "leaf-bad-scheme": (_whole({"scheme": {"name": "normal", "std": -1.0}, "shape": [8, 8]}), "scheme is invalid"),
    "values-bad-zlib": (_whole({"op": "values", "shape": [8, 8], "data": "AAAA"}), "not valid base64 zlib"),
    "values-not-base64": (_whole({"op": "values", "shape": [8, 8], "data": "!!!"}), "not valid base64"),
    "values-too-short": (_whole({"op": "values", "shape": [8, 8], "data": _zlib_b64(bytes(8 * 63))}),
                         "exactly its 64"),
    "values-too-long": (_whole({"op": "values", "shape": [8, 8], "data": _zlib_b64(bytes(8 * 65))}),
                        "exactly its 64"),
    "values-declared-huge": (_whole({"op": "values", "shape": [1 << 30], "data": ""}), "larger than"),
    "arange-10-to-the-12": (_whole({"op": "arange", "start": 0, "step": 1, "shape": [10 ** 12]}),
                            "1000000000000 elements"),
    "nested-600-levels": (_whole(_nested(600)), "nested more than"),
    "log-of-minus-one": (_whole({"op": "log", "x": {"op": "mul", "x": LEAF88, "y": 0.0}, "shape": [8, 8]}),
                         "'log' gives a non-finite value"),
    "pow-overflow": (_whole({"op": "pow", "x": {"op": "add", "x": {"op": "mul", "x": LEAF88, "y": 0.0}, "y": 10.0},
                             "y": 400.0}), "'pow' gives a non-finite value"),
    "a-nan-number": (_whole({"op": "add", "x": LEAF88, "y": float("nan")}), "finite number"),
    "reshape-changes-size": (_whole({"op": "reshape", "x": LEAF2, "shape": [8, 8]}), "changes the number"),
    "expand-not-a-broadcast": (_whole({"op": "expand", "x": {**LEAF2, "shape": [3]}, "shape": [8, 8]}),
                               "do not broadcast"),
    "expand-shrinks": (_whole({"op": "reshape", "x": {"op": "expand", "x": {**LEAF2, "shape": [2, 8, 8]},
                                                      "shape": [8, 8]}, "shape": [8, 8]}), "not a broadcast"),
    "permute-bad-dims": (_whole({"op": "permute", "x": LEAF88, "dims": [0, 0]}), "not a permutation"),
    "value-does-not-fit-region": (_whole({"op": "neg", "x": {**LEAF2, "shape": [3, 8]}}), "do not broadcast"),
    "negative-region-start": (_patch([[-1, 0], [0, 8]]), "non-negative"),
    "3-d-region-on-2-d": (_patch([[0, 1], [0, 8], [0, 1]]), "does not lie in a tensor of shape (8, 8)"),
    "region-past-the-end": (_patch([[7, 9], [0, 8]]), "does not lie in a tensor"),
    "region-start-after-stop": (_patch([[5, 4], [0, 8]]), "start after its stop"),
    "recorded-inside-a-leaf": (_whole({"scheme": {"name": "recorded", "steps": _whole(LEAF88)}, "shape": [8, 8]}),
                               "cannot itself be a recorded scheme"),
}


@pytest.mark.parametrize("name", sorted(BAD_RECORDED))
def test_bad_recorded_scheme_is_a_clear_error_and_writes_nothing(name):
    steps, words = BAD_RECORDED[name]
    out = np.full((8, 8), 7.0, np.float32)
    with pytest.raises(ValueError) as info:
        scheme = schemes.from_dict({"name": "recorded", "steps": steps})
        scheme.init_(out, seed=0, stream="w")
    assert words in str(info.value), str(info.value)
    assert "\n" not in str(info.value)
    assert (out == 7.0).all(), "a rejected call wrote into out"


def test_the_good_neighbours_of_the_bad_cases_still_work():
    """The checks refuse the cases above, not their valid neighbours."""
    good = {
        "strided": _whole({"op": "strided", "offset": 0, "shape": [8, 8], "strides": [8, 1], "x": {**LEAF2,
                                                                                                    "shape": [64]}}),
        "strided-broadcast": _whole({"op": "strided", "offset": 3, "shape": [8, 8], "strides": [0, 1], "x": LEAF88}),
        "values": _whole({"op": "values", "shape": [8, 8], "data": _zlib_b64(np.arange(64.0).tobytes())}),
        "expand": _whole({"op": "expand", "x": {**LEAF2, "shape": [8, 1]}, "shape": [8, 8]}),
        "permute": _whole({"op": "permute", "x": LEAF88, "dims": [1, 0]}),
        "log-of-inf-stays": _whole({"op": "exp", "x": {"op": "mul", "x": LEAF88, "y": 0.5}}),
        "region": _patch([[7, 8], [0, 8]]),
        "nested-200": _whole(_nested(200)),
    }
    for name, steps in good.items():
        out = np.empty((8, 8), np.float32)
        schemes.from_dict({"name": "recorded", "steps": steps}).init_(out, seed=0, stream="w")
        assert np.isfinite(out).all(), name
    out = np.empty((8, 8))
    schemes.from_dict({"name": "recorded", "steps": good["values"]}).init_(out, seed=0)
    assert (out.ravel() == np.arange(64.0)).all()


def _checkpoint_with_scheme(path, scheme_json: str):
    from weightinit.checkpoint.format import safetensors_header
    header = safetensors_header([("w", "float32", (8, 8), 0, 256)],
                                {"format": "pt", "weightinit.seed": "0", "weightinit.scheme.w": scheme_json})
    path.write_bytes(header + bytes(256))


def test_a_downloaded_checkpoint_with_a_hostile_scheme(tmp_path, capsys):
    f = tmp_path / "model.safetensors"
    steps, _ = BAD_RECORDED["strided-huge-strides"]
    _checkpoint_with_scheme(f, json.dumps({"name": "recorded", "steps": steps}))
    assert main(["verify", str(f)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "strided view" in err, err
    assert main(["inspect", str(f)]) == 0            # shows the file, says the scheme is invalid
    captured = capsys.readouterr()
    assert "invalid recorded scheme" in captured.err and "strided view" in captured.err
    assert "1 tensors" in captured.out


def test_a_decompression_bomb_stays_bounded(tmp_path):
    """A 2 MiB header whose literal claims 64 values but holds 2 GiB of zeros: verify
    refuses it after decompressing at most one byte more than the tensor needs."""
    z, parts = zlib.compressobj(9), []
    chunk = bytes(1 << 24)
    for _ in range(128):
        parts.append(z.compress(chunk))
    data = base64.b64encode(b"".join(parts) + z.flush()).decode()
    steps = _whole({"op": "values", "shape": [8, 8], "data": data})
    f = tmp_path / "model.safetensors"
    _checkpoint_with_scheme(f, json.dumps({"name": "recorded", "steps": steps}))
    assert f.stat().st_size < 4 << 20
    code = "import sys; from weightinit.cli import main; print(main(['verify', sys.argv[1]]))\n" + PEAK_MIB
    res = subprocess.run([sys.executable, "-c", code, str(f)], capture_output=True, text=True, timeout=300)
    rc, peak_mib = map(int, res.stdout.split())
    assert rc == 2 and "exactly its 64" in res.stderr, res.stderr
    assert peak_mib < 400, f"verify reached {peak_mib} MiB"


# -- planted symlinks ------------------------------------------------------------------

def test_tokenizer_symlink_out_of_the_directory_is_refused(tmp_path, capsys):
    secret = tmp_path / "secret.txt"
    secret.write_text("private key")
    tok = tmp_path / "tok"
    tok.mkdir()
    (tok / "tokenizer_config.json").write_text("{}")
    os.symlink(secret, tok / "tokenizer.json")
    out = tmp_path / "out"
    assert main(["create", "gpt2", "--set", "n_layer=1", "--set", "n_embd=8", "--set", "n_head=2",
                 "--set", "vocab_size=16", "--set", "n_positions=8", "-o", str(out), "--tokenizer", str(tok),
                 "-q"]) == 2
    err = capsys.readouterr().err
    assert "symlink" in err and err.count("\n") == 1
    assert not out.exists()


def test_tokenizer_symlinks_inside_the_directory_and_into_a_hub_cache_are_followed(tmp_path):
    from weightinit.commands.create import tokenizer_files
    repo = tmp_path / "models--org--name"
    (repo / "blobs").mkdir(parents=True)
    (repo / "blobs" / "abc123").write_text('{"hub": 1}')
    snap = repo / "snapshots" / "rev0"
    snap.mkdir(parents=True)
    os.symlink("../../blobs/abc123", snap / "tokenizer.json")
    (snap / "real_vocab.txt").write_text("a\nb\n")
    os.symlink("real_vocab.txt", snap / "vocab.txt")
    assert {k: v.read() for k, v in tokenizer_files(str(snap)).items()} == \
        {"tokenizer.json": b'{"hub": 1}', "vocab.txt": b"a\nb\n"}
    os.symlink("/etc/hostname", snap / "merges.txt")
    with pytest.raises(ValueError, match="merges.txt is a symlink"):
        tokenizer_files(str(snap))


# -- reserved metadata -----------------------------------------------------------------

@pytest.mark.parametrize("key", ["weightinit.seed", "weightinit.version", "weightinit.stream_contract",
                                 "weightinit.scheme.w", "format"])
def test_spec_metadata_cannot_claim_what_weightinit_records(tmp_path, key):
    with pytest.raises(ValueError, match="reserved"):
        spec = CheckpointSpec([TensorSpec("w", (4,), wi.schemes.get("normal"))], seed=0, metadata={key: "1"})
        create_checkpoint(spec, tmp_path / "m.safetensors")
    assert not (tmp_path / "m.safetensors").exists()


def test_spec_metadata_of_the_users_own_is_kept(tmp_path):
    from weightinit.checkpoint import read_checkpoint
    spec = CheckpointSpec([TensorSpec("w", (4,), wi.schemes.get("normal"))], seed=3, metadata={"note": "mine"})
    create_checkpoint(spec, tmp_path / "m.safetensors")
    _, meta = read_checkpoint(tmp_path / "m.safetensors")
    assert meta["note"] == "mine" and meta["weightinit.seed"] == "3"


# -- FIFOs, deep nesting ---------------------------------------------------------------

def _cli(*args, timeout=120):
    res = subprocess.run([sys.executable, "-m", "weightinit", *args], capture_output=True, text=True,
                         timeout=timeout, stdin=subprocess.DEVNULL)
    return res.returncode, res.stderr


@pytest.mark.parametrize("args", [("create", "--config", "{fifo}", "-o", "{out}"),
                                  ("create", "{fifo}.json", "-o", "{out}"),
                                  ("create", "gpt2", "--config", "{fifo}", "-o", "{out}"),
                                  ("inspect", "{fifo}.safetensors"),
                                  ("verify", "{fifo}.safetensors"),
                                  ("create", "--config", "/dev/zero", "-o", "{out}")],
                         ids=["config", "spec", "preset-config", "inspect", "verify", "device"])
def test_a_fifo_or_device_is_refused_not_waited_on(tmp_path, args):
    fifo = tmp_path / "pipe"
    for suffix in ("", ".json", ".safetensors"):
        os.mkfifo(f"{fifo}{suffix}")
    out = tmp_path / "out"
    rc, err = _cli(*(a.format(fifo=fifo, out=out) for a in args))
    assert rc == 2 and err.count("\n") == 1, err
    assert "FIFO" in err or "device" in err, err
    assert not out.exists()


@pytest.mark.parametrize("kind", ["spec.json", "spec.toml", "config.json"])
def test_deeply_nested_files_are_one_line_errors(tmp_path, kind):
    f = tmp_path / kind
    if kind.endswith(".toml"):
        f.write_text("seed = 0\nx = " + "[" * 50_000 + "]" * 50_000 + "\n")
    else:
        f.write_text('{"model_type": "gpt2", "x": ' + "[" * 100_000 + "]" * 100_000 + "}")
    args = ["create", "--config", str(f)] if kind == "config.json" else ["create", str(f)]
    rc, err = _cli(*args, "-o", str(tmp_path / "out"))
    assert rc == 2 and err.count("\n") == 1 and "nested too deeply" in err, err


# -- absurd sizes and empty names: refused up front, in bounded memory, nothing written --

CLI_REFUSALS = {
    "gpt2-a-billion-layers": (["create", "gpt2", "--set", "n_layer=1000000000", "-o", "{out}"], "tensors"),
    "llama-a-billion-layers": (["create", "llama", "--set", "num_hidden_layers=1000000000", "-o", "{out}"],
                               "tensors"),
    "gpt2-vocab-10-to-the-12": (["create", "gpt2", "--set", "vocab_size=1000000000000", "-o", "{out}"],
                                "not enough free space"),
    "gpt2-config-huge-vocab": (["create", "gpt2", "--config", "{huge_config}", "-o", "{out}"],
                               "not enough free space"),
    "empty-output": (["create", "gpt2", "-o", ""], "-o/--output"),
    "demo-inf": (["demo", "--gib", "inf"], "--gib must be a positive"),
    "demo-nan": (["demo", "--gib", "nan"], "--gib must be a positive"),
    "demo-a-billion-gib": (["demo", "--gib", "1e9"], "GiB of memory"),
    "demo-less-than-an-element": (["demo", "--gib", "1e-12"], "less than one"),
    "diagnose-huge-width": (["diagnose", "--width", "10000000"], "GiB of memory"),
    "diagnose-huge-batch": (["diagnose", "--batch", "1000000000000"], "GiB of memory"),
    "diagnose-huge-depth": (["diagnose", "--depth", "100000000"], "--depth must be at most"),
    "diagnose-zero-input-dim": (["diagnose", "--input-dim", "0"], "--input-dim"),
}


@pytest.mark.parametrize("name", sorted(CLI_REFUSALS))
def test_absurd_sizes_are_refused_at_once(tmp_path, name):
    args, words = CLI_REFUSALS[name]
    huge = tmp_path / "config.json"
    huge.write_text(json.dumps({"model_type": "gpt2", "vocab_size": 10 ** 12, "n_positions": 8, "n_embd": 8,
                                "n_layer": 1, "n_head": 2}))
    out = tmp_path / "out"
    code = "import sys; from weightinit.cli import main; rc = main(sys.argv[1:])\n" + PEAK_MIB + "\nsys.exit(rc)"
    res = subprocess.run([sys.executable, "-c", code, *(a.format(out=out, huge_config=huge) for a in args)],
                         capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert res.returncode == 2 and res.stderr.count("\n") == 1 and words in res.stderr, res.stderr
    assert int(res.stdout.split()[-1]) < 500, "refusing it took more than 500 MiB"
    assert not out.exists() and sorted(os.listdir(tmp_path)) == ["config.json"]


def test_preset_config_may_be_a_directory(tmp_path):
    cfg = tmp_path / "cfg"
    cfg.mkdir()
    (cfg / "config.json").write_text(json.dumps({"model_type": "gpt2", "vocab_size": 16, "n_positions": 8,
                                                 "n_embd": 8, "n_layer": 1, "n_head": 2}))
    out = tmp_path / "m"
    assert main(["create", "gpt2", "--config", str(cfg), "-o", str(out), "-q", "--seed", "0"]) == 0
    from weightinit.checkpoint import read_checkpoint
    entries, _ = read_checkpoint(out)
    assert {e.name: e.shape for e in entries}["transformer.wte.weight"] == (16, 8)


def test_create_checks_every_tensor_against_its_dtype_before_writing(tmp_path):
    spec = CheckpointSpec([TensorSpec("ok", (1 << 16,), wi.schemes.get("normal", std=1.0)),
                           TensorSpec("big", (16,), wi.schemes.get("normal", std=1000.0), dtype="float8_e4m3fn")],
                          seed=0)
    with pytest.raises(ValueError, match="tensor 'big' \\(float8_e4m3fn\\): std=1000"):
        create_checkpoint(spec, tmp_path / "m", progress=False)
    assert os.listdir(tmp_path) == []
    # the same through the dtype that replaces the spec's default
    spec = CheckpointSpec([TensorSpec("w", (16,), wi.schemes.get("normal", std=10000.0))], seed=0)
    with pytest.raises(ValueError, match="tensor 'w' \\(float8_e5m2\\)"):
        create_checkpoint(spec, tmp_path / "m", dtype="float8_e5m2", progress=False)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("arch", ["pipeline", "AutoModel", "__version__", "PreTrainedTokenizerFast", "BertModel",
                                  "no such class", 5])
def test_architectures_that_name_no_model_of_this_family(tmp_path, arch, capsys):
    pytest.importorskip("transformers")
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps({"model_type": "gpt2", "architectures": [arch], "vocab_size": 16, "n_positions": 8,
                               "bos_token_id": 0, "eos_token_id": 0,
                               "n_embd": 8, "n_layer": 1, "n_head": 2}))
    assert main(["create", "--config", str(cfg), "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "architectures[0]" in err, err
    assert not (tmp_path / "out").exists()


def test_a_large_tokenizer_file_is_streamed_not_read_whole(tmp_path):
    """A 256 MiB tokenizer.json is copied in pieces: the process stays far below its size."""
    tok = tmp_path / "tok"
    tok.mkdir()
    with open(tok / "tokenizer.json", "wb") as fh:
        fh.truncate(256 << 20)       # sparse: costs no disk until copied
    out = tmp_path / "out"
    code = "import sys; from weightinit.cli import main; rc = main(sys.argv[1:])\n" + PEAK_MIB + "\nsys.exit(rc)"
    res = subprocess.run([sys.executable, "-c", code, "create", "gpt2", "--set", "n_layer=1", "--set", "n_embd=8",
                          "--set", "n_head=2", "--set", "vocab_size=16", "--set", "n_positions=8", "-o", str(out),
                          "--tokenizer", str(tok), "-q", "--seed", "0"], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert (out / "tokenizer.json").stat().st_size == 256 << 20
    assert int(res.stdout.split()[-1]) < 200, "the tokenizer file was read whole"


def test_a_tokenizer_file_changed_during_the_run_is_an_error(tmp_path):
    from weightinit._files import SourceFile
    f = tmp_path / "tokenizer.json"
    f.write_text("{}")
    src = SourceFile(f, "--tokenizer file tokenizer.json")
    f.write_text('{"changed": 1}')
    with pytest.raises(ValueError, match="changed while"):
        src.read()


@pytest.mark.parametrize("a,b,expected", [
    (100.0, 101.0, 0.009997002048),          # ~1/alpha (1 - 3/alpha^2)
    (1000.0, math.inf, 0.000999997000),
    (40.0, 40.0 + 1e-9, 1e-9 / math.sqrt(12)),   # narrower than the tail's scale: uniform
    (-7.0, -5.0001, 0.180771718207),        # the switch to quadrature, against the closed form
    (-math.inf, -38.5, 0.0259217),            # (1/c) sqrt(1 - 6/c^2 + ...), c = 38.5
])
def test_truncated_normal_std_deep_in_a_tail(a, b, expected):
    """The expected std of a truncated normal far out (a checkpoint of one was a
    ZeroDivisionError: the closed form divides 0 by 0 there)."""
    assert wi.schemes.get("trunc_normal", mean=0.0, std=1.0, a=a, b=b).std((4,)) == pytest.approx(expected, rel=2e-6)


def _tiny_llama(**over):
    cfg = {"model_type": "llama", "num_hidden_layers": 2, "hidden_size": 16, "intermediate_size": 32,
           "num_attention_heads": 2, "num_key_value_heads": 2, "vocab_size": 32, "bos_token_id": 0,
           "eos_token_id": 0}
    cfg.update(over)
    return cfg


def test_config_layer_counts_beyond_any_model_are_refused_before_building(tmp_path, capsys):
    pytest.importorskip("transformers")
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps(_tiny_llama(num_hidden_layers=10 ** 9)))
    assert main(["create", "--config", str(cfg), "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "num_hidden_layers=1000000000" in err and err.count("\n") == 1, err
    assert not (tmp_path / "out").exists()


def test_a_model_registering_too_many_tensors_stops_while_it_is_built(monkeypatch):
    pytest.importorskip("transformers")
    from weightinit.checkpoint import from_config, spec
    monkeypatch.setattr(spec, "MAX_TENSORS", 10)
    with pytest.raises(ValueError, match="more than 10 parameters and buffers"):
        from_config(_tiny_llama())


def test_a_model_whose_own_code_fails_to_build_is_one_line(tmp_path, capsys, monkeypatch):
    transformers = pytest.importorskip("transformers")

    def broken(cls, config, **kw):
        raise AttributeError("'LlamaConfig' object has no attribute 'ffn_config'")
    monkeypatch.setattr(transformers.LlamaForCausalLM, "_from_config", classmethod(broken))
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps({**_tiny_llama(), "architectures": ["LlamaForCausalLM"]}))
    assert main(["create", "--config", str(cfg), "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "LlamaForCausalLM could not be built" in err and "ffn_config" in err, err


def test_recorded_constant_patches_are_checked_against_the_dtype_first():
    """A patch value that float8_e4m3fn cannot hold is refused before the base is
    written, in the chunked and the block paths alike."""
    import ml_dtypes
    steps = [{"region": None, "value": LEAF88},
             {"region": [[0, 1], [0, 8]], "value": {"scheme": {"name": "constant", "value": 1000.0},
                                                   "shape": [1, 8], "leaf": 0}}]
    scheme = schemes.from_dict({"name": "recorded", "steps": steps})
    assert scheme.elementwise and scheme.blocks
    chunk = np.zeros(16, ml_dtypes.float8_e4m3fn)
    with pytest.raises(ValueError, match="value"):
        scheme.fill_chunk_(chunk, (8, 8), 0, seed=0, stream="w")
    block = np.zeros((2, 8), ml_dtypes.float8_e4m3fn)
    with pytest.raises(ValueError, match="value"):
        scheme.init_(block, seed=0, stream="w", global_shape=(8, 8), offset=(0, 0))
    assert not chunk.view(np.uint8).any() and not block.view(np.uint8).any()
