"""Timing scripts for the core solvers: performance is measured here, never asserted in tests."""
