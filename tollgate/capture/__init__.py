"""Capture: every way a Snapshot is made; this package imports nothing, so each is loaded only when used.

* host.py runs a Pulumi program offline, in a child process (child.py, monitor.py, answers.py, computed.py,
  sdk_types.py, applies.py, expand/: only the Pulumi SDK, PyYAML and the standard library there);
* pulumi_json.py reads `pulumi preview --json` and `pulumi stack export` files;
* event_log.py reads a real CrossGuard preview's engine event log (its resources and policy findings);
* wire.py (Pulumi's secret and unknown sentinels, property Structs) and options.py (resource options as an
  analyzer is told them) are shared by all of them and by the stages after.
"""
