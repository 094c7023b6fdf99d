"""safeslot: appointments for public offices, with a disclosure gate and a public transparency log."""

__version__ = "0.1.0"
