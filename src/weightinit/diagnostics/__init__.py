"""Verification of an initialization before training: signal propagation through deep
MLPs and RNNs (numpy), a verdict, plots, scheme recommendations, and data-driven /
architecture-aware schemes (LSUV, Fixup) plus named recipes.

Plots (``weightinit.diagnostics.plots``) need matplotlib (``pip install weightinit[plot]``);
everything else needs numpy only.
"""
from ._nn import ACTIVATIONS, XAVIER_FAN_IN
from ._propagate import (
    DEAD_LIMIT, EXPLODING_RATIO, SATURATION_LIMIT, VANISHING_RATIO, LayerStats, PropagationReport, RNNReport,
    Verdict, propagate, propagate_rnn, verdict,
)
from .fixup import FixupReport, fixup, fixup_scale
from .lsuv import LSUVReport, lsuv, lsuv_mlp
from .recipes import init_plan_, plan, role_of
from .recommend import Recommendation, recommend

__all__ = [
    "propagate", "propagate_rnn", "verdict", "PropagationReport", "RNNReport", "LayerStats", "Verdict",
    "VANISHING_RATIO", "EXPLODING_RATIO", "SATURATION_LIMIT", "DEAD_LIMIT", "ACTIVATIONS", "XAVIER_FAN_IN",
    "lsuv", "lsuv_mlp", "LSUVReport", "fixup", "fixup_scale", "FixupReport",
    "plan", "role_of", "init_plan_", "recommend", "Recommendation",
]
