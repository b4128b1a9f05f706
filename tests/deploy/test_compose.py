"""deploy/compose.yaml against the product: the services it promises, commands the `soar`
CLI has, environment variables that are settings of the product (each one read into the
setting its name says), the names and passwords the services must agree on, and the
restart policies, health checks and start-up order of a deployment that runs by itself."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from bot.settings import slack_settings
from soar import search_attributes
from soar.runtime.integrations import check_integrations
from soar.runtime.metrics import METRICS_ADDRESS_VARIABLE
from soar.runtime.search_attribute_setup import CLI_TYPES
from soar.settings import config_path, load_settings
from tests.deploy.manifests import (
    Compose,
    MissingVariable,
    check_command,
    raw_compose,
    setting_holds,
    setting_path,
    substituted,
)
from workflows.sdk.discovery import check_playbook_options, discover_playbooks

PRODUCT = {"worker", "api", "bot"}
ONE_SHOT = {"temporal-schema", "temporal-namespace"}
DIRECTLY_READ = {"SOAR_CONFIG", METRICS_ADDRESS_VARIABLE}
"""Variables the product reads itself rather than through Settings: the settings file's
path (soar.settings.config_path) and the worker's metrics endpoint (soar.runtime.metrics)."""


def test_the_file_has_every_part_of_the_deployment(compose: Compose) -> None:
    assert set(compose.services) == {
        "postgres",
        "temporal-schema",
        "temporal",
        "temporal-namespace",
        "temporal-ui",
        *PRODUCT,
    }
    assert set(compose.product_services()) == PRODUCT
    assert compose.services["bot"]["profiles"] == ["slack-socket"]
    assert all(
        "profiles" not in compose.services[name] for name in compose.services if name != "bot"
    )
    assert compose.services["temporal"]["image"].startswith("temporalio/server:")
    assert compose.services["temporal"]["environment"]["DB"] == "postgres12"
    assert compose.services["temporal-ui"]["image"].startswith("temporalio/ui:")


def test_without_the_secret_files_compose_stops_naming_what_to_run() -> None:
    with pytest.raises(MissingVariable, match=r"make-secrets\.sh"):
        substituted(raw_compose(), {})


@pytest.mark.parametrize("service", sorted(PRODUCT))
def test_each_product_service_runs_a_command_of_the_soar_cli(
    compose: Compose, service: str
) -> None:
    command = compose.services[service]["command"]
    check_command(command)


def test_a_command_the_cli_lacks_is_caught() -> None:
    with pytest.raises(AssertionError, match="not a command"):
        check_command(["scheduler"])
    with pytest.raises(Exception, match="--sockets"):
        check_command(["bot", "--sockets"])


@pytest.mark.parametrize("service", sorted(PRODUCT))
def test_every_variable_given_to_the_product_sets_the_setting_its_name_says(
    compose: Compose, service: str, clean_env: pytest.MonkeyPatch
) -> None:
    env = compose.environment(service)
    env["SOAR_CONFIG"] = str(compose.host_path(service, env["SOAR_CONFIG"]))
    for name, value in env.items():
        clean_env.setenv(name, value)
    settings = load_settings()
    for name, value in env.items():
        if not name.startswith(("SOAR_", "SLACK_")):
            continue
        if name in DIRECTLY_READ:
            continue
        path = setting_path(name)
        assert path is not None, f"{service}: {name} is not a setting of the product"
        assert setting_holds(settings, path, value), f"{service}: {name} did not set {path}"
    assert config_path() == Path(env["SOAR_CONFIG"])
    assert config_path().is_file()
    slack_settings(settings)
    check_playbook_options(discover_playbooks(), settings.playbooks)
    check_integrations(settings)


def test_a_misspelt_variable_is_caught() -> None:
    assert setting_path("SOAR_TEMPORAL__ADDRESS") == ("temporal", "address")
    assert setting_path("SLACK_BOT_TOKEN") == ("slack_bot_token",)
    assert setting_path("SOAR_TEMPORAL_ADDRESS") is None
    assert setting_path("SOAR_DATABASE") is None
    assert setting_path("SOAR_TEMPORAL__ADRESS") is None


def test_only_the_bot_gets_the_socket_mode_token(compose: Compose) -> None:
    """With SLACK_APP_TOKEN the API would open a Socket Mode connection of its own."""
    for name in PRODUCT:
        files = {path.name for path in compose.env_files(compose.services[name])}
        assert "soar.env" in files
        assert ("slack-socket.env" in files) == (name == "bot"), name
        assert "SLACK_APP_TOKEN" not in compose.services[name].get("environment", {})


