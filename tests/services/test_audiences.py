from __future__ import annotations

import pytest

from botschaft.domain.audience import AudienceRuleInvalid
from botschaft.domain.channels import ChannelKind
from botschaft.domain.consent import ConsentEventKind
from botschaft.services.audiences import (
    AudienceConflict,
    count_audience,
    count_rule,
    create_audience,
    delete_audience,
    update_audience,
)
from botschaft.services.consent_texts import PublishedText
from botschaft.services.contact_fields import (
    AttributeType,
    AttributeUndeclared,
    declare_attribute,
    set_attributes,
    set_tags,
)
from botschaft.services.context import Context
from broadcasts import campaign, person, record, subscriber


@pytest.fixture
def shop(ctx: Context, text_version: PublishedText) -> dict[str, int]:
    """Four customers of a shop with tags, a declared city and different consents."""
    declare_attribute(ctx, "stadt", "Stadt", "Angebote der Filiale vor Ort")
    declare_attribute(ctx, "stammkunde", "Stammkunde", "Treuerabatt", AttributeType.BOOLEAN)
    anna = subscriber(ctx, text_version, "+4915100000101", "Anna Berg")
    ben = subscriber(ctx, text_version, "+4915100000102", "Ben Kurz", language="en")
    cem = subscriber(ctx, text_version, "7001", "Cem Ay", channel=ChannelKind.TELEGRAM)
    dora = person(ctx, "+4915100000104", "Dora Lang")  # never agreed to anything
    set_tags(ctx, anna.id, ["angebote", "VIP"])
    set_tags(ctx, ben.id, ["angebote"])
    set_tags(ctx, cem.id, ["angebote", "mitarbeiter"])
    set_tags(ctx, dora.id, ["vip"])
    set_attributes(ctx, anna.id, {"stadt": "Berlin", "stammkunde": True})
    set_attributes(ctx, ben.id, {"stadt": "Hamburg"})
    set_attributes(ctx, dora.id, {"stadt": "Berlin"})
    return {"anna": anna.id, "ben": ben.id, "cem": cem.id, "dora": dora.id}


def _count(ctx: Context, rule: dict[str, object]) -> tuple[int, int]:
    found = count_rule(ctx, rule)
    return found.contacts, found.with_consent


def test_an_empty_rule_counts_everyone_and_those_with_marketing_consent(
    ctx: Context, shop: dict[str, int]
) -> None:
    assert _count(ctx, {}) == (4, 3)
    assert _count(ctx, {"consent_purpose": None}) == (4, 4)


def test_tags_any_all_and_none(ctx: Context, shop: dict[str, int]) -> None:
    assert _count(ctx, {"tags": {"any": ["vip", "mitarbeiter"]}, "consent_purpose": None}
                  ) == (3, 3)
    assert _count(ctx, {"tags": {"all": ["angebote", "vip"]}}) == (1, 1)
    assert _count(ctx, {"tags": {"any": ["Angebote"], "none": ["mitarbeiter"]}}) == (2, 2)


def test_declared_attributes_eq_in_and_exists(ctx: Context, shop: dict[str, int]) -> None:
    assert _count(ctx, {"attributes": [{"key": "stadt", "op": "eq", "value": "Berlin"}]}
                  ) == (2, 1)
    assert _count(ctx, {"attributes": [
        {"key": "stadt", "op": "in", "values": ["Hamburg", "München"]}]}) == (1, 1)
    assert _count(ctx, {"attributes": [{"key": "stammkunde", "op": "exists"}]}) == (1, 1)
    assert _count(ctx, {"attributes": [{"key": "stammkunde", "op": "eq", "value": True}]}
                  ) == (1, 1)


def test_channel_and_language(ctx: Context, shop: dict[str, int]) -> None:
    assert _count(ctx, {"channels": ["telegram"]}) == (1, 1)
    assert _count(ctx, {"channels": ["whatsapp"], "languages": ["de"]}) == (2, 1)
    assert _count(ctx, {"languages": ["en"]}) == (1, 1)


def test_a_withdrawn_consent_does_not_count_as_consent(
    ctx: Context, shop: dict[str, int], text_version: PublishedText
) -> None:
    record(ctx, shop["anna"], ConsentEventKind.WITHDRAWN, None)
    assert _count(ctx, {"tags": {"any": ["vip"]}}) == (2, 0)


def test_a_rule_on_an_undeclared_attribute_is_refused(ctx: Context) -> None:
    with pytest.raises(AudienceRuleInvalid, match="farbe"):
        count_rule(ctx, {"attributes": [{"key": "farbe", "op": "exists"}]})


def test_an_undeclared_attribute_is_not_stored(ctx: Context, shop: dict[str, int]) -> None:
    with pytest.raises(AttributeUndeclared, match="geburtstag"):
        set_attributes(ctx, shop["anna"], {"geburtstag": "1990-01-01"})


@pytest.mark.parametrize("rule, message", [
    ({"tag": {}}, "no part 'tag'"),
    ({"tags": {"some": ["x"]}}, "any, all and none"),
    ({"channels": ["fax"]}, "no channel 'fax'"),
    ({"attributes": [{"key": "stadt", "op": "like"}]}, "eq, in or exists"),
    ({"attributes": [{"key": "stadt", "op": "in", "values": []}]}, "list of values"),
    ([], "JSON object"),
])
def test_a_malformed_rule_says_what_is_wrong(ctx: Context, rule: object, message: str) -> None:
    with pytest.raises(AudienceRuleInvalid, match=message):
        create_audience(ctx, "Kaputt", rule)


def test_saved_audiences_count_live_and_keep_their_names_unique(
    ctx: Context, shop: dict[str, int]
) -> None:
    saved = create_audience(ctx, "VIPs", {"tags": {"any": ["vip"]}})
    assert count_audience(ctx, saved.id).contacts == 2
    set_tags(ctx, shop["ben"], ["vip"])
    assert count_audience(ctx, saved.id).contacts == 3
    with pytest.raises(AudienceConflict):
        create_audience(ctx, "VIPs", {})
    changed = update_audience(ctx, saved.id, None, {"tags": {"any": ["angebote"]}})
    assert changed.rule["tags"]["any"] == ["angebote"]


def test_an_audience_in_use_is_not_deleted(ctx: Context, shop: dict[str, int]) -> None:
    used = create_audience(ctx, "Alle", {})
    campaign(ctx, used.id)
    with pytest.raises(AudienceConflict, match="used by 1 campaign"):
        delete_audience(ctx, used.id)
    unused = create_audience(ctx, "Niemand", {"tags": {"any": ["gibt-es-nicht"]}})
    delete_audience(ctx, unused.id)
