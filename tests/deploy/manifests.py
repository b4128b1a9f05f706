"""Reading deploy/ the way its tools do: the Compose file with its variables substituted
and its env files, the Kubernetes manifests and kustomize env files, the Dockerfile's
instructions; and checking what they name against the product itself (its settings, its
commands, its scripts)."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import AliasChoices, BaseModel, SecretStr
from typer.core import TyperGroup
from typer.main import get_command

from soar.cli.main import app
from soar.settings import Settings
from tests.conftest import REPO_ROOT

DEPLOY = REPO_ROOT / "deploy"
COMPOSE_FILE = DEPLOY / "compose.yaml"
K8S = DEPLOY / "k8s"
DOCKERFILE = REPO_ROOT / "Dockerfile"
MAKE_SECRETS = DEPLOY / "make-secrets.sh"

PRODUCT_IMAGE = "soar"
"""The image built from the repository (compose `image: soar:<tag>`, k8s `image: soar`)."""

WORKLOAD_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob"}

_VARIABLE = re.compile(
    r"\$\$|\$\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}"
    r"|\$(?P<bare>[A-Za-z_][A-Za-z0-9_]*)"
)


class MissingVariable(LookupError):
    """A `${NAME:?message}` (or a plain `${NAME}`) whose variable is not set."""


def interpolate(text: str, variables: Mapping[str, str]) -> str:
    """Compose's variable substitution: `$$`, `${X}`, `${X:-default}`, `${X-default}`,
    `${X:?error}`, `${X?error}` and `$X`."""

    def value_of(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group("braced") or match.group("bare")
        op, arg = match.group("op"), match.group("arg") or ""
        value = variables.get(name)
        if op == ":-":
            return value or arg
        if op == "-":
            return arg if value is None else value
        if op in (":?", "?") and (value is None or (op == ":?" and not value)):
            raise MissingVariable(f"{name}: {arg}")
        if value is None:
            raise MissingVariable(name)
        return value

    return _VARIABLE.sub(value_of, text)


def substituted(node: Any, variables: Mapping[str, str]) -> Any:
    """Every string of a loaded YAML document with its variables substituted."""
    if isinstance(node, str):
        return interpolate(node, variables)
    if isinstance(node, list):
        return [substituted(item, variables) for item in node]
    if isinstance(node, dict):
        return {key: substituted(value, variables) for key, value in node.items()}
    return node


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines (an env file of Compose, or of a kustomize generator); blank lines
    and `#` comments skipped."""
    pairs: dict[str, str] = {}
    for line in path.read_text().splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        key, separator, value = stripped.partition("=")
        assert separator, f"{path.name}: not KEY=VALUE: {line!r}"
        pairs[key.strip()] = value.strip()
    return pairs


def raw_compose() -> dict[str, Any]:
    """deploy/compose.yaml as YAML (anchors and merge keys resolved), not substituted."""
    document = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(document, dict)
    return document


