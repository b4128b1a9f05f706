"""Guardrails: the policy that keeps containment away from what must never be touched."""
