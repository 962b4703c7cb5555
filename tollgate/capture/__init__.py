"""Capture: run a Pulumi program offline and record what it would create (see host.py, child.py)."""