@dataclass
class Compose:
    """The Compose project as `docker compose` would see it from `directory`: variables
    from its `.env`, each service's env files read."""

    directory: Path
    document: dict[str, Any]

    @classmethod
    def load(cls, directory: Path) -> Compose:
        dotenv = directory / ".env"
        variables = read_env_file(dotenv) if dotenv.exists() else {}
        return cls(directory, substituted(raw_compose(), variables))

    @property
    def services(self) -> dict[str, dict[str, Any]]:
        services: dict[str, dict[str, Any]] = self.document["services"]
        return services

    def product_services(self) -> dict[str, dict[str, Any]]:
        """The services running the image built from the repository."""
        return {
            name: service
            for name, service in self.services.items()
            if str(service.get("image", "")).split(":")[0] == PRODUCT_IMAGE
        }

    def env_files(self, service: dict[str, Any]) -> list[Path]:
        entries = service.get("env_file", [])
        entries = [entries] if isinstance(entries, str) else entries
        return [
            self.directory / (entry["path"] if isinstance(entry, dict) else entry)
            for entry in entries
        ]

    def environment(self, name: str) -> dict[str, str]:
        """What the service's container is given: its env files, then `environment`
        (which wins), on top of the image's own ENV for the product's image."""
        service = self.services[name]
        env = dockerfile().env() if name in self.product_services() else {}
        for path in self.env_files(service):
            env |= read_env_file(path)
        declared = service.get("environment", {})
        if isinstance(declared, list):
            declared = dict(item.split("=", 1) for item in declared)
        env |= {key: str(value) for key, value in declared.items()}
        return env

    def bind_mounts(self, name: str) -> dict[str, Path]:
        """Container path → host path of each bind mount (`./x:/y[:ro]`) of a service."""
        mounts: dict[str, Path] = {}
        for volume in self.services[name].get("volumes", []):
            source, target, *_ = volume.split(":")
            if source.startswith((".", "/")):
                mounts[target] = (self.directory / source).resolve()
        return mounts

    def host_path(self, name: str, container_path: str) -> Path:
        """The host file a container path of the service is bind-mounted from."""
        for target, source in self.bind_mounts(name).items():
            if container_path == target:
                return source
            if container_path.startswith(target.rstrip("/") + "/"):
                return source / container_path[len(target.rstrip("/")) + 1 :]
        raise AssertionError(f"{name}: {container_path} is not on a bind mount")


@dataclass
class Dockerfile:
    """The Dockerfile's instructions, stage by stage (continuation lines joined)."""

    stages: list[list[tuple[str, str]]] = field(default_factory=list)

    @classmethod
    def parse(cls, text: str) -> Dockerfile:
        logical: list[str] = []
        pending = ""
        for line in text.splitlines():
            stripped = line.strip()
            if not pending and (not stripped or stripped.startswith("#")):
                continue
            if stripped.startswith("#"):
                continue
            if stripped.endswith("\\"):
                pending += stripped[:-1].rstrip() + " "
                continue
            logical.append(pending + stripped)
            pending = ""
        parsed = cls()
        for instruction in logical:
            keyword, _, arguments = instruction.partition(" ")
            if keyword.upper() == "FROM":
                parsed.stages.append([])
            parsed.stages[-1].append((keyword.upper(), arguments.strip()))
        return parsed

    @property
    def final(self) -> list[tuple[str, str]]:
        return self.stages[-1]

    def base_images(self) -> list[str]:
        return [stage[0][1].split()[0] for stage in self.stages]

    def last(self, keyword: str, stage: list[tuple[str, str]] | None = None) -> str | None:
        found = [args for kind, args in (stage or self.final) if kind == keyword]
        return found[-1] if found else None

    def exec_form(self, keyword: str) -> list[str]:
        """ENTRYPOINT or CMD of the final stage, which must be in exec (JSON) form."""
        arguments = self.last(keyword)
        assert arguments is not None, f"the Dockerfile has no {keyword}"
        value = json.loads(arguments)
        assert isinstance(value, list) and all(isinstance(item, str) for item in value)
        return value

    def env(self) -> dict[str, str]:
        """The final stage's ENV, as the container sees it."""
        env: dict[str, str] = {}
        for kind, arguments in self.final:
            if kind == "ENV":
                for pair in shlex.split(arguments):
                    key, _, value = pair.partition("=")
                    env[key] = value
        return env

    def copied_sources(self, stage: list[tuple[str, str]]) -> set[str]:
        """What the stage's COPY instructions take from the build context."""
        sources: set[str] = set()
        for kind, arguments in stage:
            words = arguments.split()
            if kind == "COPY" and not any(word.startswith("--from") for word in words):
                sources.update(word.rstrip("/") for word in words[:-1] if not word.startswith("--"))
        return sources


def dockerfile() -> Dockerfile:
    return Dockerfile.parse(DOCKERFILE.read_text())


