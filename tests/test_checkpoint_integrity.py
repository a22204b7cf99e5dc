"""Checkpoint integrity: all-or-nothing publishing, one writer per target, hostile
directories, disk space in blocks, verified resume, kill -9 and SIGINT, a full disk."""
import errno
import json
import os
import random
import signal
import subprocess
import sys
import time

import pytest

from conftest import default_sigint

from _checkpoint_child import spec as child_spec
from weightinit.checkpoint import create_checkpoint, publish, read_checkpoint, writer
from weightinit.checkpoint.publish import TargetBusyError, pending_publish

CHILD = os.path.join(os.path.dirname(__file__), "_checkpoint_child.py")
STAGING = ".weightinit-staging"


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(writer, "CHUNK_BYTES", 4096)
    monkeypatch.setattr(writer, "CHECKPOINT_BYTES", 8192)


def write(target, seed, **kw):
    kw.setdefault("progress", False)
    return create_checkpoint(child_spec(seed), target, **kw)


def ckpt_files(directory) -> dict:
    """The visible files of a directory (hidden staging and lock files excluded)."""
    return {n: (directory / n).read_bytes() for n in sorted(os.listdir(directory))
            if not n.startswith(".") and (directory / n).is_file()}


def loader_view(directory):
    """What transformers would load: model.safetensors if present, else the index."""
    for name in ("model.safetensors", "model.safetensors.index.json"):
        if (directory / name).exists():
            entries, _ = read_checkpoint(directory / name)
            return {e.name: e.array().tobytes() for e in entries}
    return None


@pytest.fixture
def refs(tmp_path, small_chunks):
    """Reference checkpoints: old = seed 1, single file; new = seed 2, 3 shards; and
    seed 2 single file and seed 3 with 3 shards (same shard names as new)."""
    out = {}
    for key, seed, shard in [("old", 1, None), ("new", 2, 20_000), ("new_single", 2, None), ("other3", 3, 20_000)]:
        d = tmp_path / f"ref-{key}"
        write(d, seed, max_shard_size=shard)
        out[key] = ckpt_files(d)
        out[key + "_view"] = loader_view(d)
    assert len([n for n in out["new"] if n.endswith(".safetensors")]) == 3
    return out


def run_child(target, seed, *flags, timeout=60, wait=True):
    cmd = [sys.executable, CHILD, str(target), str(seed), *map(str, flags)]
    if not wait:
        return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


# -- all-or-nothing publishing -------------------------------------------------------

@pytest.mark.parametrize("first,second", [(None, 20_000), (20_000, None), (20_000, 40_000)],
                         ids=["single-to-shards", "shards-to-single", "3-to-2-shards"])
def test_overwrite_leaves_only_the_new_checkpoint_and_the_users_files(tmp_path, small_chunks, first, second):
    d = tmp_path / "m"
    write(d, 1, max_shard_size=first)
    (d / "README.md").write_text("mine")
    (d / "adapter_model.safetensors").write_bytes(b"not ours")
    (d / "tokenizer.json").write_text("{}")
    write(d, 2, max_shard_size=second, overwrite=True)
    ref = tmp_path / "ref"
    write(ref, 2, max_shard_size=second)
    files = ckpt_files(d)
    assert {k: v for k, v in files.items() if k not in ("README.md", "adapter_model.safetensors", "tokenizer.json")} \
        == ckpt_files(ref)
    assert files["README.md"] == b"mine" and files["adapter_model.safetensors"] == b"not ours"
    assert sorted(n for n in os.listdir(d) if n.startswith(".")) == [], "staging or lock left behind"
    entries, meta = read_checkpoint(d)
    assert meta["weightinit.seed"] == "2"


def test_overwrite_npy_with_safetensors_removes_only_listed_npy_files(tmp_path):
    d = tmp_path / "m"
    write(d, 1, format="npy")
    (d / "mine.npy").write_bytes(b"user data")
    write(d, 2, overwrite=True)
    assert sorted(os.listdir(d)) == ["mine.npy", "model.safetensors"]


@pytest.mark.parametrize("old_shard,new_shard,consistent", [
    (None, 20_000, True), (20_000, None, True), (20_000, 40_000, True), (20_000, 30_000, False)],
    ids=["single-to-shards", "shards-to-single", "3-to-2-shards", "3-to-3-shards"])
