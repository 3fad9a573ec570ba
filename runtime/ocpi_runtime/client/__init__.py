"""Client runtime, copied into every generated client package next to its ``models.py``."""
