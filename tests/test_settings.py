from __future__ import annotations

import os
from datetime import time
from pathlib import Path

import pytest

from botschaft.domain.errors import ConfigError
from botschaft.settings import load_settings


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("BOTSCHAFT_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def test_defaults_give_an_embedded_database_under_botschaft_data() -> None:
    settings = load_settings()
    assert settings.effective_database_url == "sqlite:///botschaft-data/botschaft.db"
    assert settings.default_region == "DE"
    assert settings.policy.policy().marketing_cap == 3


def test_botschaft_toml_is_read_and_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "botschaft.toml").write_text(
        'port = 9001\ndefault_region = "at"\n[policy]\nquiet_hours_start = "21:30"\n'
        '[keywords]\nopt_out = ["HALT"]\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("BOTSCHAFT_PORT", "9002")
    settings = load_settings()
    assert settings.port == 9002
    assert settings.default_region == "AT"
    assert settings.policy.quiet_hours_start == time(21, 30)
    assert settings.keywords.keyword_set().match("halt!") is not None


def test_a_wrong_value_in_the_toml_file_names_the_setting(tmp_path: Path) -> None:
    (tmp_path / "botschaft.toml").write_text('[policy]\ncap_period_days = 0\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="BOTSCHAFT_POLICY__CAP_PERIOD_DAYS"):
        load_settings()


def test_an_unknown_time_zone_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOTSCHAFT_DEFAULT_TIME_ZONE", "Europe/Atlantis")
    with pytest.raises(ConfigError, match="'Europe/Atlantis' is not an IANA time zone"):
        load_settings()


def test_an_enabled_channel_needs_its_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOTSCHAFT_WHATSAPP__ENABLED", "true")
    monkeypatch.setenv("BOTSCHAFT_WHATSAPP__ACCESS_TOKEN", "token")
    with pytest.raises(ConfigError, match="BOTSCHAFT_WHATSAPP__APP_SECRET must be set"):
        load_settings()


def test_a_holiday_state_the_calendar_does_not_know_names_the_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BOTSCHAFT_BUSINESS__HOLIDAY_STATE", "Bavaria")
    with pytest.raises(ConfigError, match="BOTSCHAFT_BUSINESS__HOLIDAY_STATE: 'Bavaria'"):
        load_settings()


def test_a_holiday_country_the_calendar_does_not_know_names_the_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BOTSCHAFT_BUSINESS__HOLIDAY_COUNTRY", "XX")
    with pytest.raises(ConfigError, match="BOTSCHAFT_BUSINESS__HOLIDAY_COUNTRY: 'XX'"):
        load_settings()


def test_a_lower_case_state_code_is_read_as_the_code(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOTSCHAFT_BUSINESS__HOLIDAY_STATE", "by")
    assert load_settings().business.holiday_state == "BY"
