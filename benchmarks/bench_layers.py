"""Benchmark 8: layer specs trained by the numpy fast path against PyTorch float64 on the same numbers (issue #14).

Three models, each given as a layer spec of seeded short decimals:

- `convnet`: a 28x28 input through conv2d (3x3, 4 filters)-relu-maxpool(2)-flatten-dense(10)-sigmoid, half
  squared error;
- `rnn`: an Elman RNN over 64 steps (8 inputs, 16 hidden units, 4 outputs);
- `attention`: causal self-attention over 128 tokens (16 features, 2 heads of 8).

For each, side by side in this process:

- *first call*: `sbp.open_problem(spec).train(1, fast=True)` on the spec's dict (the spec read and checked, the
  fast layers made, one step, the loss after it) against PyTorch building the same model from the same numbers
  (tensors from the spec's lists) and taking one `torch.optim.SGD` step; SymPy's caches are emptied before each run;
- *steady state*: k steps / k, `problem.train(k, fast=True)` on a problem that has trained before, against k SGD
  steps of the model already built;
- *Adam step*: the same with the spec's `optimizer = "adam"` against k `torch.optim.Adam` steps (both at their
  defaults), the loss after k steps from the spec's values compared first.
- *where the first call goes*: the same first call in its stages (`open_problem`; the fast layers, `fast_network`;
  `train` and the loss), and what a report adds when it first reads the parameters by name (`layer_parameters`:
  a typed name and a SymPy Symbol per parameter, made only then).

Times are CPU time (the machine is shared), PyTorch on one thread as numpy's small products are. Both must end
at the same loss (relative difference at most 1e-9). Ratios are symbackprop / PyTorch; the issue's
target is within 3x. Run: `python -m benchmarks.bench_layers [--quick]`.
"""

from __future__ import annotations

import gc
import random
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import (  # noqa: E402
    arguments, cold_sympy, heading, interleaved, median, ratio, seconds, table, torch_or_none,
)

AGREEMENT = 1e-9
RATE = "0.01"


def _numbers(rng: random.Random, *shape: int, scale: float = 1.0) -> list:
    """Nested lists of short decimals (exact in the spec, the same floats for PyTorch)."""
    if len(shape) == 1:
        return [round(rng.uniform(-scale, scale), 3) for _ in range(shape[0])]
    return [_numbers(rng, *shape[1:], scale=scale) for _ in range(shape[0])]


def convnet_spec(side: int = 28, filters: int = 4, seed: int = 14) -> dict:
    """A side x side image through conv(3x3)-relu-maxpool(2)-flatten-dense(10)-sigmoid."""
    rng = random.Random(seed)
    pooled = (side - 2) // 2
    return {"name": f"convnet {side}x{side}", "inputs": _numbers(rng, side, side), "learning_rate": RATE,
            "loss": "half_squared_error", "targets": [round(rng.uniform(0.1, 0.9), 2) for _ in range(10)],
            "layers": [{"kind": "conv2d", "kernel": _numbers(rng, filters, 1, 3, 3, scale=0.5),
                        "bias": _numbers(rng, filters)},
                       {"kind": "relu"}, {"kind": "maxpool2d", "size": 2}, {"kind": "flatten"},
                       {"kind": "dense", "weights": _numbers(rng, 10, filters * pooled * pooled, scale=0.05),
                        "bias": _numbers(rng, 10)}, {"kind": "sigmoid"}]}


def rnn_spec(steps: int = 64, inputs: int = 8, hidden: int = 16, outputs: int = 4, seed: int = 14) -> dict:
    rng = random.Random(seed)
    return {"name": f"rnn {steps} steps", "inputs": _numbers(rng, steps, inputs), "learning_rate": RATE,
            "loss": "half_squared_error", "targets": _numbers(rng, steps, outputs),
            "layers": [{"kind": "rnn", "W": _numbers(rng, hidden, inputs, scale=0.3),
                        "U": _numbers(rng, hidden, hidden, scale=0.2), "V": _numbers(rng, outputs, hidden, scale=0.3),
                        "b": _numbers(rng, hidden, scale=0.1), "c": _numbers(rng, outputs, scale=0.1)}]}


def attention_spec(tokens: int = 128, features: int = 16, heads: int = 2, seed: int = 14) -> dict:
    rng = random.Random(seed)
    return {"name": f"attention {tokens} tokens", "inputs": _numbers(rng, tokens, features), "learning_rate": RATE,
            "loss": "half_squared_error", "targets": _numbers(rng, tokens, features),
            "layers": [{"kind": "attention", "WQ": _numbers(rng, features, features, scale=0.3),
                        "WK": _numbers(rng, features, features, scale=0.3),
                        "WV": _numbers(rng, features, features, scale=0.3), "heads": heads, "causal": True}]}


