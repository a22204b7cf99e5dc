"""DTensor parameters (real torch.distributed, gloo on CPU): every rank fills only its
local shard, and full_tensor() equals the single-process init bit for bit, for world
sizes 2 and 3 (4: slow) and Shard(0) and Shard(1), uneven shards included."""
import socket

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("torch.distributed.tensor")
if not torch.distributed.is_available():  # pragma: no cover
    pytest.skip("torch.distributed is not available", allow_module_level=True)

import torch.multiprocessing as mp  # noqa: E402

import _dtensor_worker as worker  # noqa: E402
import weightinit.torch as wt  # noqa: E402


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(world, target=worker.run):
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    port = _free_port()
    procs = [ctx.Process(target=target, args=(r, world, port, queue)) for r in range(world)]
    for p in procs:
        p.start()
    try:
        out = queue.get(timeout=120)
    finally:
        for p in procs:
            p.join(timeout=60)
    assert all(p.exitcode == 0 for p in procs), [p.exitcode for p in procs]
    return out


def _reference():
    m = worker.model()
    wt.init_module_(m, seed=5)
    params = {n: p.detach().numpy().tobytes() for n, p in m.named_parameters()}
    torch.manual_seed(123)
    w = wt.trunc_normal_(torch.zeros(64, 30), std=0.02, a=-0.04, b=0.04)
    return params, w.numpy().tobytes()


@pytest.mark.parametrize("world", [2, 3, pytest.param(4, marks=pytest.mark.slow)])
def test_sharded_init_equals_single_process(world):
    out = _run(world)
    params, trunc = _reference()
    for dim in (0, 1):
        for n, ref in params.items():
            assert out[f"shard{dim}/{n}"] == ref, f"Shard({dim}) {n} differs at world size {world}"
        assert out[f"trunc{dim}"] == trunc
        assert out[f"changed{dim}"]
    # rank 0 held only its shard: e.g. the 50 x 24 weight split 3 ways is 17 rows (uneven)
    assert out["local0/1.weight"][0] == -(-50 // world)
    assert "placement P(sum) is not supported" in out["partial"] and "nothing was written" in out["partial"] and out["partial_untouched"]


def test_fsdp2_transformers_model_equals_single_process():
    """meta device -> fully_shard -> to_empty -> init_module_ (docs/distributed.md)."""
    pytest.importorskip("transformers")
    out = _run(2, worker.run_fsdp2)
    model = worker.llama().to_empty(device="cpu")
    wt.init_module_(model, seed=3)
    for n, p in model.named_parameters():
        assert out[n] == p.detach().numpy().tobytes(), n


@pytest.mark.parametrize("world", [2, 3])
def test_structured_and_recorded_inits_of_shards_equal_single_process(world):
    """orthogonal_ (tall, wide, conv, across a panel boundary), eye_, dirac_, sparse_,
    delta-orthogonal, complex tensors, and init_module_ with recorded inits (an embedding's zeroed padding
    row, layers whose own reset_parameters calls orthogonal_), on Shard(0) and Shard(1)."""
    out = _run(world, worker.run_structured)
    m = worker.structured_model()
    wt.init_module_(m, seed=5)
    assert (m[0].weight[3] == 0).all()
    for dim in (0, 1):
        for n, p in m.named_parameters():
            assert out[f"module{dim}/{n}"] == p.detach().numpy().tobytes(), f"Shard({dim}) {n}, world {world}"
        for name, shape, init, dtype in worker.structured_inits():
            w = torch.zeros(shape, dtype=dtype)
            torch.manual_seed(7)
            init(w)
            assert out[f"{name}{dim}"] == w.numpy().tobytes(), f"{name} on Shard({dim}), world {world}"
            assert out[f"{name}{dim}/local"][dim] == -(-shape[dim] // world)   # rank 0 held only its shard
