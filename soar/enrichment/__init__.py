"""Enrichment and triage: what is known about an alert's observables, and how much it matters."""
