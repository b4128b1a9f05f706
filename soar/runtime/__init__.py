"""Wires and runs the parts: embedded Temporal, worker, API and bot."""
