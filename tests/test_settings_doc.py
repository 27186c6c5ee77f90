"""Settings, .env.example and the README's Configuration name the same settings, from one list."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from bot.settings import SETTINGS_HELP, SettingHelp, Settings
from bot.settings_doc import ENV_EXAMPLE, README, env_example, readme_with_table

FIX = "add it to SETTINGS_HELP in bot/settings.py, then run `make settings-docs`"
# a setting that is valid only with another one set
_NEEDS = {"SHARD_IDS": {"SHARD_COUNT": "4"}}


def test_every_settings_field_is_documented_once() -> None:
    fields = {f.name for f in dataclasses.fields(Settings)}
    documented = [s.field for s in SETTINGS_HELP]
    assert len(documented) == len(set(documented)), "a field is documented twice"
    assert fields - set(documented) == set(), f"undocumented Settings fields: {FIX}"
    assert set(documented) - fields == set(), "SETTINGS_HELP names a field Settings lacks"
    names = [s.name for s in SETTINGS_HELP]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("setting", SETTINGS_HELP, ids=lambda s: s.name)
def test_each_variable_sets_its_field(setting: SettingHelp) -> None:
    base = _NEEDS.get(setting.name, {})
    before = Settings.from_env(base)
    after = Settings.from_env({**base, setting.name: setting.example})
    assert getattr(after, setting.field) != getattr(before, setting.field), (
        f"{setting.name}={setting.example} does not change Settings.{setting.field}"
    )


def test_env_example_is_generated() -> None:
    assert ENV_EXAMPLE.read_text(encoding="utf-8") == env_example(), (
        f".env.example differs from bot/settings.py: {FIX}"
    )


def test_readme_configuration_is_generated() -> None:
    readme = README.read_text(encoding="utf-8")
    assert readme_with_table(readme) == readme, (
        f"README.md's Configuration differs from bot/settings.py: {FIX}"
    )


def test_env_example_names_exactly_the_settings() -> None:
    names = {
        line.split("=", 1)[0]
        for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    }
    assert names == {s.name for s in SETTINGS_HELP}


def test_tilde_is_the_home_folder() -> None:
    settings = Settings.from_env({"STORIES_DIR": "~/stories", "DATA_DIR": "~/data"})
    assert settings.stories_dir == Path.home() / "stories"
    assert settings.db_path == Path.home() / "data" / "stories.db"
