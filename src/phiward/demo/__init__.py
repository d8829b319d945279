"""Synthetic sample data generators: every value is invented, none is real PHI."""
