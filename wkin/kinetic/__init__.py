"""Kinetic machinery on energy shells: disorder correlators, the collision operator, and the shared Fermi shells.

:mod:`~wkin.kinetic.disorder` (white-noise correlators, low-rank features) →
:mod:`~wkin.kinetic.collision` (Born kernel on a shell, exact Boltzmann solve; knows no observable) →
:mod:`~wkin.kinetic.shells` (states on each shell, observables by name, mean free paths; built once per run).
"""
