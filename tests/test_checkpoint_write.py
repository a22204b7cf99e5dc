"""create_checkpoint: values, formats, sharding, resume, atomicity."""
import errno
import json
import os

import ml_dtypes
import numpy as np
import pytest

import weightinit as wi
from weightinit.checkpoint import create_checkpoint, parse_size, read_checkpoint, writer

safetensors = pytest.importorskip("safetensors")

BF16 = np.dtype(ml_dtypes.bfloat16)
NP_DTYPES = {"float64": np.dtype(np.float64), "float32": np.dtype(np.float32),
             "float16": np.dtype(np.float16), "bfloat16": BF16}


def small_spec(seed=7):
    return {"seed": seed, "dtype": "float32", "tensors": [
        {"name": "emb.weight", "shape": [300, 17], "scheme": "normal", "params": {"std": 0.02}},
        {"name": "w.bf16", "shape": [1000, 13], "dtype": "bfloat16", "scheme": "trunc_normal",
         "params": {"std": 1.0, "a": -2.0, "b": 2.0}},
        {"name": "u.f16", "shape": [4097], "dtype": "float16", "scheme": "uniform",
         "params": {"low": -1.0, "high": 1.0}},
        {"name": "d.f64", "shape": [33, 3], "dtype": "float64", "scheme": {"name": "normal", "mean": 1.0, "std": 2.0}},
        {"name": "ln.weight", "shape": [17], "scheme": "ones"},
        {"name": "bias", "shape": [17], "scheme": "zeros"},
        {"name": "scalar", "shape": [], "scheme": "normal"},
        {"name": "empty", "shape": [0, 5], "scheme": "normal"},
    ]}


def expected_tensor(t, seed, default_dtype="float32"):
    """The in-memory result of the same scheme, seed and stream (the tensor's name),
    computed with the sampling functions directly, not with the checkpoint code."""
    out = np.empty(t["shape"], NP_DTYPES[t.get("dtype", default_dtype)])
    scheme = t["scheme"] if isinstance(t["scheme"], dict) else {"name": t["scheme"], **t.get("params", {})}
    p = {k: v for k, v in scheme.items() if k != "name"}
    name = scheme["name"]
    if out.size == 0:
        return out
    if name == "normal":
        wi.normal_(out, p.get("mean", 0.0), p.get("std", 1.0), seed=seed, stream=t["name"])
    elif name == "trunc_normal":
        wi.trunc_normal_(out, p.get("mean", 0.0), p["std"], p["a"], p["b"], seed=seed, stream=t["name"])
    elif name == "uniform":
        wi.uniform_(out, p["low"], p["high"], seed=seed, stream=t["name"])
    elif name == "ones":
        wi.ones_(out)
    elif name == "zeros":
        wi.zeros_(out)
    else:  # pragma: no cover
        raise AssertionError(name)
    return out


def load_safetensors(path):
    """name -> array, read by the safetensors package (numpy; BF16 through deserialize,
    since numpy has no bfloat16)."""
    out = {}
    with safetensors.safe_open(str(path), framework="numpy") as f:
        meta = f.metadata()
        for k in f.keys():
            if f.get_slice(k).get_dtype() != "BF16":
                out[k] = f.get_tensor(k)
    with open(path, "rb") as fh:
        for name, info in safetensors.deserialize(fh.read()):
            if info["dtype"] == "BF16":
                out[name] = np.frombuffer(bytes(info["data"]), BF16).reshape(info["shape"])
    return out, meta


def assert_bits_equal(a, b, name):
    assert a.dtype == b.dtype, f"{name}: dtype {a.dtype} != {b.dtype}"
    assert a.shape == b.shape, f"{name}: shape {a.shape} != {b.shape}"
    assert a.tobytes() == b.tobytes(), f"{name}: values differ from the in-memory result"


@pytest.fixture
def small_chunks(monkeypatch):
    """Chunks of 4 KiB and a resume point every 16 KiB, so small tensors span many chunks."""
    monkeypatch.setattr(writer, "CHUNK_BYTES", 4096)
    monkeypatch.setattr(writer, "CHECKPOINT_BYTES", 16384)


