"""Keywords: a whole message that is STOP, START or HELP, however a person types it."""

from __future__ import annotations

import pytest

from botschaft.domain.keywords import (
    DEFAULT_HELP,
    DEFAULT_OPT_IN,
    DEFAULT_OPT_OUT,
    KeywordFamily,
    KeywordSet,
    normalise_message,
)

DEFAULTS = KeywordSet.build()

DEFAULT_WORDS = [
    *((word, KeywordFamily.OPT_OUT) for word in DEFAULT_OPT_OUT),
    *((word, KeywordFamily.OPT_IN) for word in DEFAULT_OPT_IN),
    *((word, KeywordFamily.HELP) for word in DEFAULT_HELP),
]


def _mixed_case(word: str) -> str:
    return "".join(c.lower() if i % 2 else c.upper() for i, c in enumerate(word))


# Ways people type a keyword: each turns the word into a message.
TYPINGS = {
    "upper": str.upper,
    "lower": str.lower,
    "title": str.title,
    "mixed": _mixed_case,
    "surrounding spaces": lambda w: f"   {w}  ",
    "tabs and newline": lambda w: f"\t{w}\n",
    "trailing exclamation": lambda w: f"{w}!",
    "trailing full stop": lambda w: f"{w.lower()}.",
    "trailing punctuation run": lambda w: f"{w}?!...",
    "leading and trailing quotes": lambda w: f'"{w}"',
    "trailing emoji": lambda w: f"{w} 🛑",
    "emoji with skin tone and variation selector": lambda w: f"✋🏽 {w.lower()} ❤️",
    "emoji glued to the word": lambda w: f"{w}👍",
    "telegram command": lambda w: f"/{w.lower()}",
    "non-breaking spaces": lambda w: f"\u00a0{w}\u00a0",
}


@pytest.mark.parametrize(("word", "family"), DEFAULT_WORDS)
@pytest.mark.parametrize("typing", TYPINGS.values(), ids=TYPINGS.keys())
def test_every_default_keyword_matches_its_family_however_typed(word, family, typing):
    assert DEFAULTS.match(typing(word)) is family


def test_stop_with_punctuation_and_emoji_is_an_opt_out():
    assert DEFAULTS.match("  Stopp!! 🛑 ") is KeywordFamily.OPT_OUT


def test_telegram_stop_command_is_an_opt_out():
    assert DEFAULTS.match("/stop") is KeywordFamily.OPT_OUT


def test_telegram_start_command_is_an_opt_in():
    assert DEFAULTS.match("/start") is KeywordFamily.OPT_IN


@pytest.mark.parametrize(
    "text", ["KÜNDIGEN", "kündigen", "KUENDIGEN", "kuendigen", "Ku\u0308ndigen", "Kündigen!"]
)
def test_umlaut_and_its_two_letter_spelling_are_the_same_opt_out(text):
    assert DEFAULTS.match(text) is KeywordFamily.OPT_OUT


def test_umlaut_folding_makes_both_spellings_normalise_equal():
    assert normalise_message("KÜNDIGEN") == normalise_message("KUENDIGEN") == "KUENDIGEN"


def test_full_width_letters_are_read_as_plain_letters():
    full_width_stop = "\uff33\uff34\uff2f\uff30"

    assert DEFAULTS.match(full_width_stop) is KeywordFamily.OPT_OUT


@pytest.mark.parametrize(
    "text",
    [
        "please stop sending",
        "STOP PLEASE",
        "stop it",
        "please don't stop the offers",
        "ja gerne",
        "Ja, bitte",
        "help me",
        "ich möchte mich abmelden",
        "S T O P",
        "STOPPING",
        "unstoppable",
        "start 2",
    ],
)
def test_sentence_containing_a_keyword_is_no_keyword(text):
    assert DEFAULTS.match(text) is None


@pytest.mark.parametrize("text", ["", " ", "\n\t", "🛑", "👍🏽❤️", "!!!", "..."])
def test_empty_or_emoji_only_message_is_no_keyword(text):
    assert DEFAULTS.match(text) is None


def test_configured_opt_out_words_replace_the_defaults():
    keywords = KeywordSet.build(opt_out=["Halt"], opt_in=["Los"], help_words=["Fragen"])

    assert keywords.match("STOP") is None
    assert keywords.match("halt!") is KeywordFamily.OPT_OUT


def test_configured_opt_in_words_replace_the_defaults():
    keywords = KeywordSet.build(opt_out=["Halt"], opt_in=["Los"], help_words=["Fragen"])

    assert keywords.match("START") is None
    assert keywords.match("los") is KeywordFamily.OPT_IN


def test_configured_help_words_replace_the_defaults():
    keywords = KeywordSet.build(opt_out=["Halt"], opt_in=["Los"], help_words=["Fragen"])

    assert keywords.match("HILFE") is None
    assert keywords.match("Fragen?") is KeywordFamily.HELP


def test_configured_words_with_umlauts_match_their_two_letter_spelling():
    keywords = KeywordSet.build(opt_out=["Schluss", "Aufhören"])

    assert keywords.match("AUFHOEREN") is KeywordFamily.OPT_OUT


def test_word_configured_as_opt_out_and_opt_in_is_an_opt_out():
    keywords = KeywordSet.build(opt_out=["STOP"], opt_in=["stop!", "START"])

    assert keywords.match("Stop") is KeywordFamily.OPT_OUT


def test_word_configured_as_opt_out_and_help_is_an_opt_out():
    keywords = KeywordSet.build(opt_out=["INFO"], opt_in=["START"], help_words=["info"])

    assert keywords.match("info") is KeywordFamily.OPT_OUT


def test_word_configured_in_every_family_is_an_opt_out():
    keywords = KeywordSet.build(opt_out=["ende"], opt_in=["ENDE"], help_words=["Ende."])

    assert keywords.match("ENDE") is KeywordFamily.OPT_OUT
    assert "ENDE" not in keywords.opt_in
    assert "ENDE" not in keywords.help


def test_configured_word_that_is_only_emoji_is_ignored():
    keywords = KeywordSet.build(opt_out=["🛑", "STOP"])

    assert keywords.opt_out == frozenset({"STOP"})
    assert keywords.match("🛑") is None


def test_a_telegram_command_addressed_to_the_bot_by_name_is_a_keyword() -> None:
    keywords = KeywordSet.build()
    assert keywords.match("/stop@ReiseBot") is KeywordFamily.OPT_OUT
    assert keywords.match("/hilfe@ReiseBot") is KeywordFamily.HELP
    assert keywords.match("stop@ReiseBot") is None
