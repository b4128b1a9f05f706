"""Reports people read: case summaries (escalation, tactical, executive) and digests."""
