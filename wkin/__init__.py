"""wkin — disorder-aware kinetic transport from Wannier functions."""

__version__ = "0.1.0"

from .model import TightBindingModel  # noqa: E402,F401
