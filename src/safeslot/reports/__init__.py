"""Transparency reports computed from the transparency log alone (see README.md)."""
