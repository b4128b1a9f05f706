"""Helpers for engineers testing their own playbooks and integrations."""
