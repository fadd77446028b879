"""NEST optimizees for l2l."""
