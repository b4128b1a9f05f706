"""The Dockerfile builds the product as pyproject.toml describes it and starts a command
the product has: python:3.11-slim, the wheel's packages and readme copied, `pip install .`
without the dev extras, a non-root user, `soar` as the entrypoint."""

from __future__ import annotations

import re
import tomllib

import pytest

from soar.settings import load_settings
from tests.conftest import REPO_ROOT
from tests.deploy.manifests import (
    Dockerfile,
    check_command,
    dockerfile,
    setting_holds,
    setting_path,
)

PYPROJECT = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())


def test_every_stage_is_python_3_11_slim() -> None:
    assert dockerfile().base_images() == ["python:3.11-slim", "python:3.11-slim"]


def test_the_entrypoint_is_the_soar_script_and_the_default_command_is_one_of_its() -> None:
    image = dockerfile()
    entrypoint = image.exec_form("ENTRYPOINT")
    assert entrypoint == ["soar"]
    assert PYPROJECT["project"]["scripts"]["soar"] == "soar.cli.main:app"
    check_command(image.exec_form("CMD"))


def test_the_build_copies_what_the_wheel_is_made_of() -> None:
    build = dockerfile().stages[0]
    copied = dockerfile().copied_sources(build)
    packages = set(PYPROJECT["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"])
    assert packages <= copied
    assert {"pyproject.toml", PYPROJECT["project"]["readme"]} <= copied
    for source in copied:
        assert (REPO_ROOT / source).exists(), source


def test_it_installs_the_package_without_the_dev_extras() -> None:
    runs = [args for kind, args in dockerfile().stages[0] if kind == "RUN"]
    installs = [run for run in runs if "pip install" in run]
    assert installs == ["/opt/soar/bin/pip install ."]
    assert "dev" in PYPROJECT["project"]["optional-dependencies"]
    assert not any("[dev]" in run for run in runs)


def test_it_runs_as_the_unprivileged_user_it_creates() -> None:
    image = dockerfile()
    user = image.last("USER")
    assert user is not None
    uid, _, gid = user.partition(":")
    assert uid.isdigit() and int(uid) != 0
    assert gid.isdigit() and int(gid) != 0
    setup = " ".join(args for kind, args in image.final if kind == "RUN")
    assert re.search(rf"useradd .*--uid {uid}\b", setup)
    assert re.search(rf"groupadd .*--gid {gid}\b", setup)
    data_dir = image.env()["SOAR_DATA_DIR"]
    assert f"install -d -o soar -g soar -m 0750 {data_dir}" in setup
    assert image.last("VOLUME") == f'["{data_dir}"]'


def test_the_images_environment_sets_real_settings(clean_env: pytest.MonkeyPatch) -> None:
    env = {name: value for name, value in dockerfile().env().items() if name.startswith("SOAR_")}
    assert set(env) == {"SOAR_DATA_DIR", "SOAR_API_HOST"}
    for name, value in env.items():
        clean_env.setenv(name, value)
    settings = load_settings()
    for name, value in env.items():
        path = setting_path(name)
        assert path is not None, name
        assert setting_holds(settings, path, value), name


def test_continuation_lines_and_stages_are_read_as_docker_reads_them() -> None:
    parsed = Dockerfile.parse(
        'FROM a AS b\nRUN x \\\n    && y\n# note\nFROM c\nENV A=1 \\\n    B="two words"\n'
        'CMD ["run"]\n'
    )
    assert parsed.base_images() == ["a", "c"]
    assert parsed.stages[0][1] == ("RUN", "x && y")
    assert parsed.env() == {"A": "1", "B": "two words"}
    assert parsed.exec_form("CMD") == ["run"]
