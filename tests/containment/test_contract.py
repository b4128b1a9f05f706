"""The containment contract names what the playbook SDK names too: the service starts a
requested playbook by the workflow type the SDK registers it under."""

from __future__ import annotations

import pytest

from soar.containment.contract import playbook_type
from soar.containment.service import KINDS
from workflows.sdk import discover_playbooks
from workflows.sdk.models import playbook_workflow_type


@pytest.mark.parametrize("playbook", sorted(kind.playbook for kind in KINDS.values()))
def test_a_requested_playbook_is_started_by_the_type_the_sdk_registers(playbook: str) -> None:
    assert playbook_type(playbook) == playbook_workflow_type(playbook)
    [spec] = [spec for spec in discover_playbooks() if spec.name == playbook]
    assert spec.workflow_type == playbook_type(playbook)
