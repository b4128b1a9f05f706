"""Escalation that climbs by itself: policies as data, the chain, its delivery."""