# --- PyTorch: the same models from the same numbers ------------------------------------------------

def torch_convnet(torch, spec: dict):
    conv, dense = spec["layers"][0], spec["layers"][4]
    f = torch.nn.functional
    x = torch.tensor(spec["inputs"], dtype=torch.float64)[None, None]
    parameters = [torch.tensor(v, dtype=torch.float64, requires_grad=True)
                  for v in (conv["kernel"], conv["bias"], dense["weights"], dense["bias"])]

    def outputs():
        kernel, bias, weights, dense_bias = parameters
        pooled = f.max_pool2d(torch.relu(f.conv2d(x, kernel, bias)), 2)
        return torch.sigmoid(f.linear(pooled.flatten(), weights, dense_bias))
    return parameters, outputs


def torch_rnn(torch, spec: dict):
    layer = spec["layers"][0]
    x = torch.tensor(spec["inputs"], dtype=torch.float64)
    hidden = len(layer["U"])
    rnn = torch.nn.RNN(len(layer["W"][0]), hidden, dtype=torch.float64)
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(torch.tensor(layer["W"], dtype=torch.float64))
        rnn.weight_hh_l0.copy_(torch.tensor(layer["U"], dtype=torch.float64))
        rnn.bias_ih_l0.copy_(torch.tensor(layer["b"], dtype=torch.float64))
        rnn.bias_hh_l0.zero_()
    rnn.bias_hh_l0.requires_grad_(False)
    readout = [torch.tensor(layer[key], dtype=torch.float64, requires_grad=True) for key in ("V", "c")]

    def outputs():
        states, _ = rnn(x)
        return torch.nn.functional.linear(states, *readout)
    return [*(p for p in rnn.parameters() if p.requires_grad), *readout], outputs


def torch_attention(torch, spec: dict):
    layer = spec["layers"][0]
    x = torch.tensor(spec["inputs"], dtype=torch.float64)
    heads = layer["heads"]
    parameters = [torch.tensor(layer[key], dtype=torch.float64, requires_grad=True) for key in ("WQ", "WK", "WV")]

    def outputs():
        q, k, v = ((x @ w).reshape(len(x), heads, -1).transpose(0, 1) for w in parameters)
        attended = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=layer["causal"])
        return attended.transpose(0, 1).reshape(len(x), -1)
    return parameters, outputs


def torch_steps(torch, build, spec: dict, steps: int, model=None, adam: bool = False) -> tuple[float, object]:
    """`steps` SGD steps, or Adam's (its defaults, the spec's too) with `adam` (the model built from the spec unless
    given); the loss after them, and the model."""
    parameters, outputs = model or build(torch, spec)
    targets = torch.tensor(spec["targets"], dtype=torch.float64)
    optimizer = (torch.optim.Adam if adam else torch.optim.SGD)(parameters, lr=float(spec["learning_rate"]))
    for _ in range(steps):
        optimizer.zero_grad()
        loss = 0.5 * ((targets - outputs()) ** 2).sum()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        return float(0.5 * ((targets - outputs()) ** 2).sum()), (parameters, outputs)


MODELS = {"convnet": (convnet_spec, torch_convnet), "rnn": (rnn_spec, torch_rnn), "attention": (attention_spec, torch_attention)}


def adam_steps(sbp, torch, repeats: int, steps: int) -> None:
    """Adam's steady step (k steps / k, the spec naming `optimizer = "adam"`, PyTorch's defaults) on each model
    against `torch.optim.Adam`: a table and a ratio line per model. From the spec's values, both must end at the
    same loss after k steps."""
    rows = []
    for name, (make, build) in MODELS.items():
        spec = {**make(), "optimizer": "adam"}
        problem = sbp.open_problem(spec)
        steady = {"symbackprop": lambda: float(problem.train(steps, fast=True).error)}
        if torch is not None:
            ours, theirs = steady["symbackprop"](), torch_steps(torch, build, spec, steps, adam=True)[0]
            agree = abs(ours - theirs) <= AGREEMENT * abs(theirs)
            print(f"agreement: {name}: loss after {steps} Adam steps, symbackprop {ours:.15g}, torch {theirs:.15g}"
                  + ("" if agree else "  (DIFFERENT)"), flush=True)
            if not agree:
                raise SystemExit(f"{name}: symbackprop and torch disagree after {steps} Adam steps")
            model = build(torch, spec)
            steady["torch"] = lambda: torch_steps(torch, build, spec, steps, model, adam=True)[0]
        warm, _ = interleaved(steady, repeats, clock=time.process_time)
        rows.append((name, {who: median(runs) / steps for who, runs in warm.items()}))
    table(["model", f"one Adam step of {steps}: symbackprop", "torch"],
          [[name, seconds(t["symbackprop"]), seconds(t.get("torch"))] for name, t in rows])
    for name, t in rows:
        ratio(f"{name}: Adam step, symbackprop / torch", t["symbackprop"], t.get("torch"), "target 3x")


