"""Infrastructure settings: typed, documented, read from BOTSCHAFT_* variables and botschaft.toml.

Every field's description is the line the docs show. Settings reach code as a parameter
(``create_app(settings)``); nothing imports a global instance.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import time, timedelta
from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from botschaft.domain.business_hours import InvalidBusinessHours, check_holiday_region, zone
from botschaft.domain.errors import ConfigError
from botschaft.domain.gate import OutboundPolicy
from botschaft.domain.keywords import (
    DEFAULT_HELP,
    DEFAULT_OPT_IN,
    DEFAULT_OPT_OUT,
    KeywordSet,
)
from botschaft.domain.phone import check_region

ENV_PREFIX = "BOTSCHAFT_"
TOML_FILE = "botschaft.toml"


class ChannelSection(BaseModel):
    """Secrets a channel needs once it is switched on; checked by ``require_secrets``."""

    enabled: bool = Field(False, description="Switch the channel on.")

    def _require(self, section: str, *names: str) -> None:
        if not self.enabled:
            return
        for name in names:
            value = getattr(self, name)
            if value is None or not value.get_secret_value().strip():
                raise ValueError(
                    f"{ENV_PREFIX}{section.upper()}__{name.upper()} must be set when"
                    f" {ENV_PREFIX}{section.upper()}__ENABLED is true"
                )


class WhatsAppSettings(ChannelSection):
    api_base: str = Field("https://graph.facebook.com", description="Graph API base URL.")
    api_version: str = Field("v23.0", description="Graph API version used in request paths.")
    phone_number_id: str = Field("", description="The business phone number's id at Meta.")
    access_token: SecretStr | None = Field(None, description="System-user access token.")
    app_secret: SecretStr | None = Field(None, description="App secret; signs webhooks.")
    verify_token: SecretStr | None = Field(
        None, description="Token Meta echoes in the webhook verification handshake."
    )

    @model_validator(mode="after")
    def _secrets(self) -> WhatsAppSettings:
        self._require("whatsapp", "access_token", "app_secret", "verify_token")
        if self.enabled and not self.phone_number_id:
            raise ValueError(f"{ENV_PREFIX}WHATSAPP__PHONE_NUMBER_ID must be set when enabled")
        return self


class TelegramSettings(ChannelSection):
    api_base: str = Field("https://api.telegram.org", description="Bot API base URL.")
    bot_token: SecretStr | None = Field(None, description="The token BotFather gave the bot.")
    bot_username: str = Field("", description="The bot's @username, for t.me deep links.")
    webhook_secret: SecretStr | None = Field(
        None, description="Secret Telegram sends in X-Telegram-Bot-Api-Secret-Token."
    )

    @model_validator(mode="after")
    def _secrets(self) -> TelegramSettings:
        self._require("telegram", "bot_token", "webhook_secret")
        return self


class MessengerSettings(ChannelSection):
    api_base: str = Field("https://graph.facebook.com", description="Graph API base URL.")
    api_version: str = Field("v23.0", description="Graph API version used in request paths.")
    page_id: str = Field("", description="The Facebook page's id.")
    page_access_token: SecretStr | None = Field(None, description="Page access token.")
    app_secret: SecretStr | None = Field(None, description="App secret; signs webhooks.")
    verify_token: SecretStr | None = Field(
        None, description="Token Meta echoes in the webhook verification handshake."
    )

    @model_validator(mode="after")
    def _secrets(self) -> MessengerSettings:
        self._require("messenger", "page_access_token", "app_secret", "verify_token")
        return self


class PolicySettings(BaseModel):
    marketing_per_period: int = Field(
        3, ge=0, description="Most marketing messages one person gets per cap period."
    )
    cap_period_days: int = Field(7, ge=1, description="Length of the cap period in days.")
    quiet_hours_start: time = Field(
        time(20, 0), description="Start of quiet hours (no marketing), contact's local time."
    )
    quiet_hours_end: time = Field(time(8, 0), description="End of quiet hours.")
    service_window_hours: int = Field(
        24, ge=1, description="Hours after a person's last message in which free-form replies go."
    )

    def policy(self) -> OutboundPolicy:
        return OutboundPolicy(
            marketing_cap=self.marketing_per_period,
            cap_period=timedelta(days=self.cap_period_days),
            quiet_start=self.quiet_hours_start,
            quiet_end=self.quiet_hours_end,
            service_window=timedelta(hours=self.service_window_hours),
        )


class KeywordSettings(BaseModel):
    opt_out: list[str] = Field(list(DEFAULT_OPT_OUT), description="Words that unsubscribe.")
    opt_in: list[str] = Field(list(DEFAULT_OPT_IN), description="Words that subscribe.")
    help: list[str] = Field(list(DEFAULT_HELP), description="Words that ask who is writing.")

    def keyword_set(self) -> KeywordSet:
        return KeywordSet.build(self.opt_out, self.opt_in, self.help)


class BusinessSettings(BaseModel):
    name: str = Field(
        "Botschaft", description="The business's name, shown to people as the sender."
    )
    privacy_policy_url: str = Field(
        "", description="Link to the privacy policy, given in HELP answers."
    )
    time_zone: str = Field(
        "Europe/Berlin", description="Time zone the business hours and the duty rotation run in."
    )
    holiday_country: str = Field(
        "DE", description="Country whose public holidays close the business (ISO code; empty:"
        " none)."
    )
    holiday_state: str = Field(
        "", description="State or region for regional public holidays, e.g. BY for Bavaria."
    )
    agent_online_minutes: int = Field(
        5, ge=1, description="An agent seen within this many minutes counts as online for"
        " round-robin assignment."
    )

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            zone(value)
        except InvalidBusinessHours as exc:
            raise ValueError(exc.message) from None
        return value

    @field_validator("holiday_country", "holiday_state")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.strip().upper() if len(value.strip()) <= 3 else value.strip()

    @model_validator(mode="after")
    def _holiday_region(self) -> BusinessSettings:
        # The country first, so that the message names the setting that is wrong.
        for name, state in (("COUNTRY", ""), ("STATE", self.holiday_state)):
            try:
                check_holiday_region(self.holiday_country, state)
            except InvalidBusinessHours as exc:
                raise ValueError(
                    f"{ENV_PREFIX}BUSINESS__HOLIDAY_{name}: {exc.message}"
                ) from None
        return self


TEMPLATE_PARAMETERS = ("contact_name", "agent_name", "business_name")


class ReplyTemplate(BaseModel):
    """A WhatsApp template approved at Meta that agents may send outside the 24-hour window."""

    name: str = Field(description="The template's name at Meta (a-z, 0-9, _).",
                      pattern=r"^[a-z0-9_]{1,512}$")
    language: str = Field("de", description="The template's language code at Meta, e.g. de.")
    text: str = Field(
        description="The body as approved, with {{1}}, {{2}}… where the parameters go; the"
        " inbox and the sandbox phone show it."
    )
    parameters: list[str] = Field(
        default_factory=list,
        description="What fills {{1}}, {{2}}…, in order: contact_name, agent_name or"
        " business_name.",
    )

    @field_validator("parameters")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        for name in value:
            if name not in TEMPLATE_PARAMETERS:
                raise ValueError(
                    f"{name!r} is no template parameter; use one of"
                    f" {', '.join(TEMPLATE_PARAMETERS)}"
                )
        return value


class InboxSettings(BaseModel):
    templates: list[ReplyTemplate] = Field(
        default_factory=list,
        description="Approved WhatsApp templates the composer offers once the 24-hour window"
        " has closed (JSON list of {name, language, text, parameters}).",
    )
    max_attachment_mb: int = Field(
        16, ge=1, le=100, description="Largest file an agent may attach to a reply, in MB."
    )
    live_poll_seconds: float = Field(
        5.0, gt=0, le=300,
        description="How often a live view (inbox, sandbox phone, website chat) reads the"
        " database without a wake-up.",
    )


class AccountRateSettings(BaseModel):
    """Rate limits of one sender account; a subclass per channel carries its defaults."""

    per_second: float = Field(80.0, gt=0, description="Messages per second per sender account.")
    concurrency: int = Field(
        64, ge=1, le=1000, description="Requests in flight at once per sender account."
    )
    daily_tier: int | None = Field(
        None, ge=1,
        description="People reached per moving 24 h per account (WhatsApp's messaging limit);"
        " empty: no limit.",
    )


class WhatsAppRates(AccountRateSettings):
    per_second: float = Field(
        80.0, gt=0, description="Messages per second per WhatsApp number (80, or up to 1,000"
        " after Meta's upgrade)."
    )


class TelegramRates(AccountRateSettings):
    per_second: float = Field(30.0, gt=0, description="Messages per second per Telegram bot.")
    concurrency: int = Field(
        16, ge=1, le=1000, description="Requests in flight at once per Telegram bot."
    )


class MessengerRates(AccountRateSettings):
    per_second: float = Field(300.0, gt=0, description="Text messages per second per Page.")


class FirstPartyRates(AccountRateSettings):
    per_second: float = Field(
        1000.0, gt=0, description="Messages per second on our own channel (no provider limit)."
    )


class DispatchSettings(BaseModel):
    # A cap for accounts faster than any provider allows (the benchmark's): at a real rate
    # a lane claims a second's worth (``per_second`` / lanes) and this does not bind.
    # Measured with bench/broadcast.py (SQLite): 2,000 a claim sent 8,100-9,000 messages/s,
    # 500 about 7,200, as fewer batches mean fewer waits for the database process.
    batch_size: int = Field(
        2000, ge=1, le=5000, description="Most deliveries a dispatcher claims per statement."
    )
    max_attempts: int = Field(
        5, ge=1, description="Sends tried per delivery on transient failures before it fails."
    )
    retry_base_seconds: float = Field(
        2.0, gt=0, description="First wait before retrying a transient failure; doubles after."
    )
    retry_cap_seconds: float = Field(
        300.0, gt=0, description="Longest wait between two retries of a transient failure."
    )
    idle_poll_seconds: float = Field(
        1.0, gt=0, description="How often an idle dispatcher looks for work without a wake-up."
    )
    database_process: bool = Field(
        True,
        description="Claim and record deliveries in a process of the dispatcher's own, on"
        " another core than the sending (off: in threads of the sending process).",
    )
    whatsapp: WhatsAppRates = Field(default_factory=WhatsAppRates)  # type: ignore[arg-type]
    telegram: TelegramRates = Field(default_factory=TelegramRates)  # type: ignore[arg-type]
    messenger: MessengerRates = Field(default_factory=MessengerRates)  # type: ignore[arg-type]
    sandbox: FirstPartyRates = Field(default_factory=FirstPartyRates)  # type: ignore[arg-type]
    webchat: FirstPartyRates = Field(default_factory=FirstPartyRates)  # type: ignore[arg-type]

    def rates(self, channel: str) -> AccountRateSettings:
        """The rate settings of ``channel``'s sender account."""
        rates: AccountRateSettings = getattr(self, channel)
        return rates


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        toml_file=TOML_FILE,
        extra="forbid",
    )

    data_dir: Path = Field(
        Path("botschaft-data"), description="Folder for the embedded database and media."
    )
    database_url: str = Field(
        "",
        description="SQLAlchemy URL; empty means SQLite at <data_dir>/botschaft.db."
        " PostgreSQL: postgresql+psycopg://user@host/db",
    )
    host: str = Field("127.0.0.1", description="Address `serve` listens on.")
    port: int = Field(8000, ge=1, le=65535, description="Port `serve` listens on.")
    public_url: str = Field(
        "", description="URL people reach this server at (links, webhooks); default from host/port."
    )
    default_region: str = Field(
        "DE", description="Region for phone numbers typed without a country code."
    )
    default_time_zone: str = Field(
        "Europe/Berlin", description="Time zone of contacts whose own is unknown."
    )
    default_language: str = Field("de", description="Language of contacts whose own is unknown.")
    double_opt_in_expiry_hours: int = Field(
        48, ge=1, description="Hours a double opt-in request waits for its confirmation."
    )
    embedded_worker: bool = Field(
        True, description="Run the dispatcher and scheduler inside `serve`."
    )
    sandbox_enabled: bool = Field(
        True,
        description="Serve the sandbox phone (/sandbox) and its API; switch it off on a"
        " server the public can reach.",
    )
    log_level: str = Field("INFO", description="Logging level: DEBUG, INFO, WARNING, ERROR.")
    secret_key: SecretStr | None = Field(
        None,
        description="Signs cookies and links. Empty: generated once into <data_dir>/secret_key.",
    )
    business: BusinessSettings = Field(default_factory=BusinessSettings)  # type: ignore[arg-type]
    policy: PolicySettings = Field(default_factory=PolicySettings)  # type: ignore[arg-type]
    keywords: KeywordSettings = Field(default_factory=KeywordSettings)  # type: ignore[arg-type]
    whatsapp: WhatsAppSettings = Field(default_factory=WhatsAppSettings)  # type: ignore[arg-type]
    telegram: TelegramSettings = Field(default_factory=TelegramSettings)  # type: ignore[arg-type]
    messenger: MessengerSettings = Field(default_factory=MessengerSettings)  # type: ignore[arg-type]
    inbox: InboxSettings = Field(default_factory=InboxSettings)  # type: ignore[arg-type]
    dispatch: DispatchSettings = Field(default_factory=DispatchSettings)  # type: ignore[arg-type]

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))

    @field_validator("default_region")
    @classmethod
    def _region(cls, value: str) -> str:
        try:
            return check_region(value)
        except ConfigError as exc:
            raise ValueError(exc.message) from None

    @field_validator("default_time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone (e.g. Europe/Berlin)") from None
        return value

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        level = value.upper()
        if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise ValueError("use DEBUG, INFO, WARNING or ERROR")
        return level

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'botschaft.db'}"

    @property
    def effective_public_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def double_opt_in_expiry(self) -> timedelta:
        return timedelta(hours=self.double_opt_in_expiry_hours)