def test_single_file_equals_in_memory_bit_for_bit(tmp_path, small_chunks):
    spec = small_spec()
    path = tmp_path / "m.safetensors"
    res = create_checkpoint(spec, path, progress=False)
    assert res.seed == 7 and res.num_tensors == len(spec["tensors"])
    got, meta = load_safetensors(path)
    assert set(got) == {t["name"] for t in spec["tensors"]}
    for t in spec["tensors"]:
        assert_bits_equal(got[t["name"]], expected_tensor(t, 7), t["name"])
    assert meta["weightinit.version"] == wi.__version__
    assert meta["weightinit.seed"] == "7"
    assert meta["format"] == "pt"
    bf = json.loads(meta["weightinit.scheme.w.bf16"])
    assert bf["name"] == "trunc_normal" and bf["std"] == 1.0 and bf["a"] == -2.0
    assert json.loads(meta["weightinit.scheme.d.f64"]) == {"name": "normal", "mean": 1.0, "std": 2.0}
    assert sorted(os.listdir(tmp_path)) == ["m.safetensors"], "temporary or sidecar files left behind"


def test_chunk_size_and_threads_do_not_change_bytes(tmp_path, monkeypatch):
    spec = small_spec()
    create_checkpoint(spec, tmp_path / "a.safetensors", progress=False, threads=1)
    monkeypatch.setattr(writer, "CHUNK_BYTES", 3 * 4096)  # tensors start and end at odd places in chunks
    create_checkpoint(spec, tmp_path / "b.safetensors", progress=False, threads=2)
    assert (tmp_path / "a.safetensors").read_bytes() == (tmp_path / "b.safetensors").read_bytes()


def test_tensor_values_independent_of_other_tensors(tmp_path):
    spec = small_spec()
    create_checkpoint(spec, tmp_path / "a.safetensors", progress=False)
    spec2 = small_spec()
    spec2["tensors"] = [{"name": "extra", "shape": [999], "scheme": "normal"}] + spec2["tensors"][::-1]
    create_checkpoint(spec2, tmp_path / "b.safetensors", progress=False)
    a, _ = load_safetensors(tmp_path / "a.safetensors")
    b, _ = load_safetensors(tmp_path / "b.safetensors")
    for k in a:
        assert_bits_equal(b[k], a[k], k)


def test_seed_and_dtype_overrides(tmp_path):
    spec = small_spec(seed=7)
    create_checkpoint(spec, tmp_path / "a.safetensors", seed=123, dtype="bf16", progress=False)
    got, meta = load_safetensors(tmp_path / "a.safetensors")
    assert meta["weightinit.seed"] == "123"
    emb = spec["tensors"][0]
    assert got["emb.weight"].dtype == BF16  # default dtype replaced ...
    assert_bits_equal(got["emb.weight"], expected_tensor(emb, 123, "bfloat16"), "emb.weight")
    assert got["d.f64"].dtype == np.float64  # ... explicit dtypes kept


def test_random_seed_is_recorded_and_reproduces(tmp_path):
    spec = small_spec()
    del spec["seed"]
    res = create_checkpoint(spec, tmp_path / "a.safetensors", progress=False)
    _, meta = load_safetensors(tmp_path / "a.safetensors")
    assert meta["weightinit.seed"] == str(res.seed)
    create_checkpoint(spec, tmp_path / "b.safetensors", seed=res.seed, progress=False)
    assert (tmp_path / "a.safetensors").read_bytes() == (tmp_path / "b.safetensors").read_bytes()


def test_sharded_equals_unsharded(tmp_path, small_chunks):
    spec = small_spec()
    create_checkpoint(spec, tmp_path / "one.safetensors", progress=False)
    out = tmp_path / "sharded"
    create_checkpoint(spec, out, max_shard_size=20_000, progress=False)
    with open(out / "model.safetensors.index.json") as fh:
        index = json.load(fh)
    shards = sorted(set(index["weight_map"].values()))
    n = len(shards)
    assert n >= 3, f"expected several shards of <= 20000 bytes, got {shards}"
    assert shards == [f"model-{i:05d}-of-{n:05d}.safetensors" for i in range(1, n + 1)]
    assert sorted(os.listdir(out)) == sorted(shards + ["model.safetensors.index.json"])
    one, _ = load_safetensors(tmp_path / "one.safetensors")
    merged = {}
    for s in shards:
        part, _ = load_safetensors(out / s)
        assert set(part) == {k for k, v in index["weight_map"].items() if v == s}
        tensor_bytes = sum(a.nbytes for a in part.values())
        # a shard exceeds the limit only when it holds a single larger tensor
        assert tensor_bytes <= 20_000 or len(part) == 1, (s, tensor_bytes)
        merged.update(part)
    assert index["metadata"]["total_size"] == sum(a.nbytes for a in one.values())
    assert set(merged) == set(one)
    for k in one:
        assert_bits_equal(merged[k], one[k], k)


