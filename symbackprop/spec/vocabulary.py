"""The names a spec may use. The network stage implements exactly these (a test keeps them in step)."""

ACTIVATIONS: tuple[str, ...] = ("sigmoid", "tanh", "relu", "identity", "softplus", "softmax")
LOSSES: tuple[str, ...] = (
    "half_squared_error", "squared_error", "mean_squared_error", "binary_cross_entropy", "cross_entropy", "huber",
)
REDUCTIONS: tuple[str, ...] = ("sum", "mean")
OPTIMIZERS: dict[str, dict[str, str]] = {
    "sgd": {},
    "momentum": {"momentum": "0.9"},
    "nesterov": {"momentum": "0.9"},
    "rmsprop": {"alpha": "0.99", "epsilon": "1e-8"},
    "adam": {"beta1": "0.9", "beta2": "0.999", "epsilon": "1e-8"},
    "adamw": {"beta1": "0.9", "beta2": "0.999", "epsilon": "1e-8", "weight_decay": "0.01"},
}
"""Each optimizer a spec may name, with its settings and their defaults (PyTorch's)."""
PENALTIES: tuple[str, ...] = ("l1", "l2")
"""The weight penalties a spec's regularization may add to the loss."""
