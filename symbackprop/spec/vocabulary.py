"""The names a spec may use. The network stage implements exactly these (a test keeps them in step)."""

ACTIVATIONS: tuple[str, ...] = ("sigmoid", "tanh", "relu", "identity", "softplus", "softmax")
LOSSES: tuple[str, ...] = (
    "half_squared_error", "squared_error", "mean_squared_error", "binary_cross_entropy", "cross_entropy",
)
REDUCTIONS: tuple[str, ...] = ("sum", "mean")
