"""Named initialization plans: a dict of tensor role -> scheme dict (``to_dict`` form),
for the checkpoint writer and for :func:`init_plan_`."""
from __future__ import annotations

import re

from ._nn import XAVIER_FAN_IN, resolve_scheme

__all__ = ["plan", "PLANS", "role_of", "init_plan_"]


def _rnn():
    """Elman RNN: Wxh and Why Xavier-style Gaussian with variance 1/fan_in (the weights
    scaled by sqrt(1/fan_in)), Whh orthogonal, biases zero."""
    from .. import schemes
    return {
        "Wxh": schemes.from_dict(XAVIER_FAN_IN).to_dict(),
        "Whh": schemes.get("orthogonal").to_dict(),
        "Why": schemes.from_dict(XAVIER_FAN_IN).to_dict(),
        "bh": schemes.get("zeros").to_dict(),
        "by": schemes.get("zeros").to_dict(),
    }


PLANS = {"rnn": _rnn}

# parameter-name patterns (torch nn.RNN/LSTM/GRU names and the Wxh/Whh/Why convention) -> role
_ROLE_PATTERNS = [
    (re.compile(r"(^|\.)(weight_ih(_l\d+)?(_reverse)?|Wxh|W_xh|wxh)$"), "Wxh"),
    (re.compile(r"(^|\.)(weight_hh(_l\d+)?(_reverse)?|Whh|W_hh|whh)$"), "Whh"),
    (re.compile(r"(^|\.)(Why|W_hy|why)$"), "Why"),
    (re.compile(r"(^|\.)(bias_ih(_l\d+)?(_reverse)?|bias_hh(_l\d+)?(_reverse)?|bh|b_h)$"), "bh"),
    (re.compile(r"(^|\.)(by|b_y)$"), "by"),
]


def plan(name="rnn"):
    """A fresh copy of the named plan: dict role -> scheme dict. Names: ``list(PLANS)``."""
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, got {type(name).__name__}")
    if name not in PLANS:
        raise ValueError(f"name must be one of {', '.join(PLANS)}, got {name!r}")
    return PLANS[name]()


def role_of(param_name):
    """The role (Wxh, Whh, Why, bh, by) of a parameter name, or None: e.g.
    ``"rnn.weight_hh_l0"`` -> ``"Whh"``."""
    if not isinstance(param_name, str):
        raise TypeError(f"param_name must be a str, got {type(param_name).__name__}")
    for pat, role in _ROLE_PATTERNS:
        if pat.search(param_name):
            return role
    return None


def init_plan_(plan_, arrays, *, seed, roles=None):
    """Initialize numpy ``arrays`` (dict name -> array) in place by ``plan_`` (dict role ->
    scheme dict); the role of each name comes from ``roles`` (dict name -> role) or
    :func:`role_of`. Each array uses its name as stream. Returns dict name -> role."""
    if not isinstance(plan_, dict) or not isinstance(arrays, dict):
        raise TypeError("plan_ and arrays must be dicts")
    used = {}
    for name, arr in arrays.items():
        role = (roles or {}).get(name) or role_of(name)
        if role is None or role not in plan_:
            raise ValueError(f"no role in the plan for array {name!r} (role {role!r}; plan roles: {', '.join(plan_)})")
        resolve_scheme(plan_[role], f"plan_[{role!r}]").init_(arr, seed=seed, stream=name)
        used[name] = role
    return used
