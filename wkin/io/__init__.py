"""Input/output: Wannier90 readers and result writers."""
