"""No secret is committed under deploy/ (or in the Dockerfile): every password and token
is a variable, a placeholder or written at install time by make-secrets.sh, whose files
are random, readable by their owner only, kept when it runs again, and ignored by git.
And the shell scripts are at least valid shell."""

from __future__ import annotations

import re
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT
from tests.deploy.manifests import (
    DEPLOY,
    deploy_copy,
    raw_compose,
    read_env_file,
    run_make_secrets,
)

GENERATED = (".env", "soar.env", "slack-socket.env", "k8s/secrets.env")
SECRET_NAME = r"[A-Za-z0-9_]*(?:TOKEN|SECRET|PASSWORD|PASSWD|PWD|API_KEY)[A-Za-z0-9_]*"
ASSIGNMENT = re.compile(
    rf"(?<![${{A-Za-z0-9_'\"]){SECRET_NAME}[ \t]*[:=][ \t]*(?P<value>\"[^\"]*\"|'[^']*'|[^\s#,]*)",
    re.IGNORECASE,
)
URL_PASSWORD = re.compile(r"://[^:/@\s]+:(?P<value>[^@\s]+)@")
SLACK_TOKEN = re.compile(r"\bx(?:ox[abposr]|app)-[0-9A-Za-z-]{8,}")
LONG_HEX = re.compile(r"\b[0-9a-f]{32,}\b")
NOT_SECRETS = {"true", "false"}


def placeholder(value: str) -> bool:
    """`CHANGE-ME` in it, or an example cut short (`xoxb-...`)."""
    return "CHANGE-ME" in value or value.endswith("...")


def leaks(text: str) -> list[str]:
    """What in `text` looks like a committed secret: a secret-named setting, or a URL's
    password, with a literal value (not a variable, not a placeholder); a Slack token; a
    long hex string such as make-secrets.sh writes."""
    found: list[str] = []
    for pattern in (ASSIGNMENT, URL_PASSWORD):
        for match in pattern.finditer(text):
            value = match.group("value").strip("\"'")
            if value and not (placeholder(value) or value.startswith("$") or value in NOT_SECRETS):
                found.append(match.group(0))
    found += [match.group(0) for match in SLACK_TOKEN.finditer(text)]
    found += [match.group(0) for match in LONG_HEX.finditer(text)]
    return found


def committed_files() -> list[Path]:
    """What `git add deploy Dockerfile` would take: tracked files and untracked ones
    not ignored."""
    listing = subprocess.run(
        [
            "git",
            "ls-files",
            "--cached",
            "--others",
            "--exclude-standard",
            "--",
            "deploy",
            "Dockerfile",
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return [
        REPO_ROOT / line for line in listing.stdout.splitlines() if (REPO_ROOT / line).is_file()
    ]


def test_the_scanner_finds_the_leaks_it_is_for() -> None:
    assert leaks("SOAR_API_TOKEN=hunter2") == ["SOAR_API_TOKEN=hunter2"]
    assert leaks("  POSTGRES_PASSWORD: 'letmein'") == ["POSTGRES_PASSWORD: 'letmein'"]
    assert leaks("url: postgresql+asyncpg://soar:s3cret@db:5432/soar") == ["://soar:s3cret@"]
    assert leaks("SLACK_BOT_TOKEN is xoxb-1234567890-abcdefgh") == ["xoxb-1234567890-abcdefgh"]
    assert leaks("seed " + "ab12" * 16) == ["ab12" * 16]
    for harmless in (
        "SOAR_API_TOKEN=$(random)",
        "POSTGRES_PWD: ${TEMPORAL_DB_PASSWORD:?run deploy/make-secrets.sh first}",
        ': "${SQL_PASSWORD:?SQL_PASSWORD is not set}"',
        "#SLACK_BOT_TOKEN=xoxb-...",
        "postgresql+asyncpg://soar:${STORE_DB_PASSWORD:?x}@postgres:5432/soar",
        "postgresql+asyncpg://soar:CHANGE-ME@postgres.example.internal:5432/soar",
        '-v temporal_password="$TEMPORAL_DB_PASSWORD"',
        "SOAR_WEBHOOK_TOKEN=",
        "automountServiceAccountToken: false",
        "secretRef:\n  name: soar-secrets",
    ):
        assert leaks(harmless) == [], harmless


def test_no_committed_file_holds_a_secret() -> None:
    files = committed_files()
    assert DEPLOY / "compose.yaml" in files
    assert REPO_ROOT / "Dockerfile" in files
    for path in files:
        assert leaks(path.read_text()) == [], path.relative_to(REPO_ROOT)


@pytest.mark.parametrize("generated", GENERATED)
def test_the_files_make_secrets_writes_are_ignored_by_git(generated: str) -> None:
    path = f"deploy/{generated}"
    ignored = subprocess.run(
        ["git", "check-ignore", "--no-index", "--quiet", path], cwd=REPO_ROOT
    ).returncode
    assert ignored == 0, f"{path} would be committed"


def test_make_secrets_writes_random_values_for_the_owner_only(tmp_path: Path) -> None:
    first = deploy_copy(tmp_path / "one")
    second = deploy_copy(tmp_path / "two")
    for directory in (first, second):
        assert run_make_secrets(directory, tmp_path / "log") == 0, (tmp_path / "log").read_text()
    values: list[str] = []
    for generated in GENERATED:
        for directory in (first, second):
            path = directory / generated
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, generated
            for key, value in read_env_file(path).items():
                if key != "SOAR_DATABASE_URL":
                    assert re.fullmatch(r"[0-9a-f]{64}", value), f"{generated}: {key}"
                    values.append(value)
    assert len(values) == len(set(values)), "every value is drawn afresh"


def test_make_secrets_keeps_what_it_wrote_before(tmp_path: Path) -> None:
    directory = deploy_copy(tmp_path / "deploy")
    log = tmp_path / "log"
    assert run_make_secrets(directory, log) == 0, log.read_text()
    before = {generated: (directory / generated).read_text() for generated in GENERATED}
    (directory / "soar.env").write_text("SOAR_API_TOKEN=chosen-by-hand\n")
    assert run_make_secrets(directory, log) == 0, log.read_text()
    assert (directory / "soar.env").read_text() == "SOAR_API_TOKEN=chosen-by-hand\n"
    for generated in set(GENERATED) - {"soar.env"}:
        assert (directory / generated).read_text() == before[generated]
    assert log.read_text().count("kept") == len(GENERATED)


def test_every_variable_compose_requires_is_in_the_env_file_make_secrets_writes(
    deploy_dir: Path,
) -> None:
    text = (DEPLOY / "compose.yaml").read_text()
    required = set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*):\?", text))
    assert required == set(read_env_file(deploy_dir / ".env"))
    assert raw_compose()["services"]


SCRIPTS = sorted(DEPLOY.rglob("*.sh"))


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: str(path.relative_to(DEPLOY)))
def test_every_script_is_valid_posix_shell_and_executable(script: Path) -> None:
    assert script.read_text().startswith("#!/bin/sh\n")
    assert script.stat().st_mode & stat.S_IXUSR
    for shell in ("sh", "bash", "dash"):
        if shutil.which(shell):
            checked = subprocess.run([shell, "-n", str(script)], capture_output=True, text=True)
            assert checked.returncode == 0, f"{shell}: {checked.stderr}"
