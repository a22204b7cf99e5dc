"""weightinit.torch from several threads at once (issue 24): init_module_ and Recorder
give every thread what a single-threaded call gives, and leave torch.nn.init as found."""
import sys
import threading
import warnings

import pytest

torch = pytest.importorskip("torch")
nn = torch.nn

import weightinit.torch as init  # noqa: E402
from weightinit import schemes  # noqa: E402
from weightinit.torch import Recorder, RecordError  # noqa: E402
from weightinit.torch.recorder import _NN_INIT  # noqa: E402


def _model():
    return nn.Sequential(nn.Linear(8, 8), nn.LSTM(8, 8), nn.Conv2d(3, 4, 3), nn.Embedding(50, 16, padding_idx=0))


def _state(m):
    return {k: v.detach().clone() for k, v in m.state_dict().items()}


@pytest.fixture
def switch_often():
    """Hand the GIL over every microsecond, so that threads interleave inside each
    other's recording (where, with the default 5 ms, a race shows only now and then)."""
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(old)


@pytest.fixture
def nn_init_functions():
    """torch.nn.init's functions before the test; the test checks they are back after."""
    return {name: getattr(nn.init, name) for name in _NN_INIT}


def _run_threads(n, target):
    errors, barrier = [], threading.Barrier(n)

    def run(i):
        try:
            barrier.wait()
            target(i)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


def _assert_nn_init_restored(before):
    changed = [n for n, f in before.items() if getattr(nn.init, n) is not f]
    assert not changed, f"torch.nn.init functions left patched: {changed}"


def test_init_module_in_threads_equals_a_single_threaded_call(switch_often, nn_init_functions):
    """The issue's scenario: each thread initializes its own model with the same seed,
    repeatedly; every result equals the single-threaded one bit for bit."""
    ref = _state(init.init_module_(_model(), seed=7))
    threads, reps = 8, 3
    results = [[] for _ in range(threads)]

    def work(i):
        for _ in range(reps):
            results[i].append(_state(init.init_module_(_model(), seed=7)))
    _run_threads(threads, work)
    differ = sorted({k for rs in results for r in rs for k in ref if not torch.equal(r[k], ref[k])})
    assert sum(map(len, results)) == threads * reps
    assert not differ, f"tensors that differ from the single-threaded call: {differ}"
    assert ref["3.weight"][0].eq(0).all() and ref["3.weight"][1:].ne(0).all()   # padding row 0 only
    _assert_nn_init_restored(nn_init_functions)


class Bernoulli(nn.Module):
    """Init code the recorder cannot express: init_module_ runs it under torch's global
    CPU generator, seeded from (seed, module name)."""

    def __init__(self):
        super().__init__()
        self.mask = nn.Parameter(torch.empty(64, 64))

    def reset_parameters(self):
        with torch.no_grad():
            self.mask.bernoulli_(0.5)
            self.mask.mul_(torch.rand(64, 64))


def test_init_module_fallbacks_in_threads_do_not_share_the_global_generator(switch_often):
    def build():
        return nn.Sequential(Bernoulli(), nn.Linear(8, 8), Bernoulli())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")      # the fallback's warning
        ref = _state(init.init_module_(build(), seed=3))
        # built here: a constructor in a thread would draw from torch's global generator
        # while another thread's fallback runs (torch's RNG, not weightinit's, is shared)
        models = [[build() for _ in range(3)] for _ in range(8)]
        results = []
        _run_threads(8, lambda i: [results.append(_state(init.init_module_(m, seed=3))) for m in models[i]])
    assert len(results) == 24
    differ = sorted({k for r in results for k in ref if not torch.equal(r[k], ref[k])})
    assert not differ, f"tensors that differ from the single-threaded call: {differ}"


