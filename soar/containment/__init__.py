"""Containment: vendor-neutral, OpenC2-shaped commands and the record of each action."""
