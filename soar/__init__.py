"""SOAR core: models, settings, ingestion, the case store, the CLI and the runtime."""

__version__ = "0.1.0"