def test_kill_at_every_publish_step(tmp_path, refs, old_shard, new_shard, consistent):
    """SIGKILL at each step of the publish: this package's readers see the complete old
    or new checkpoint or refuse (publish pending); where no file name is shared by old
    and new files, what transformers loads is always the complete old or new one; the
    next run finishes the publish."""
    probe = tmp_path / "probe"
    write(probe, 3, max_shard_size=old_shard)
    steps = []
    publish._publish_hook = steps.append
    try:
        write(probe, 2, max_shard_size=new_shard, overwrite=True)
    finally:
        publish._publish_hook = None
    assert steps[0] == "committed" and len(steps) >= 3
    write(tmp_path / "ref-this", 2, max_shard_size=new_shard)
    new_ref = ckpt_files(tmp_path / "ref-this")
    new_view = refs["new_view"]
    for step in steps:
        d = tmp_path / f"k{steps.index(step)}"
        write(d, 3, max_shard_size=old_shard)
        old_files, old_view = ckpt_files(d), loader_view(d)
        r = run_child(d, 2, *(["--shard", new_shard] if new_shard else []), "--overwrite", "--kill-at", step)
        assert r.returncode == -signal.SIGKILL, r.stderr
        if consistent:
            assert loader_view(d) in (old_view, new_view), f"a loader sees a mix after {step!r}"
        if pending_publish(d):
            with pytest.raises(ValueError, match="stopped"):
                read_checkpoint(d)
        else:
            assert ckpt_files(d) in (old_files, new_ref), f"mixed files after {step!r}"
        r = run_child(d, 2, *(["--shard", new_shard] if new_shard else []), "--overwrite", "--resume")
        assert r.returncode == 0, r.stderr
        assert ckpt_files(d) == new_ref, f"not the new checkpoint after finishing {step!r}"
        assert [n for n in os.listdir(d) if n.startswith(".")] == []


def test_kill_9_at_random_moments_then_resume(tmp_path, refs):
    rng = random.Random(11)
    for trial in range(6):
        d = tmp_path / f"t{trial}"
        write(d, 1)                      # the old checkpoint: one file
        old = ckpt_files(d)
        p = run_child(d, 2, "--shard", 20_000, "--overwrite", "--sleep", 0.03, wait=False)
        time.sleep(rng.uniform(0.3, 1.2))
        p.kill()
        p.wait()
        state = ckpt_files(d)
        if pending_publish(d):
            assert loader_view(d) in (refs["old_view"], refs["new_view"])
        else:
            assert state in (old, refs["new"]), f"trial {trial}: neither the old nor the new checkpoint"
        r = run_child(d, 2, "--shard", 20_000, "--overwrite", "--resume")
        assert r.returncode == 0, r.stderr
        assert ckpt_files(d) == refs["new"], f"trial {trial}: resume did not give the uninterrupted bytes"


def test_sigint_is_one_line_exit_130_and_resumes(tmp_path, refs):
    d = tmp_path / "m"
    spec_path = tmp_path / "spec.json"
    spec_path.write_text(json.dumps(child_spec(2)))
    script = ("import sys, time; from weightinit.checkpoint import writer; "
              "writer.CHUNK_BYTES = 4096; writer._chunk_hook = lambda g: time.sleep(0.1); "
              "from weightinit.cli import main; "
              f"sys.exit(main(['create', {str(spec_path)!r}, '-o', {str(d)!r}]))")
    p = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         preexec_fn=default_sigint)
    deadline = time.time() + 20
    while not (d / STAGING / ".progress.json").exists() and time.time() < deadline:
        time.sleep(0.02)
    time.sleep(0.1)
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=30)
    assert p.returncode == 130, err
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1] == "weightinit create: interrupted"
    assert ckpt_files(d) == {}
    create_checkpoint(child_spec(2), d, progress=False, resume=True)
    assert ckpt_files(d) == refs["new_single"]


# -- one writer per target -----------------------------------------------------------

def _wait_for_lock(d, pid, timeout=20):
    lock = d / ".weightinit.lock"
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if lock.read_text().strip() == str(pid):
                return
        except OSError:
            pass
        time.sleep(0.01)
    raise AssertionError("the first writer never took the lock")


def test_second_writer_is_refused_naming_the_holder(tmp_path, refs):
    d = tmp_path / "m"
    spec_path = tmp_path / "spec.json"
    spec_path.write_text(json.dumps(child_spec(5)))
    a = run_child(d, 2, "--sleep", 0.5, wait=False)     # about 7 s: B's start-up fits inside
    _wait_for_lock(d, a.pid)
    staged_before = sorted(os.listdir(d / STAGING)) if (d / STAGING).exists() else []
    r = subprocess.run([sys.executable, "-m", "weightinit", "create", str(spec_path), "-o", str(d), "--overwrite",
                        "-q"], capture_output=True, text=True, timeout=60)
    assert a.poll() is None, "the first writer finished before the second one tried: the test proves nothing"
    assert r.returncode == 2
    assert len(r.stderr.strip().splitlines()) == 1 and f"pid {a.pid}" in r.stderr and str(d) in r.stderr
    with pytest.raises(TargetBusyError, match=f"pid {a.pid}"):
        write(d, 5, overwrite=True)
    # the second writer removed nothing of the first one's (its own atomic .tmp files come and go)
    assert {n for n in staged_before if not n.endswith(".tmp")} <= set(os.listdir(d / STAGING))
    out, err = a.communicate(timeout=60)
    assert a.returncode == 0, err
    assert ckpt_files(d) == refs["new_single"]


