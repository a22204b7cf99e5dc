"""`weightinit create` and `weightinit inspect`."""
import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest

from weightinit.checkpoint import read_checkpoint, writer
from weightinit.cli import main

SPEC = """
seed = 5
[[tensors]]
name = "w"
shape = [200, 100]
scheme = "normal"
params = { std = 0.5 }
[[tensors]]
name = "b"
shape = [100]
scheme = "zeros"
"""
SMALL = ["--set", "n_layer=1", "--set", "n_embd=32", "--set", "n_head=2", "--set", "vocab_size=300",
         "--set", "n_positions=16"]


def test_create_from_spec_file_and_inspect(tmp_path, capsys):
    (tmp_path / "s.toml").write_text(SPEC)
    out = tmp_path / "m.safetensors"
    assert main(["create", str(tmp_path / "s.toml"), "-o", str(out), "--quiet"]) == 0
    assert capsys.readouterr().err == ""   # --quiet: no bar, no summary
    entries, meta = read_checkpoint(out)
    assert meta["weightinit.seed"] == "5"
    assert [e.name for e in entries] == ["w", "b"]
    assert main(["inspect", str(out)]) == 0
    text = capsys.readouterr().out
    line = next(ln for ln in text.splitlines() if ln.startswith("w "))
    fields = line.split()
    assert fields[1] == "float32" and fields[2] == "200x100" and fields[3].startswith("normal(")
    exp_std, mean, std = float(fields[4]), float(fields[5]), float(fields[6])
    assert exp_std == 0.5
    assert abs(std - 0.5) < 0.02, f"measured std {std} for std 0.5"
    assert abs(mean) < 0.02, f"measured mean {mean}"
    assert "2 tensors, 20,100 parameters" in text


def test_inspect_json_stats_match_numpy(tmp_path, capsys):
    out = tmp_path / "g"
    assert main(["create", "gpt2", *SMALL, "--dtype", "bfloat16", "-o", str(out), "-q", "--seed", "1"]) == 0
    assert main(["inspect", str(out), "--json"]) == 0
    rows = [json.loads(ln) for ln in capsys.readouterr().out.splitlines()]
    entries = {e.name: e for e in read_checkpoint(out)[0]}
    assert {r["name"] for r in rows} == set(entries)
    for r in rows:
        a = np.asarray(entries[r["name"]].array()).astype(np.float64)
        assert r["dtype"] == "bfloat16"
        assert math.isclose(r["mean"], a.mean(), rel_tol=1e-9, abs_tol=1e-12), r["name"]
        assert math.isclose(r["std"], a.std(), rel_tol=1e-9, abs_tol=1e-12), r["name"]
        assert (r["min"], r["max"]) == (a.min(), a.max())
    wte = next(r for r in rows if r["name"] == "transformer.wte.weight")
    assert wte["expected_std"] == 0.02 and abs(wte["std"] - 0.02) < 0.002


def test_create_preset_with_config_and_shards(tmp_path):
    cfg = {"model_type": "llama", "num_hidden_layers": 1, "hidden_size": 16, "num_attention_heads": 2,
           "intermediate_size": 24, "vocab_size": 50}
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    out = tmp_path / "ll"
    # the preset name may be left out when --config has a model_type
    assert main(["create", "--config", str(tmp_path / "config.json"), "-o", str(out), "-q",
                 "--max-shard-size", "2KB", "--dtype", "fp16"]) == 0
    files = sorted(os.listdir(out))
    assert "model.safetensors.index.json" in files and "config.json" in files
    written = json.loads((out / "config.json").read_text())
    assert written["hidden_size"] == 16 and written["model_type"] == "llama"
    assert written.get("dtype", written.get("torch_dtype")) == "float16"   # transformers 5 writes "dtype"
    entries, _ = read_checkpoint(out)
    assert len(entries) == 1 + 9 + 2
    assert all(e.dtype_name == "float16" for e in entries)


def test_create_npy_format(tmp_path):
    out = tmp_path / "n"
    assert main(["create", "gpt2", *SMALL, "--format", "npy", "-o", str(out), "-q"]) == 0
    assert (out / "weightinit.json").exists()
    assert np.load(out / "transformer.wte.weight.npy").shape == (300, 32)


@pytest.mark.parametrize("argv, match", [
    (["create", "nosuchpreset", "-o", "X"], "neither a spec file nor a preset"),
    (["create", "gpt2", "--set", "n_layer", "-o", "X"], "KEY=VALUE"),
    (["create", "gpt2", "--dtype", "int4", "-o", "X"], "dtype"),
    (["create", "gpt2", "--max-shard-size", "lots", "-o", "X"], "max_shard_size"),
    (["create", "-o", "X"], "SPEC_OR_PRESET"),
])
def test_create_errors_exit_2_and_write_nothing(tmp_path, capsys, argv, match):
    argv = [a.replace("X", str(tmp_path / "out")) for a in argv]
    assert main(argv) == 2
    assert match in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_create_existing_target_then_overwrite_and_resume(tmp_path, capsys, monkeypatch):
    (tmp_path / "s.toml").write_text(SPEC)
    out = tmp_path / "m.safetensors"
    args = ["create", str(tmp_path / "s.toml"), "-o", str(out), "-q"]
    assert main(args) == 0
    first = out.read_bytes()
    err = capsys.readouterr().err if main(args) == 2 else ""
    assert "already exists (pass --overwrite to replace it)" in err and "overwrite=True" not in err
    assert main(args + ["--overwrite"]) == 0 and out.read_bytes() == first
    out.unlink()
    monkeypatch.setattr(writer, "CHUNK_BYTES", 4096)
    monkeypatch.setattr(writer, "CHECKPOINT_BYTES", 4096)

    def hook(g):
        if g == 3:
            raise KeyboardInterrupt
    monkeypatch.setattr(writer, "_chunk_hook", hook)
    assert main(args) == 130
    assert not out.exists()
    monkeypatch.setattr(writer, "_chunk_hook", None)
    assert main(args + ["--resume"]) == 0
    assert out.read_bytes() == first
    assert sorted(os.listdir(tmp_path)) == ["m.safetensors", "s.toml"]


def test_installed_command_runs_the_gpt2_preset(tmp_path):
    """The README main job (`weightinit create gpt2 -o ...`), shrunk through --set."""
    out = tmp_path / "gpt2-random"
    r = subprocess.run([sys.executable, "-m", "weightinit", "create", "gpt2", *SMALL, "-o", str(out)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "wrote 16 tensors" in r.stderr
    assert sorted(os.listdir(out)) == ["config.json", "model.safetensors"]
