"""Response functions, one module per observable family."""