def k8s_documents(directory: Path = K8S) -> Iterator[tuple[Path, dict[str, Any]]]:
    """Every YAML document of the manifests directory, with the file it is in."""
    for path in sorted(directory.glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            if document is not None:
                yield path, document


def k8s_objects(directory: Path = K8S) -> list[dict[str, Any]]:
    """The Kubernetes objects (not the kustomization)."""
    return [
        document
        for _, document in k8s_documents(directory)
        if document.get("kind") != "Kustomization"
    ]


def kustomization(directory: Path = K8S) -> dict[str, Any]:
    document = yaml.safe_load((directory / "kustomization.yaml").read_text())
    assert isinstance(document, dict)
    return document


def pod_spec(workload: dict[str, Any]) -> dict[str, Any]:
    spec = workload["spec"]
    if workload["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    pod: dict[str, Any] = spec["template"]["spec"]
    return pod


def workloads(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [item for item in objects if item.get("kind") in WORKLOAD_KINDS]


def render_kustomization(directory: Path, output: Path) -> list[dict[str, Any]] | None:
    """`kubectl kustomize directory`, its output in `output`; None without kubectl."""
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        return None
    with output.open("wb") as out:
        result = subprocess.run(
            [kubectl, "kustomize", str(directory)], stdout=out, stderr=subprocess.STDOUT
        )
    assert result.returncode == 0, output.read_text()
    return [item for item in yaml.safe_load_all(output.read_text()) if item is not None]


def run_make_secrets(directory: Path, log: Path) -> int:
    """make-secrets.sh of a copy of deploy/ at `directory`, its output in `log`."""
    with log.open("ab") as out:
        return subprocess.run(
            ["sh", str(directory / MAKE_SECRETS.name)],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        ).returncode


def deploy_copy(destination: Path) -> Path:
    """A copy of deploy/ without anything make-secrets.sh writes, to run it against."""
    ignored = shutil.ignore_patterns(".env", "soar.env", "slack-socket.env", "secrets.env")
    return Path(shutil.copytree(DEPLOY, destination, ignore=ignored))


# The product's side -------------------------------------------------------------------


def product_commands() -> TyperGroup:
    """The `soar` command line as its parser sees it."""
    group = get_command(app)
    assert isinstance(group, TyperGroup)
    return group


def check_command(arguments: list[str]) -> None:
    """`soar <arguments>` names a command and options it takes (parsed, not run)."""
    name, *rest = arguments
    group = product_commands()
    assert name in group.commands, f"`soar {name}` is not a command: {sorted(group.commands)}"
    command = group.commands[name]
    with command.make_context(name, list(rest)):
        pass


def setting_path(name: str) -> tuple[str, ...] | None:
    """The settings field an environment variable sets, by the rules of
    :class:`soar.settings.Settings` (the `SOAR_` prefix, `__` between nested keys, and the
    fields' own aliases such as `SLACK_BOT_TOKEN`); None when it sets none."""
    for field_name, info in Settings.model_fields.items():
        alias = info.validation_alias
        if isinstance(alias, AliasChoices) and name in alias.choices:
            return (field_name,)
    if not name.startswith("SOAR_"):
        return None
    model: type[BaseModel] | None = Settings
    path: list[str] = []
    for part in name.removeprefix("SOAR_").lower().split("__"):
        if model is None or part not in model.model_fields:
            return None
        info = model.model_fields[part]
        if isinstance(info.validation_alias, AliasChoices):
            return None
        path.append(part)
        annotation = info.annotation
        model = (
            annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel)
            else None
        )
    return tuple(path)


def setting_holds(settings: Settings, path: tuple[str, ...], text: str) -> bool:
    """Whether the setting at `path` is what the environment value `text` says."""
    value: Any = settings
    for part in path:
        value = getattr(value, part)
    if isinstance(value, SecretStr):
        return value.get_secret_value() == text
    if isinstance(value, Path):
        return value == Path(text)
    return str(value) == text
