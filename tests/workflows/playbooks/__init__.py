"""Tests of the built-in playbooks, their saved histories, the fixtures and the CLI."""
