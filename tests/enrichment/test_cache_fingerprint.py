"""The cache's fingerprint of a source's options is the same in every process: the API
process that answers `soar enrich` and the worker that triages share one cache."""

from __future__ import annotations

import os
import subprocess
import sys

from pydantic import SecretStr

from integrations.shodan.options import ShodanOptions
from soar.enrichment.cache import fingerprint
from tests.conftest import REPO_ROOT

PRINT_FINGERPRINT = """
from pydantic import SecretStr
from integrations.shodan.options import ShodanOptions
from soar.enrichment.cache import fingerprint
print(fingerprint(ShodanOptions(api_key=SecretStr("k")).fingerprint_fields()))
"""


def fingerprint_with_hash_seed(seed: int) -> str:
    env = os.environ | {"PYTHONHASHSEED": str(seed), "PYTHONPATH": str(REPO_ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", PRINT_FINGERPRINT],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return done.stdout.strip()


def test_options_with_sets_fingerprint_the_same_under_any_hash_seed() -> None:
    here = fingerprint(ShodanOptions(api_key=SecretStr("k")).fingerprint_fields())
    assert {fingerprint_with_hash_seed(seed) for seed in (1, 2, 3, 4)} == {here}


def test_a_changed_tag_set_or_key_changes_the_fingerprint() -> None:
    base = ShodanOptions(api_key=SecretStr("k"))
    fewer = base.model_copy(update={"malicious_tags": frozenset({"c2"})})
    other_key = ShodanOptions(api_key=SecretStr("other"))
    prints = {fingerprint(o.fingerprint_fields()) for o in (base, fewer, other_key)}
    assert len(prints) == 3