def test_the_services_agree_on_names_and_passwords(compose: Compose) -> None:
    postgres = compose.environment("postgres")
    schema = compose.environment("temporal-schema")
    server = compose.environment("temporal")
    namespace_job = compose.environment("temporal-namespace")
    ui = compose.environment("temporal-ui")

    assert server["POSTGRES_SEEDS"] == schema["SQL_HOST"] == "postgres"
    assert server["POSTGRES_USER"] == schema["SQL_USER"] == postgres["TEMPORAL_DB_USER"]
    assert server["POSTGRES_PWD"] == schema["SQL_PASSWORD"] == postgres["TEMPORAL_DB_PASSWORD"]
    assert server["DBNAME"] == schema["TEMPORAL_DB_NAME"] == postgres["TEMPORAL_DB_NAME"]
    assert (
        server["VISIBILITY_DBNAME"]
        == schema["TEMPORAL_VISIBILITY_DB_NAME"]
        == postgres["TEMPORAL_VISIBILITY_DB_NAME"]
    )
    assert postgres["TEMPORAL_DB_PASSWORD"] != postgres["STORE_DB_PASSWORD"]
    assert postgres["POSTGRES_PASSWORD"] not in (
        postgres["TEMPORAL_DB_PASSWORD"],
        postgres["STORE_DB_PASSWORD"],
    )

    for name in PRODUCT:
        product = compose.environment(name)
        store = make_url(product["SOAR_DATABASE_URL"])
        assert store.drivername == "postgresql+asyncpg"
        assert store.host in compose.services
        assert (store.username, store.password, store.database) == (
            postgres["STORE_DB_USER"],
            postgres["STORE_DB_PASSWORD"],
            postgres["STORE_DB_NAME"],
        )
        assert product["SOAR_TEMPORAL__ADDRESS"] == namespace_job["TEMPORAL_ADDRESS"]
        assert product["SOAR_TEMPORAL__ADDRESS"].split(":")[0] in compose.services
        assert product["SOAR_TEMPORAL__NAMESPACE"] == namespace_job["NAMESPACE"]
    assert ui["TEMPORAL_ADDRESS"] == namespace_job["TEMPORAL_ADDRESS"]
    assert ui["TEMPORAL_DEFAULT_NAMESPACE"] == namespace_job["NAMESPACE"]


def test_the_namespace_job_registers_the_products_search_attributes(compose: Compose) -> None:
    listed = compose.environment("temporal-namespace")["SEARCH_ATTRIBUTES"].split()
    assert sorted(listed) == sorted(
        f"{key.name}={CLI_TYPES[key.indexed_value_type]}" for key in search_attributes.ALL
    )


def test_start_up_waits_for_what_each_part_needs(compose: Compose) -> None:
    def needs(name: str) -> dict[str, str]:
        return {
            other: condition["condition"]
            for other, condition in compose.services[name].get("depends_on", {}).items()
        }

    assert needs("temporal-schema") == {"postgres": "service_healthy"}
    assert needs("temporal") == {
        "postgres": "service_healthy",
        "temporal-schema": "service_completed_successfully",
    }
    assert needs("temporal-namespace") == {"temporal": "service_started"}
    assert needs("temporal-ui") == {"temporal-namespace": "service_completed_successfully"}
    for name in PRODUCT:
        assert needs(name) == {
            "postgres": "service_healthy",
            "temporal-namespace": "service_completed_successfully",
        }
    assert "healthcheck" in compose.services["postgres"]


def test_long_running_services_restart_and_one_shot_jobs_do_not(compose: Compose) -> None:
    for name, service in compose.services.items():
        expected = "no" if name in ONE_SHOT else "unless-stopped"
        assert service.get("restart") == expected, name


@pytest.mark.parametrize(("service", "checks"), [("worker", "/metrics"), ("api", "/readyz")])
def test_the_worker_and_the_api_have_health_checks(
    compose: Compose, service: str, checks: str
) -> None:
    """What the checks find is shown by test_compose_smoke, which runs them."""
    test = compose.services[service]["healthcheck"]["test"]
    assert test[:3] == ["CMD", "python", "-c"]
    assert checks in test[3]


def test_workers_scale_and_only_the_api_publishes_a_port(compose: Compose) -> None:
    for name, service in compose.services.items():
        assert "container_name" not in service, name
    worker = compose.services["worker"]
    assert "ports" not in worker
    assert "deploy" not in worker or "replicas" not in worker["deploy"]
    assert compose.services["api"]["ports"] == ["8080:8080"]


def test_temporal_and_its_ui_listen_on_the_loopback_only(compose: Compose) -> None:
    assert compose.services["temporal"]["ports"] == ["127.0.0.1:7233:7233"]
    assert compose.services["temporal-ui"]["ports"] == ["127.0.0.1:8233:8080"]
    assert "ports" not in compose.services["postgres"]


def test_product_containers_write_only_to_their_volume_and_tmp(compose: Compose) -> None:
    declared = set(compose.document["volumes"])
    for name in PRODUCT:
        service = compose.services[name]
        data_dir = compose.environment(name)["SOAR_DATA_DIR"]
        assert service["read_only"] is True
        assert service["tmpfs"] == ["/tmp"]
        assert service["cap_drop"] == ["ALL"]
        named = {
            target: source
            for source, target, *_ in (volume.split(":") for volume in service["volumes"])
            if not source.startswith((".", "/"))
        }
        assert set(named) == {data_dir}, name
        assert named[data_dir] in declared
    sources = [
        volume.split(":")[0]
        for name in PRODUCT
        for volume in compose.services[name]["volumes"]
        if not volume.startswith(".")
    ]
    assert len(set(sources)) == len(PRODUCT), "each part keeps its own data directory"


def test_every_mounted_file_and_script_exists(compose: Compose) -> None:
    for name in compose.services:
        for source in compose.bind_mounts(name).values():
            assert source.exists(), f"{name}: {source}"
    for name in ONE_SHOT:
        shell, script = compose.services[name]["entrypoint"]
        assert shell == "/bin/sh"
        assert compose.host_path(name, script).is_file()
    init = compose.host_path("postgres", "/docker-entrypoint-initdb.d/10-init-databases.sh")
    assert init.name == "init-databases.sh"
    dynamic = compose.environment("temporal")["DYNAMIC_CONFIG_FILE_PATH"]
    assert compose.host_path("temporal", f"/etc/temporal/{dynamic}").is_file()