def test_init_module_of_one_shared_module_from_threads(switch_often, nn_init_functions):
    """Threads initializing the same module object: calls on one module take turns, so
    none sees another's meta twins, and the module ends holding its own tensors."""
    ref = _state(init.init_module_(_model(), seed=7))
    shared = _model()
    params = {n: p for n, p in shared.named_parameters()}
    with warnings.catch_warnings(record=True) as caught:    # one catcher, for every thread
        warnings.simplefilter("always")
        _run_threads(8, lambda i: [init.init_module_(shared, seed=7) for _ in range(4)])
    assert not [str(w.message) for w in caught]                         # none saw meta twins
    assert {n: p for n, p in shared.named_parameters()} == params      # the same Parameter objects
    state = _state(shared)
    assert not any(t.is_meta for t in state.values())
    assert all(torch.equal(state[k], ref[k]) for k in ref)
    _assert_nn_init_restored(nn_init_functions)


def test_recorders_in_threads_each_record_their_own_thread(nn_init_functions):
    """Two Recorders open at the same time in two threads (the second entered after the
    first, the first left first): each records only its own thread's torch.nn.init
    call, and torch.nn.init is as before once both are closed."""
    entered = [threading.Event(), threading.Event()]
    written = [threading.Event(), threading.Event()]
    left0 = threading.Event()
    got = {}

    def work(i):
        if i == 1:
            entered[0].wait()
        w = torch.empty(16, 4, device="meta")
        rec = Recorder()
        with rec:
            entered[i].set()
            entered[1 - i].wait()
            nn.init.normal_(w, std=0.5 + i)            # both recorders are open here
            written[i].set()
            written[1 - i].wait()
            if i == 1:
                left0.wait()                           # leave in the order they entered
        if i == 0:
            left0.set()
        try:
            got[i] = rec.scheme(w, "w").to_dict()
        except RecordError as exc:
            got[i] = str(exc)
    _run_threads(2, work)
    assert got == {0: schemes.Normal(0.0, 0.5).to_dict(), 1: schemes.Normal(0.0, 1.5).to_dict()}
    _assert_nn_init_restored(nn_init_functions)


def test_a_thread_without_a_recorder_is_not_recorded(nn_init_functions):
    """While one thread records, another thread's torch.nn.init calls run torch's own
    code (on its real tensors and on its meta tensors), and are not recorded."""
    recording, done = threading.Event(), threading.Event()
    out = {}

    def work(i):
        if i == 0:
            with Recorder() as out["rec"]:
                recording.set()
                done.wait()
        else:
            recording.wait()
            try:
                real = torch.empty(8, 4)
                nn.init.constant_(real, 3.0)
                meta = nn.init.normal_(torch.empty(8, 4, device="meta"))
                out["real"], out["meta"] = real, meta
            finally:
                done.set()
    _run_threads(2, work)
    assert torch.equal(out["real"], torch.full((8, 4), 3.0)) and out["meta"].is_meta
    with pytest.raises(RecordError, match="never writes"):
        out["rec"].scheme(out["meta"], "meta")
    _assert_nn_init_restored(nn_init_functions)


def test_nested_recorders_in_one_thread_still_record_innermost_first(nn_init_functions):
    outer_w, inner_w = torch.empty(4, 4, device="meta"), torch.empty(4, 4, device="meta")
    with Recorder() as outer:
        nn.init.zeros_(outer_w)
        with Recorder() as inner:
            nn.init.ones_(inner_w)
    assert inner.scheme(inner_w, "w").to_dict() == schemes.Constant(1.0).to_dict()
    assert outer.scheme(outer_w, "w").to_dict() == schemes.Constant(0.0).to_dict()
    with pytest.raises(RecordError):
        outer.scheme(inner_w, "w")
    _assert_nn_init_restored(nn_init_functions)


def test_an_exception_inside_a_recorder_restores_torch_nn_init(nn_init_functions):
    with pytest.raises(KeyError, match="inside"), Recorder():
        raise KeyError("inside")
    _assert_nn_init_restored(nn_init_functions)
    nn.init.normal_(torch.empty(3, device="meta"))            # torch's own again: no recorder open
