"""Phone numbers: one canonical E.164 form, as WhatsApp and the consent ledger need it."""

from __future__ import annotations

import pytest

from botschaft.domain.errors import ConfigError, InvalidPhoneNumber
from botschaft.domain.phone import check_region, normalise_phone

MOBILE_E164 = "+4915112345678"


@pytest.mark.parametrize(
    "raw",
    [
        "015112345678",
        "0151 12345678",
        "0151-123-456-78",
        "(0151) 123 456 78",
        "0151/12345678",
        "  0151 12345678  ",
    ],
)
def test_german_national_number_with_de_default_becomes_e164(raw):
    assert normalise_phone(raw, "DE") == MOBILE_E164


@pytest.mark.parametrize(
    "raw",
    [
        "+4915112345678",
        "+49 151 12345678",
        "+49-151-12345678",
        "+49 (0) 151 12345678",
        "004915112345678",
        "0049 151 12345678",
        "0049 (151) 123-456-78",
    ],
)
def test_german_number_with_country_code_becomes_e164(raw):
    assert normalise_phone(raw, "DE") == MOBILE_E164


def test_german_landline_becomes_e164():
    assert normalise_phone("030 1234567", "DE") == "+49301234567"


@pytest.mark.parametrize("default_region", ["AT", "US", "GB", "FR"])
def test_number_with_country_code_ignores_the_default_region(default_region):
    assert normalise_phone("+49 151 12345678", default_region) == MOBILE_E164


def test_00_prefix_is_read_as_plus_even_where_the_region_dials_abroad_differently():
    # In the US one dials abroad with 011; people still type 00 from European habit.
    assert normalise_phone("00 44 20 7946 0958", "US") == "+442079460958"


@pytest.mark.parametrize(
    ("raw", "region", "e164"),
    [
        ("0664 1234567", "AT", "+436641234567"),
        ("044 668 18 00", "CH", "+41446681800"),
        ("020 7946 0958", "GB", "+442079460958"),
        ("(212) 555-0123", "US", "+12125550123"),
        ("06 12 34 56 78", "FR", "+33612345678"),
    ],
)
def test_national_numbers_of_other_regions_become_e164(raw, region, e164):
    assert normalise_phone(raw, region) == e164


@pytest.mark.parametrize(
    "raw",
    [
        "12",
        "0151 123",
        "+49 151 1234567890123",
        "0049151123456789999",
        "+491511234567",
    ],
)
def test_invalid_number_raises_invalid_phone_number_quoting_the_input(raw):
    with pytest.raises(InvalidPhoneNumber) as caught:
        normalise_phone(raw, "DE")

    assert repr(raw) in caught.value.message


@pytest.mark.parametrize("raw", ["", "   ", "abc", "+", "0000", "not a number", "🛑"])
def test_garbage_raises_invalid_phone_number_quoting_the_input(raw):
    with pytest.raises(InvalidPhoneNumber) as caught:
        normalise_phone(raw, "DE")

    assert repr(raw) in caught.value.message


def test_invalid_phone_number_has_a_stable_code():
    with pytest.raises(InvalidPhoneNumber) as caught:
        normalise_phone("abc", "DE")

    assert caught.value.code == "phone_invalid"
    assert caught.value.status == 422


@pytest.mark.parametrize(("region", "code"), [("DE", "DE"), ("de", "DE"), (" at ", "AT")])
def test_check_region_accepts_known_regions_upper_cased(region, code):
    assert check_region(region) == code


@pytest.mark.parametrize("region", ["XX", "ZZ", "", "GER", "Deutschland", "49"])
def test_check_region_refuses_unknown_regions_with_config_error(region):
    with pytest.raises(ConfigError) as caught:
        check_region(region)

    assert repr(region) in caught.value.message
    assert caught.value.code == "config_invalid"


def test_a_bad_default_region_is_a_configuration_error_not_a_bad_number() -> None:
    with pytest.raises(ConfigError, match="'XX' is not a known region code"):
        normalise_phone("0151 23456789", "XX")
