"""`weightinit diagnose`: propagate a batch through a deep MLP initialized with a scheme,
print a per-layer table and a verdict (vanishing / exploding / healthy)."""
from __future__ import annotations


MAX_DEPTH = 10_000   # layers one Python loop propagates in minutes, not days


def _param(text):
    from weightinit._scheme_text import parse_value
    if "=" not in text:
        raise ValueError(f"--param must be KEY=VALUE, got {text!r}")
    k, v = text.split("=", 1)
    return k.strip(), parse_value(v)   # same values as the NAME(key=value) notation


def register(sub) -> None:
    from weightinit.diagnostics import ACTIVATIONS
    p = sub.add_parser("diagnose", help="check how a scheme propagates signals through a deep MLP",
                       description=__doc__)
    p.add_argument("--activation", default="relu", choices=ACTIVATIONS,
                   help="nonlinearity after every layer (default relu)")
    p.add_argument("--scheme", default="he_normal", metavar="SCHEME",
                   help="weight scheme: a name (he_normal, xavier_normal, normal, ...) or the notation "
                        "`weightinit inspect` prints, e.g. 'normal(std=0.01)' (default he_normal)")
    p.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                   help="scheme parameter, repeatable (e.g. --scheme normal --param std=0.01)")
    p.add_argument("--depth", type=int, default=20, help="number of layers (default 20)")
    p.add_argument("--width", type=int, default=256, help="units per layer (default 256)")
    p.add_argument("--input-dim", type=int, default=None, help="input width (default: --width)")
    p.add_argument("--batch", type=int, default=1000, help="random N(0,1) inputs (default 1000)")
    p.add_argument("--bias", default="zeros", metavar="SCHEME",
                   help="bias scheme, a name or NAME(key=value, ...) (default zeros)")
    p.add_argument("--seed", type=int, default=0,
                   help="seed of the weights and of the random inputs (default 0); same seed, same table")
    p.add_argument("--plot", default=None, metavar="PNG", help="write std/gradient-per-layer curves to this PNG")
    p.set_defaults(func=run)


def run(args) -> int:
    from weightinit.diagnostics import propagate
    from weightinit import schemes
    for name in ("depth", "width", "batch"):
        if getattr(args, name) < 1:
            raise ValueError(f"--{name} must be >= 1, got {getattr(args, name)}")
    if args.depth > MAX_DEPTH:
        raise ValueError(f"--depth must be at most {MAX_DEPTH}, got {args.depth}")
    if args.input_dim is not None and args.input_dim < 1:
        raise ValueError(f"--input-dim must be >= 1, got {args.input_dim}")
    from weightinit._memory import check_fits
    d_in = args.input_dim or args.width
    # float64 weights of every layer, and each layer's activations and gradients for the batch
    need = 8 * (d_in * args.width + (args.depth - 1) * args.width ** 2 + 4 * args.batch * (d_in + args.depth * args.width))
    check_fits(need, f"--depth {args.depth} --width {args.width} --batch {args.batch}")
    params = dict(_param(t) for t in args.param)
    scheme = schemes.get(args.scheme, **params)
    widths = [args.input_dim or args.width] + [args.width] * args.depth
    rep = propagate(widths, args.activation, scheme, bias=args.bias, batch=args.batch, seed=args.seed)
    from weightinit.diagnostics._nn import scheme_label
    label = args.scheme + (f" ({', '.join(args.param)})" if args.param else "")
    print(f"{args.activation} MLP, {args.depth} layers x {args.width}, scheme {label} = {scheme_label(scheme.to_dict())}, "
          f"{args.batch} N(0,1) inputs, seed {args.seed}")
    print(rep.table())
    v = rep.verdict()
    print(v)
    if v.status != "healthy":
        from weightinit.diagnostics.recommend import recommend
        rec = recommend(args.activation, "linear")
        print(f"recommended for {args.activation}: {rec.name} ({rec.reason})")
    if args.plot:
        from weightinit.diagnostics.plots import plot_report
        print(f"plot: {plot_report(args.plot, rep, label=label)}")
    return 0
