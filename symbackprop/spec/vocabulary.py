"""The names a spec may use. The network stage implements exactly these (a test keeps them in step)."""

ACTIVATIONS: tuple[str, ...] = ("sigmoid",)
LOSSES: tuple[str, ...] = ("half_squared_error",)
