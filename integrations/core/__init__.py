"""The typed way to write an integration: its options model, one shared HTTP client with
retries and a rate limiter, redaction of its secrets, and the descriptor that registers
it under the `soar.integrations` entry-point group.

A vendor lives in `integrations/<vendor>/`: `options.py` (its options model),
`client.py` (the vendor's API over :class:`VendorHttp`), `actuator.py` (and later
`enricher.py`), and an `INTEGRATION` descriptor in its `__init__.py`.
"""

from integrations.core.http import VendorHttp
from integrations.core.integration import Integration
from integrations.core.options import HttpOptions, IntegrationOptions
from integrations.core.redaction import Redactor

__all__ = ["HttpOptions", "Integration", "IntegrationOptions", "Redactor", "VendorHttp"]