def test_directory_without_sharding_is_model_safetensors(tmp_path):
    create_checkpoint(small_spec(), tmp_path / "d", max_shard_size="1GB", progress=False)
    assert os.listdir(tmp_path / "d") == ["model.safetensors"]


def test_npy_directory(tmp_path, small_chunks):
    spec = small_spec()
    out = tmp_path / "npy"
    create_checkpoint(spec, out, format="npy", progress=False)
    with open(out / "weightinit.json") as fh:
        manifest = json.load(fh)
    assert manifest["seed"] == 7
    for t in spec["tensors"]:
        info = manifest["tensors"][t["name"]]
        a = np.load(out / info["file"])
        if info["dtype"] == "bfloat16":
            a = a.view(BF16)   # numpy stores bfloat16 as |V2
        assert_bits_equal(a, expected_tensor(t, 7), t["name"])
    entries, _ = read_checkpoint(out)
    assert {e.name for e in entries} == {t["name"] for t in spec["tensors"]}


def test_own_reader_matches_safetensors(tmp_path):
    create_checkpoint(small_spec(), tmp_path / "a.safetensors", progress=False)
    ref, _ = load_safetensors(tmp_path / "a.safetensors")
    entries, meta = read_checkpoint(tmp_path / "a.safetensors")
    assert meta["weightinit.seed"] == "7"
    for e in entries:
        assert_bits_equal(np.asarray(e.array()), ref[e.name], e.name)


class Boom(Exception):
    pass


def interrupt_after(monkeypatch, n, exc=Boom):
    calls = []

    def hook(g):
        calls.append(g)
        if len(calls) == n:
            raise exc()
    monkeypatch.setattr(writer, "_chunk_hook", hook)
    return calls


@pytest.mark.parametrize("exc", [Boom, KeyboardInterrupt])
def test_interrupted_run_leaves_no_target_and_resume_is_bit_identical(tmp_path, small_chunks, monkeypatch, exc):
    spec = small_spec()
    del spec["seed"]   # the seed drawn from the OS must be reused on resume
    ref = tmp_path / "ref"
    ref.mkdir()
    out = tmp_path / "out"
    interrupt_after(monkeypatch, 7, exc)
    with pytest.raises(exc):
        create_checkpoint(spec, out, max_shard_size=30_000, progress=False)
    names = os.listdir(out)
    assert names == [".weightinit-staging"], f"only the private staging directory may exist: {names}"
    staged = os.listdir(out / ".weightinit-staging")
    assert ".progress.json" in staged and any(n.endswith(".safetensors") for n in staged)
    with open(out / ".weightinit-staging" / ".progress.json") as fh:
        state = json.load(fh)
    done = sum(c is not None for c in state["checksums"])
    assert done == 7, "a run stopped with the process alive records every chunk it wrote"

    calls = interrupt_after(monkeypatch, -1)   # never raises; counts chunks written
    res = create_checkpoint(spec, out, max_shard_size=30_000, progress=False, resume=True)
    assert calls and calls[0] == done, "resume did not continue at the first chunk not recorded"
    assert res.resumed_bytes > 0 and res.rewritten_chunks == 0
    create_checkpoint(spec, ref, seed=res.seed, max_shard_size=30_000, progress=False)
    assert sorted(os.listdir(out)) == sorted(os.listdir(ref))
    for name in os.listdir(ref):
        assert (out / name).read_bytes() == (ref / name).read_bytes(), f"{name} differs after resume"


def test_resume_refuses_a_different_plan(tmp_path, small_chunks, monkeypatch):
    interrupt_after(monkeypatch, 6)
    with pytest.raises(Boom):
        create_checkpoint(small_spec(), tmp_path / "m.safetensors", progress=False)
    monkeypatch.setattr(writer, "_chunk_hook", None)
    with pytest.raises(ValueError, match="cannot resume"):
        create_checkpoint(small_spec(seed=8), tmp_path / "m.safetensors", progress=False, resume=True)
    assert not (tmp_path / "m.safetensors").exists()
    # without resume it starts over and cleans up
    create_checkpoint(small_spec(seed=8), tmp_path / "m.safetensors", progress=False)
    assert sorted(os.listdir(tmp_path)) == ["m.safetensors"]


def test_resume_without_partial_run_starts_fresh(tmp_path):
    create_checkpoint(small_spec(), tmp_path / "a.safetensors", progress=False, resume=True)
    create_checkpoint(small_spec(), tmp_path / "b.safetensors", progress=False)
    assert (tmp_path / "a.safetensors").read_bytes() == (tmp_path / "b.safetensors").read_bytes()


