"""Stage 1: a spec file (JSON or TOML) read into a validated `Spec` with exact numbers."""

from symbackprop.spec.model import LayerSpec, Sample, Spec
from symbackprop.spec.load import example_names, example_text, load_any_spec, load_spec, spec_from_dict

__all__ = ["LayerSpec", "Sample", "Spec", "example_names", "example_text", "load_any_spec", "load_spec",
           "spec_from_dict"]
