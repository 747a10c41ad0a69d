from __future__ import annotations

import pytest

from botschaft.domain.channels import ChannelKind
from botschaft.domain.preference_token import (
    InvalidPreferenceLink,
    preference_token,
    read_preference_token,
)

KEY = b"k" * 32


def test_a_token_names_its_contact_and_channel() -> None:
    token = preference_token(42, ChannelKind.WHATSAPP, KEY)
    assert read_preference_token(token, KEY) == (42, ChannelKind.WHATSAPP)


@pytest.mark.parametrize("forge", [
    lambda t: t.replace("42.", "43.", 1),
    lambda t: t.replace("whatsapp", "telegram"),
    lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),
    lambda t: t + "x",
    lambda t: "",
])
def test_a_changed_token_is_refused(forge) -> None:  # type: ignore[no-untyped-def]
    token = preference_token(42, ChannelKind.WHATSAPP, KEY)
    with pytest.raises(InvalidPreferenceLink):
        read_preference_token(forge(token), KEY)


def test_a_token_signed_with_another_key_is_refused() -> None:
    token = preference_token(42, ChannelKind.WHATSAPP, b"other" * 8)
    with pytest.raises(InvalidPreferenceLink):
        read_preference_token(token, KEY)