def test_existing_target_refused_unless_overwrite(tmp_path):
    path = tmp_path / "a.safetensors"
    path.write_bytes(b"old")
    with pytest.raises(FileExistsError, match="a.safetensors"):
        create_checkpoint(small_spec(), path, progress=False)
    assert path.read_bytes() == b"old"
    create_checkpoint(small_spec(), path, progress=False, overwrite=True)
    got, _ = load_safetensors(path)
    assert len(got) == len(small_spec()["tensors"])


def test_not_enough_disk_space_writes_nothing(tmp_path, monkeypatch):
    real = os.statvfs(tmp_path)

    class Full:
        f_frsize, f_bsize, f_bavail = real.f_frsize, real.f_bsize, 3
    monkeypatch.setattr(os, "statvfs", lambda p: Full)
    with pytest.raises(OSError, match="not enough free space") as ei:
        create_checkpoint(small_spec(), tmp_path / "d", progress=False)
    assert ei.value.errno == errno.ENOSPC
    assert not (tmp_path / "d").exists() or os.listdir(tmp_path / "d") == []


def test_disk_full_at_allocation_cleans_up(tmp_path, monkeypatch):
    def full(fd, off, size):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(os, "posix_fallocate", full, raising=False)
    with pytest.raises(OSError) as ei:
        create_checkpoint(small_spec(), tmp_path / "d", max_shard_size=20_000, progress=False)
    assert ei.value.errno == errno.ENOSPC
    assert os.listdir(tmp_path / "d") == []


def test_bad_spec_writes_nothing(tmp_path):
    spec = small_spec()
    spec["tensors"].append({"name": "bad", "shape": [3], "scheme": "no_such_scheme"})
    with pytest.raises(ValueError, match="bad"):
        create_checkpoint(spec, tmp_path / "d", progress=False)
    assert not (tmp_path / "d").exists()


@pytest.mark.parametrize("kwargs, exc, match", [
    ({"max_shard_size": "5 parsecs"}, ValueError, "max_shard_size"),
    ({"max_shard_size": 0}, ValueError, "max_shard_size"),
    ({"dtype": "int8"}, ValueError, "dtype"),
    ({"seed": -1}, ValueError, "seed"),
    ({"threads": 0}, ValueError, "threads"),
    ({"format": "hdf5"}, ValueError, "format"),
])
def test_bad_arguments_write_nothing(tmp_path, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        create_checkpoint(small_spec(), tmp_path / "d", progress=False, **kwargs)
    assert not (tmp_path / "d").exists()


def test_max_shard_size_with_single_file_path_rejected(tmp_path):
    with pytest.raises(ValueError, match="max_shard_size"):
        create_checkpoint(small_spec(), tmp_path / "a.safetensors", max_shard_size="1MB", progress=False)


@pytest.mark.parametrize("text, value", [("5GB", 5 * 10**9), ("500MB", 500 * 10**6), ("2GiB", 2 * 2**30),
                                         ("1.5 kb", 1500), (4096, 4096), ("10", 10)])
def test_parse_size(text, value):
    assert parse_size(text) == value


def test_progress_bar_and_summary(tmp_path, capsys):
    create_checkpoint(small_spec(), tmp_path / "a.safetensors", progress=True)
    err = capsys.readouterr().err
    assert "wrote 8 tensors" in err and "seed 7" in err
    assert "tensors 8/8" in err


class WholeTensorNormal:
    """A non-elementwise scheme (like orthogonal): only init_ of the whole tensor."""
    elementwise = False

    def __init__(self):
        self.calls = 0

    def to_dict(self):
        return {"name": "normal", "mean": 0.0, "std": 0.5}

    def std(self, shape):
        return 0.5

    def init_(self, out, *, seed, stream, threads=None):
        self.calls += 1
        return wi.normal_(out, 0.0, 0.5, seed=seed, stream=stream, threads=threads)


def test_non_elementwise_scheme_generated_whole_then_copied(tmp_path, small_chunks):
    from weightinit.checkpoint import CheckpointSpec, TensorSpec
    scheme = WholeTensorNormal()
    spec = CheckpointSpec([TensorSpec("q", (64, 48), scheme)], seed=3)
    create_checkpoint(spec, tmp_path / "a.safetensors", progress=False)
    assert scheme.calls == 1, "the whole tensor should be generated once, then copied chunk by chunk"
    got, _ = load_safetensors(tmp_path / "a.safetensors")
    ref = wi.normal_(np.empty((64, 48), np.float32), 0.0, 0.5, seed=3, stream="q")
    assert_bits_equal(got["q"], ref, "q")