STAGES = ("open_problem", "fast layers", "step and loss")


def first_call_stages(spec: dict, repeats: int) -> dict[str, float]:
    """Median CPU time of each stage of a cold first call (SymPy's caches emptied before each run), and, in runs of
    their own (naming thousands of parameters slows the next run down), of the names a report adds."""
    import symbackprop as sbp

    runs: dict[str, list[float]] = {stage: [] for stage in (*STAGES, "names")}
    for _ in range(repeats):
        cold_sympy()
        marks = [time.process_time()]
        problem = sbp.open_problem(spec)
        marks.append(time.process_time())
        problem.fast_network
        marks.append(time.process_time())
        float(problem.train(1, fast=True).error)
        marks.append(time.process_time())
        for stage, start, end in zip(STAGES, marks, marks[1:]):
            runs[stage].append(end - start)
    for _ in range(repeats):
        cold_sympy()
        training = sbp.open_problem(spec).train(1, fast=True)
        start = time.process_time()
        len(training.parameters)
        runs["names"].append(time.process_time() - start)
        del training
        gc.collect()
    return {stage: median(times) for stage, times in runs.items()}


def main(argv: list[str] | None = None) -> None:
    args = arguments(__doc__.splitlines()[0], argv=argv)
    heading("benchmark 8: layer specs, numpy fast path against PyTorch float64", args.quick)
    import symbackprop as sbp

    torch = torch_or_none()
    if torch is None:
        print("torch not installed", flush=True)
    else:
        torch.set_num_threads(1)  # as numpy here: CPU time then measures work, not threads waiting
        print(f"torch {torch.__version__}, {torch.get_num_threads()} thread; CPU time of each run", flush=True)
    repeats, steps = (3, 10) if args.quick else (9, 100)
    rows = []
    for name, (make, build) in MODELS.items():
        spec = make()
        trained = sbp.open_problem(spec)
        trained.train(1, fast=True)
        first = {"symbackprop": lambda: float(sbp.open_problem(spec).train(1, fast=True).error)}
        steady = {"symbackprop": lambda: float(trained.train(steps, fast=True).error)}
        if torch is not None:
            model = build(torch, spec)
            first["torch"] = lambda: torch_steps(torch, build, spec, 1)[0]
            steady["torch"] = lambda: torch_steps(torch, build, spec, steps, model)[0]
        cold, cold_results = interleaved(first, repeats, before=cold_sympy, clock=time.process_time)
        warm, _ = interleaved(steady, repeats, clock=time.process_time)
        if torch is not None:
            agree = abs(cold_results["symbackprop"] - cold_results["torch"]) <= AGREEMENT * abs(cold_results["torch"])
            print(f"agreement: {name}: loss after one step, symbackprop {cold_results['symbackprop']:.15g}, "
                  f"torch {cold_results['torch']:.15g}" + ("" if agree else "  (DIFFERENT)"), flush=True)
            if not agree:
                raise SystemExit(f"{name}: symbackprop and torch disagree after one step")
        times = {kind: {who: median(runs) / (1 if kind == "first" else steps) for who, runs in measured.items()}
                 for kind, measured in (("first", cold), ("step", warm))}
        rows.append((name, times, first_call_stages(spec, repeats)))
    table(["model", "first call: symbackprop", "torch", f"one step of {steps}: symbackprop", "torch"],
          [[name, seconds(t["first"]["symbackprop"]), seconds(t["first"].get("torch")),
            seconds(t["step"]["symbackprop"]), seconds(t["step"].get("torch"))] for name, t, _ in rows])
    print("where symbackprop's first call goes (CPU time, median of each stage), and what a report adds:", flush=True)
    table(["model", *STAGES, "their sum", "names, when a report asks"],
          [[name, *(seconds(stages[stage]) for stage in STAGES), seconds(sum(stages[stage] for stage in STAGES)),
            seconds(stages["names"])] for name, _, stages in rows])
    for name, t, _ in rows:
        ratio(f"{name}: first call, symbackprop / torch", t["first"]["symbackprop"], t["first"].get("torch"),
              "target 3x")
        ratio(f"{name}: steady step, symbackprop / torch", t["step"]["symbackprop"], t["step"].get("torch"),
              "target 3x")
    adam_steps(sbp, torch, repeats, steps)


if __name__ == "__main__":
    main()