def test_racing_writers_one_wins_no_crash(tmp_path, refs):
    for trial in range(3):
        d = tmp_path / f"r{trial}"
        procs = [run_child(d, 2, "--sleep", 0.01, "--overwrite", wait=False) for _ in range(2)]
        results = [(p.wait(timeout=60), *p.communicate()) for p in procs]
        codes = [rc for rc, _, _ in results]
        assert all(rc >= 0 for rc in codes), f"a writer died of a signal: {codes}"
        winners = [out for rc, out, _ in results if rc == 0]
        losers = [err for rc, _, err in results if rc != 0]
        # the second may also start after the first finished and then overwrite it: both win
        assert winners and all("being written by another weightinit process" in e for e in losers)
        assert ckpt_files(d) == refs["new_single"]


# -- hostile directories -------------------------------------------------------------

def test_symlinks_planted_at_private_names_are_never_followed(tmp_path, small_chunks):
    outside = tmp_path / "outside"
    outside.mkdir()
    victim = outside / "victim"
    victim.write_bytes(b"precious")
    d = tmp_path / "m"
    d.mkdir()
    os.symlink(outside, d / STAGING)
    os.symlink(victim, d / "model.safetensors")
    write(d, 2, overwrite=True)
    assert victim.read_bytes() == b"precious" and sorted(os.listdir(outside)) == ["victim"]
    assert not (d / "model.safetensors").is_symlink()
    assert read_checkpoint(d)[1]["weightinit.seed"] == "2"

    os.symlink(victim, d / ".weightinit.lock")
    with pytest.raises(OSError, match="lock file .* is a symbolic link"):
        write(d, 3, overwrite=True)
    assert victim.read_bytes() == b"precious"


def test_symlink_planted_inside_staging_before_resume(tmp_path, small_chunks, monkeypatch):
    victim = tmp_path / "victim"
    victim.write_bytes(b"precious")
    d = tmp_path / "m"
    monkeypatch.setattr(writer, "_chunk_hook", lambda g: (_ for _ in ()).throw(KeyboardInterrupt) if g == 6 else None)
    with pytest.raises(KeyboardInterrupt):
        write(d, 2)
    monkeypatch.setattr(writer, "_chunk_hook", None)
    staged = d / STAGING / "model.safetensors"
    staged.unlink()
    os.symlink(victim, staged)
    (d / STAGING / ".progress.json.tmp").symlink_to(victim)
    write(d, 2, resume=True)
    assert victim.read_bytes() == b"precious"
    ref = tmp_path / "ref"
    write(ref, 2)
    assert ckpt_files(d) == ckpt_files(ref)


def test_a_directory_at_a_target_name_is_refused_before_writing(tmp_path):
    d = tmp_path / "m"
    (d / "model.safetensors").mkdir(parents=True)
    with pytest.raises(ValueError, match="is a directory"):
        write(d, 2, overwrite=True)
    assert os.listdir(d) == ["model.safetensors"]


# -- verified resume -----------------------------------------------------------------

def _interrupted(d, monkeypatch, at=9):
    def hook(g):
        if g == at:
            raise KeyboardInterrupt
    monkeypatch.setattr(writer, "_chunk_hook", hook)
    with pytest.raises(KeyboardInterrupt):
        write(d, 2, max_shard_size=20_000)
    monkeypatch.setattr(writer, "_chunk_hook", None)
    with open(d / STAGING / ".progress.json") as fh:
        return json.load(fh)


def _tamper_header(d, state):
    p = d / STAGING / "model-00001-of-00003.safetensors"
    with open(p, "r+b") as fh:
        fh.seek(10)
        fh.write(b"XXXXXXXX")


def _tamper_chunk(d, state):
    p = d / STAGING / "model-00001-of-00003.safetensors"
    n = int.from_bytes(p.read_bytes()[:8], "little")
    with open(p, "r+b") as fh:
        fh.seek(8 + n + 100)
        fh.write(b"\0" * 64)


def _sidecar(content):
    def tamper(d, state):
        (d / STAGING / ".progress.json").write_text(content(state) if callable(content) else content)
    return tamper