def load_settings(**overrides: Any) -> Settings:
    """Read the settings, or raise ``ConfigError`` naming the first bad setting in one line."""
    check_unknown_variables(os.environ)
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc)) from None


# Variables with our prefix that are not settings of the product itself.
_NOT_SETTINGS = frozenset({"BOTSCHAFT_TEST_POSTGRES_URL"})


def check_unknown_variables(environ: Mapping[str, str]) -> None:
    """Refuse a BOTSCHAFT_* variable that names no setting: a typo would otherwise be ignored."""
    for name in sorted(environ):
        if not name.startswith(ENV_PREFIX) or name in _NOT_SETTINGS:
            continue
        parts = name.removeprefix(ENV_PREFIX).lower().split("__")
        model: type[BaseModel] | None = Settings
        for part in parts:
            field = model.model_fields.get(part) if model else None
            if field is None:
                raise ConfigError(f"Setting {name}: there is no such setting (a typo?)")
            annotation = field.annotation
            model = (
                annotation
                if isinstance(annotation, type) and issubclass(annotation, BaseModel)
                else None
            )


def describe_validation_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    location = [str(part) for part in error["loc"] if not isinstance(part, int)]
    message = str(error["msg"]).removeprefix("Value error, ")
    if not location:
        return f"Invalid settings: {message}"
    if message.startswith(ENV_PREFIX):
        return f"Setting {message}"
    name = ENV_PREFIX + "__".join(part.upper() for part in location)
    value = error.get("input")
    shown = f" (got {value!r})" if isinstance(value, str | int | float) and value != "" else ""
    more = f" (and {len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
    return f"Setting {name}: {message}{shown}{more}"
