from __future__ import annotations

import pytest

from botschaft.domain.campaign import CampaignInvalid
from botschaft.services.personalisation import BASE_FIELDS, Personaliser, check_template

ALLOWED = (*BASE_FIELDS, "stadt")
ANNA = {"display_name": "Anna Berg", "first_name": "Anna", "language": "de", "stadt": "Berlin"}


def _render(source: str, fields: dict[str, str] = ANNA) -> str:
    return Personaliser(source, ALLOWED).render(fields)


def test_declared_fields_are_filled_in_with_defaults_for_blanks() -> None:
    assert _render("Hallo {{ first_name }} aus {{ stadt }}!") == "Hallo Anna aus Berlin!"
    assert _render('Hallo {{ first_name | default("du", true) }}!',
                   {**ANNA, "first_name": ""}) == "Hallo du!"
    assert _render("{{ first_name | upper }}") == "ANNA"


def test_a_name_nobody_declared_is_refused_when_the_text_is_written() -> None:
    with pytest.raises(CampaignInvalid, match="iban"):
        check_template("Ihre IBAN: {{ iban }}", ALLOWED)


def test_a_syntax_error_names_its_line() -> None:
    with pytest.raises(CampaignInvalid, match="line 2"):
        check_template("Hallo\n{{ first_name }", ALLOWED)


@pytest.mark.parametrize("source", [
    "{{ first_name.__class__.__mro__ }}",
    "{{ first_name['__class__'] }}",
    "{{ first_name.__len__ }}",
])
def test_a_template_cannot_reach_behind_a_value(source: str) -> None:
    assert _render(source) == ""


def test_a_template_cannot_call_methods() -> None:
    with pytest.raises(CampaignInvalid):
        _render("{{ first_name.upper() }}")


def test_there_are_no_globals_to_use() -> None:
    with pytest.raises(CampaignInvalid, match="range"):
        check_template("{% for i in range(10) %}x{% endfor %}", ALLOWED)


def test_a_text_cannot_blow_itself_up() -> None:
    with pytest.raises(CampaignInvalid):
        _render("{{ first_name * 100000000 }}")
    with pytest.raises(CampaignInvalid):
        _render("{{ 9 ** 999999 }}")
    assert _render("{{ '-' * 3 }}") == "---"


def test_one_text_renders_each_person_by_their_own_fields_many_times_over() -> None:
    text = Personaliser("Hallo {{ first_name }} aus {{ stadt }}", ALLOWED)
    people = [{**ANNA, "first_name": name, "stadt": city}
              for name in ("Anna", "Ben", "Anna") for city in ("Berlin", "Köln")] * 3
    rendered = [text.render(person) for person in people]
    assert rendered == [f"Hallo {p['first_name']} aus {p['stadt']}" for p in people]
    # A field the text does not read never changes its output.
    assert text.render({**ANNA, "display_name": "Someone Else"}) == "Hallo Anna aus Berlin"


def test_a_text_that_draws_lots_is_drawn_again_for_every_person() -> None:
    text = Personaliser('{{ ["a", "b", "c", "d", "e", "f", "g", "h"] | random }}', ALLOWED)
    assert len({text.render(ANNA) for _ in range(200)}) > 1
