"""The Slack app manifest names what the bot handles, so installing it is one paste."""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.ids import SLASH_COMMAND, CallbackId

MANIFEST = Path(__file__).resolve().parents[2] / "slack-app-manifest.yaml"


def test_manifest_matches_the_bot() -> None:
    manifest = yaml.safe_load(MANIFEST.read_text())
    features, settings = manifest["features"], manifest["settings"]
    [command] = features["slash_commands"]
    assert command["command"] == SLASH_COMMAND and command["should_escape"] is True
    [shortcut] = features["shortcuts"]
    assert (shortcut["type"], shortcut["callback_id"]) == ("message", CallbackId.ADD_TO_CASE)
    assert features["app_home"]["home_tab_enabled"] is True
    assert settings["interactivity"]["is_enabled"] is True
    assert settings["event_subscriptions"]["bot_events"] == ["app_home_opened"]
    urls = {
        command["url"],
        settings["interactivity"]["request_url"],
        settings["event_subscriptions"]["request_url"],
    }
    assert urls == {"https://soar.example.com/slack/events"}
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == {
        "chat:write",
        "commands",
        "files:write",
        "usergroups:read",
    }
