"""symbackprop: derive every gradient of a feed-forward network by the chain rule, show it, and check it.

The pipeline, one sub-package per stage: spec -> network -> derivation -> numbers -> checks -> printers.
"""

__version__ = "0.1.0"
