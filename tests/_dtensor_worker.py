"""Worker of tests/test_dtensor.py: one rank of a gloo process group on 127.0.0.1."""
import datetime
import os

import torch
import torch.distributed as dist


def _close():
    """Leave the group together: a rank that tears gloo down while another still talks
    to it makes the other abort ("terminate called without an active exception")."""
    try:
        dist.monitored_barrier(timeout=datetime.timedelta(seconds=60))   # a failed rank does not hang the rest
    finally:
        dist.destroy_process_group()


def model():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Embedding(41, 24), torch.nn.Linear(24, 50), torch.nn.ReLU(),
                               torch.nn.Linear(50, 23), torch.nn.LayerNorm(23))


def run(rank, world, port, queue):
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=world)
    try:
        from torch.distributed.device_mesh import init_device_mesh
        from torch.distributed.tensor import Partial, Shard, distribute_tensor

        import weightinit.torch as wt
        mesh = init_device_mesh("cpu", (world,))
        out = {}
        for dim in (0, 1):
            m = model()
            for mod in m:
                for name, p in list(mod.named_parameters(recurse=False)):
                    d = min(dim, p.dim() - 1)
                    setattr(mod, name, torch.nn.Parameter(distribute_tensor(p.data, mesh, [Shard(d)])))
            local_before = {n: p.to_local().clone() for n, p in m.named_parameters()}
            wt.init_module_(m, seed=5)
            for n, p in m.named_parameters():
                out[f"shard{dim}/{n}"] = p.full_tensor().detach().numpy().tobytes()
                out[f"local{dim}/{n}"] = tuple(p.to_local().shape)
            # the random weights' shards were written in place (torch's own init drew other values)
            out[f"changed{dim}"] = all(not torch.equal(local_before[n], p.to_local())
                                       for n, p in m.named_parameters() if n in ("0.weight", "1.weight", "3.weight"))
            w = distribute_tensor(torch.zeros(64, 30), mesh, [Shard(dim)])
            torch.manual_seed(123)
            wt.trunc_normal_(w, std=0.02, a=-0.04, b=0.04)
            out[f"trunc{dim}"] = w.full_tensor().numpy().tobytes()
        partial = torch.distributed.tensor.DTensor.from_local(torch.ones(8, 8), mesh, [Partial()])
        try:
            wt.normal_(partial)
            out["partial"] = "no error"
        except ValueError as exc:
            out["partial"] = str(exc)
            out["partial_untouched"] = bool((partial.to_local() == 1).all())
        if rank == 0:
            queue.put(out)
    finally:
        _close()


LLAMA = dict(hidden_size=64, intermediate_size=96, num_hidden_layers=2, num_attention_heads=4,
             num_key_value_heads=2, vocab_size=100, tie_word_embeddings=False)


def llama():
    """A tiny transformers llama on the meta device."""
    from transformers import AutoConfig, AutoModelForCausalLM
    with torch.device("meta"):
        return AutoModelForCausalLM.from_config(AutoConfig.for_model("llama", **LLAMA))


def run_fsdp2(rank, world, port, queue):
    """The recipe of docs/distributed.md: meta model, fully_shard, to_empty, init_module_."""
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=world)
    try:
        from torch.distributed.device_mesh import init_device_mesh
        from torch.distributed.fsdp import fully_shard

        import weightinit.torch as wt
        mesh = init_device_mesh("cpu", (world,))
        model = llama()
        for layer in model.model.layers:
            fully_shard(layer, mesh=mesh)
        fully_shard(model, mesh=mesh)
        model.to_empty(device="cpu")
        wt.init_module_(model, seed=3)
        full = {n: p.full_tensor().detach().numpy().tobytes() for n, p in model.named_parameters()}
        if rank == 0:
            queue.put(full)
    finally:
        _close()


class OrthoLinear(torch.nn.Linear):
    """A layer whose own init code is orthogonal_: init_module_ records and replays it."""

    def reset_parameters(self):
        torch.nn.init.orthogonal_(self.weight, gain=2.0)
        torch.nn.init.zeros_(self.bias)


def structured_model():
    """Recorded and non-elementwise inits: an embedding with a zeroed padding row, and
    orthogonal layers tall, wide and across the 128-reflector panel boundary."""
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Embedding(41, 24, padding_idx=3), OrthoLinear(24, 50),
                               OrthoLinear(50, 23), OrthoLinear(140, 300))


def structured_inits():
    """(name, global shape, init of a tensor, dtype) for the torch drop-ins that are not
    elementwise, and for complex tensors (whose parts' blocks keep each element's pair)."""
    from weightinit import schemes
    return [(*case, torch.float32) for case in [
        ("orthogonal_tall", (300, 140), lambda w: wt_mod().orthogonal_(w, gain=1.5)),
        ("orthogonal_wide", (50, 130), lambda w: wt_mod().orthogonal_(w)),
        ("orthogonal_conv", (16, 4, 3, 3), lambda w: wt_mod().orthogonal_(w)),
        ("eye", (7, 11), lambda w: wt_mod().eye_(w)),
        ("dirac", (8, 4, 3, 3), lambda w: wt_mod().dirac_(w, 2)),
        ("sparse", (40, 13), lambda w: wt_mod().sparse_(w, 0.3)),
        ("delta_orthogonal", (16, 8, 3, 3),
         lambda w: wt_mod().apply_scheme_(w, schemes.DeltaOrthogonal(1.0), seed=11, stream="d")),
    ]] + [
        ("complex_normal", (12, 10), lambda w: wt_mod().normal_(w, 0.5, 2.0), torch.complex64),
        ("complex_xavier_uniform", (12, 10), lambda w: wt_mod().xavier_uniform_(w), torch.complex128),
        ("complex_kaiming_normal", (9, 4, 3), lambda w: wt_mod().kaiming_normal_(w), torch.complex64),
        ("complex_orthogonal", (20, 9), lambda w: wt_mod().orthogonal_(w), torch.complex64),
    ]


def wt_mod():
    import weightinit.torch as wt
    return wt


def run_structured(rank, world, port, queue):
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=world)
    try:
        from torch.distributed.device_mesh import init_device_mesh
        from torch.distributed.tensor import Shard, distribute_tensor

        wt = wt_mod()
        mesh = init_device_mesh("cpu", (world,))
        out = {}
        for dim in (0, 1):
            m = structured_model()
            for mod in m:
                for name, p in list(mod.named_parameters(recurse=False)):
                    d = min(dim, p.dim() - 1)
                    setattr(mod, name, torch.nn.Parameter(distribute_tensor(p.data, mesh, [Shard(d)])))
            wt.init_module_(m, seed=5)
            for n, p in m.named_parameters():
                out[f"module{dim}/{n}"] = p.full_tensor().detach().numpy().tobytes()
            for name, shape, init, dtype in structured_inits():
                w = distribute_tensor(torch.zeros(shape, dtype=dtype), mesh, [Shard(dim)])
                torch.manual_seed(7)
                init(w)
                out[f"{name}{dim}"] = w.full_tensor().numpy().tobytes()
                out[f"{name}{dim}/local"] = tuple(w.to_local().shape)
        if rank == 0:
            queue.put(out)
    finally:
        _close()
