"""weightinit for PyTorch: ``import weightinit.torch as init``.

- :mod:`~weightinit.torch.functional`: the ``torch.nn.init`` drop-in (same names,
  signatures and defaults; weightinit's samplers).
- :mod:`~weightinit.torch.modules`: :func:`init_module_`, which replays each module's
  own init code on weightinit streams.
- :mod:`~weightinit.torch.recorder`: records what init code does, on the meta device.
- :mod:`~weightinit.torch.datadriven`: LSUV and Fixup.
"""
from .functional import *  # noqa: F403
from .functional import __all__ as _functional_names
from .datadriven import fixup_, lsuv_
from .modules import init_module_
from .recorder import Recorder, RecordError

__all__ = [*_functional_names, "init_module_", "lsuv_", "fixup_", "Recorder", "RecordError"]
