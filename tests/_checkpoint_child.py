"""A checkpoint writer run in a child process, for the fault-injection tests:
``python _checkpoint_child.py TARGET SEED [--shard N] [--sleep S] [--kill-at STEP]
[--fill-after CHUNK:PATH] [--resume] [--overwrite]``. Chunks are 4 KiB and a resume
point is recorded every 8 KiB, so a small spec spans many chunks."""
import argparse
import os
import signal
import sys
import time

from weightinit.checkpoint import create_checkpoint, publish, writer


def spec(seed):
    return {"seed": seed, "dtype": "float32", "tensors": [
        {"name": "emb.weight", "shape": [300, 17], "scheme": "normal", "params": {"std": 0.02}},
        {"name": "w.bf16", "shape": [1000, 13], "dtype": "bfloat16", "scheme": "trunc_normal",
         "params": {"std": 1.0, "a": -2.0, "b": 2.0}},
        {"name": "u.f16", "shape": [4097], "dtype": "float16", "scheme": "uniform",
         "params": {"low": -1.0, "high": 1.0}},
        {"name": "ln.weight", "shape": [17], "scheme": "ones"},
    ]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("target")
    ap.add_argument("seed", type=int)
    ap.add_argument("--shard", type=int, default=None)
    ap.add_argument("--sleep", type=float, default=0.0)
    ap.add_argument("--kill-at", default=None, help="SIGKILL itself at this publish step")
    ap.add_argument("--fill-after", default=None, help="CHUNK:PATH: fill the disk with PATH after that chunk")
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--overwrite", action="store_true")
    args = ap.parse_args()
    writer.CHUNK_BYTES, writer.CHECKPOINT_BYTES = 4096, 8192

    def chunk_hook(g):
        if args.fill_after:
            at, path = args.fill_after.split(":", 1)
            if g == int(at):
                with open(path, "wb") as fh:   # take every free byte
                    try:
                        while True:
                            fh.write(b"\0" * 4096)
                            fh.flush()
                    except OSError:
                        pass
        if args.sleep:
            time.sleep(args.sleep)
    writer._chunk_hook = chunk_hook
    if args.kill_at:
        def publish_hook(step):
            if step == args.kill_at:
                os.kill(os.getpid(), signal.SIGKILL)
        publish._publish_hook = publish_hook
    create_checkpoint(spec(args.seed), args.target, max_shard_size=args.shard, progress=False, resume=args.resume,
                      overwrite=args.overwrite)
    print("done", flush=True)


if __name__ == "__main__":
    sys.exit(main())
