"""`GET /api/cases/{id}/report`: the case summary from the real app over the real store,
as Markdown, HTML or Slack blocks; 404 for an unknown case, 422 for a format or kind not
offered, one clear 500 for a broken operator template."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from soar.api.deps import Services
from soar.reports.slack_blocks import MESSAGE_BLOCKS
from soar.settings import Settings
from tests.conftest import API_TOKEN, bearer, make_settings
from tests.reports.seed import ATTACKER, LAPTOP, inventory_file, seed_case

OPERATOR = bearer(API_TOKEN)
TEMPLATES = "templates"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """The app's settings with the seeded inventory and an (empty) templates directory."""
    (tmp_path / TEMPLATES).mkdir()
    return make_settings(
        tmp_path,
        inventory_file=inventory_file(tmp_path),
        reports={"templates_dir": tmp_path / TEMPLATES},
    )


async def test_the_report_comes_in_each_format(api: httpx.AsyncClient, services: Services) -> None:
    seeded = await seed_case(services.store)
    path = f"/api/cases/{seeded.case_id}/report"

    markdown = await api.get(path, headers=OPERATOR)
    html = await api.get(path, params={"format": "html"}, headers=OPERATOR)
    slack = await api.get(path, params={"format": "slack", "kind": "tactical"}, headers=OPERATOR)
    executive = await api.get(path, params={"kind": "executive"}, headers=OPERATOR)

    assert markdown.status_code == 200, markdown.text
    assert markdown.headers["content-type"] == "text/markdown; charset=utf-8"
    assert markdown.text.startswith(f"# Escalation summary: {seeded.title}\n")
    assert f"| {LAPTOP} | host | critical | j.doe |" in markdown.text
    assert html.headers["content-type"] == "text/html; charset=utf-8"
    assert html.text.startswith("<!DOCTYPE html>") and seeded.ticket_url in html.text
    body = slack.json()
    assert slack.headers["content-type"] == "application/json"
    assert body["text"] == f"Tactical report of case {seeded.case_id}: {seeded.title}"
    assert 0 < len(body["blocks"]) <= MESSAGE_BLOCKS
    assert body["blocks"][0]["text"]["text"] == f"Tactical report: {seeded.title}"
    assert ATTACKER in str(body["blocks"])
    assert executive.text.startswith(f"# Executive report: {seeded.title}\n")


async def test_the_case_itself_is_still_served(api: httpx.AsyncClient, services: Services) -> None:
    seeded = await seed_case(services.store)
    detail = await api.get(f"/api/cases/{seeded.case_id}", headers=OPERATOR)
    assert detail.status_code == 200 and detail.json()["id"] == seeded.case_id


async def test_refusals_say_what_is_wrong(api: httpx.AsyncClient, services: Services) -> None:
    seeded = await seed_case(services.store)
    path = f"/api/cases/{seeded.case_id}/report"

    unknown = await api.get("/api/cases/case-nope/report", headers=OPERATOR)
    bad_format = await api.get(path, params={"format": "pdf"}, headers=OPERATOR)
    bad_kind = await api.get(path, params={"kind": "weekly"}, headers=OPERATOR)
    anonymous = await api.get(path)

    assert unknown.status_code == 404
    assert unknown.json() == {"error": "not_found", "message": "no case with id 'case-nope'"}
    assert bad_format.status_code == 422
    assert bad_format.json()["message"] == "query.format: Input should be 'md', 'html' or 'slack'"
    assert bad_kind.status_code == 422
    assert bad_kind.json()["message"] == (
        "query.kind: Input should be 'escalation', 'tactical' or 'executive'"
    )
    assert anonymous.status_code == 401


async def test_a_broken_operator_template_is_one_clear_error(
    api: httpx.AsyncClient, services: Services, settings: Settings
) -> None:
    seeded = await seed_case(services.store)
    templates = settings.reports.templates_dir
    assert templates is not None
    (templates / "case_executive.html.j2").write_text("{{ report.nothing }}", encoding="utf-8")

    broken = await api.get(
        f"/api/cases/{seeded.case_id}/report",
        params={"format": "html", "kind": "executive"},
        headers=OPERATOR,
    )

    assert broken.status_code == 500
    assert broken.json()["error"] == "report_configuration"
    assert broken.json()["message"].startswith(
        f"report template case_executive.html.j2 from reports.templates_dir ({templates}): "
    )