@pytest.mark.parametrize("tamper,fresh,min_rewritten", [
    (_tamper_header, False, 0),
    (_tamper_chunk, False, 1),
    (_sidecar(lambda s: json.dumps({**s, "checksums": ["0123456789abcdef"] * len(s["checksums"])})), False, 15),
    (_sidecar("[1,2]"), True, 0),
    (_sidecar("{"), True, 0),
    (_sidecar(lambda s: json.dumps({**s, "checksums": s["checksums"][:-1]})), True, 0),
    (_sidecar(lambda s: json.dumps({**s, "seed": "2"})), True, 0),
    (_sidecar(lambda s: json.dumps({**s, "checksums": [1] * len(s["checksums"])})), True, 0),
    (_sidecar(lambda s: json.dumps({**s, "version": 1, "chunks_done": 10**9})), True, 0),
], ids=["header-overwritten", "zeroed-bytes-in-a-done-chunk", "all-done-bogus-checksums", "sidecar-a-list",
        "sidecar-truncated", "sidecar-short", "seed-a-string", "checksums-ints", "old-format-1e9-chunks"])
def test_resume_verifies_instead_of_trusting(tmp_path, small_chunks, monkeypatch, tamper, fresh, min_rewritten):
    d = tmp_path / "m"
    state = _interrupted(d, monkeypatch)
    assert sum(c is not None for c in state["checksums"]) >= 2
    tamper(d, state)
    res = write(d, 2, max_shard_size=20_000, resume=True)
    if fresh:
        assert res.resumed_bytes == 0, "a malformed sidecar must mean starting over"
    else:
        assert res.rewritten_chunks >= min_rewritten
    ref = tmp_path / "ref"
    write(ref, 2, max_shard_size=20_000)
    assert ckpt_files(d) == ckpt_files(ref)


def test_resume_after_a_complete_unpublished_run_checks_and_publishes(tmp_path, small_chunks, monkeypatch):
    d = tmp_path / "m"
    monkeypatch.setattr(writer, "publish", None)       # stop right before publishing
    with pytest.raises(TypeError):
        write(d, 2)
    monkeypatch.undo()
    monkeypatch.setattr(writer, "CHUNK_BYTES", 4096)
    monkeypatch.setattr(writer, "CHECKPOINT_BYTES", 8192)
    res = write(d, 2, resume=True)
    assert res.resumed_bytes == res.nbytes and res.rewritten_chunks == 0


# -- disk space ----------------------------------------------------------------------

@pytest.fixture
def tmpfs(tmp_path):
    mounted = []

    def mount(size_bytes):
        m = tmp_path / f"tmpfs{len(mounted)}"
        m.mkdir()
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_bytes}", "tmpfs", str(m)],
                           capture_output=True, text=True)
        if r.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {r.stderr.strip() or r.returncode}")
        mounted.append(m)
        return m
    yield mount
    for m in mounted:
        subprocess.run(["umount", "-l", str(m)], capture_output=True)


def test_disk_space_at_the_threshold_refuses_cleanly_or_completes(tmp_path, refs, tmpfs):
    data = sum(len(v) for v in refs["new"].values())
    outcomes = set()
    for extra in range(0, 160 << 10, 16 << 10):
        m = tmpfs((1 << 20) + extra)
        d = m / "ckpt"
        try:
            write(d, 2, max_shard_size=20_000)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC and "not enough free space" in str(exc)
            assert not d.exists() or os.listdir(d) == [], "a refused run wrote something"
            outcomes.add("refused")
        else:
            assert ckpt_files(d) == refs["new"]
            outcomes.add("complete")
    assert outcomes == {"refused", "complete"}, f"sizes did not straddle the threshold ({data} data bytes)"


def test_disk_filled_by_someone_else_mid_run_keeps_the_old_checkpoint(tmp_path, refs, tmpfs):
    m = tmpfs(4 << 20)
    d = m / "ckpt"
    write(d, 1)
    old = ckpt_files(d)
    filler = m / "filler"
    r = run_child(d, 2, "--shard", 20_000, "--overwrite", "--fill-after", f"3:{filler}")
    assert r.returncode == 1 and "No space left on device" in r.stderr
    assert ckpt_files(d) == old and loader_view(d) == refs["old_view"]
    filler.unlink()
    r = run_child(d, 2, "--shard", 20_000, "--overwrite", "--resume")
    assert r.returncode == 0, r.stderr
    assert ckpt_files(d) == refs["new"]


@pytest.mark.parametrize("name", [".progress.json", ".publish.json", "model.safetensors.index.json",
                                  "weightinit.json", "x.npy", "config.json.tmp"])
def test_spec_files_cannot_take_the_writers_own_names(tmp_path, name):
    from weightinit.checkpoint import parse_spec
    spec = parse_spec(child_spec(1))
    spec.files[name] = b"x"
    with pytest.raises(ValueError, match="plain file name"):
        create_checkpoint(spec, tmp_path / "m", progress=False)
    assert not (tmp_path / "m").exists()
