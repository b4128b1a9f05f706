"""Approvals: a risky step waits here for the people allowed to decide on it."""
