"""Keywords in the chat: opt-out, opt-in and help, in German and English.

A message is a keyword only when the whole message, normalised, equals one: "STOP", " stop! "
and "Stopp 🛑" are; "please don't stop the offers" is not.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class KeywordFamily(StrEnum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    HELP = "help"


DEFAULT_OPT_OUT = (
    "STOP", "STOPP", "STOPALL", "ABMELDEN", "ABBESTELLEN", "AUSTRAGEN", "KÜNDIGEN", "ENDE",
    "STORNIEREN", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT",
)
DEFAULT_OPT_IN = ("START", "ANMELDEN", "JA", "YES", "UNSTOP")
DEFAULT_HELP = ("HILFE", "HELP", "INFO")


_COMMAND_TARGET = re.compile(r"^\s*(/\w+)@\w+", re.ASCII)
_UMLAUTS = str.maketrans({"Ä": "AE", "Ö": "OE", "Ü": "UE", "ẞ": "SS", "ß": "SS"})


def normalise_message(text: str) -> str:
    """Upper-case words separated by single spaces, without punctuation, symbols or emoji."""
    # Folding umlauts first lets "KÜNDIGEN" and "KUENDIGEN" (typed without umlauts) match.
    text = unicodedata.normalize("NFKC", text).upper().translate(_UMLAUTS)
    # A Telegram command may name the bot it is meant for: "/stop@ReiseBot" is "/stop".
    text = _COMMAND_TARGET.sub(r"\1", text, count=1)
    kept = []
    for char in text:
        category = unicodedata.category(char)
        if category[0] in ("L", "N"):
            kept.append(char)
        elif category[0] == "Z" or char in "\t\n\r":
            kept.append(" ")
        else:
            # Punctuation, symbols (emoji are So), marks and control characters separate
            # nothing and mean nothing here.
            kept.append(" " if category[0] == "P" else "")
    return " ".join("".join(kept).split()).upper()


@dataclass(frozen=True)
class KeywordSet:
    opt_out: frozenset[str]
    opt_in: frozenset[str]
    help: frozenset[str]

    @classmethod
    def build(
        cls,
        opt_out: Iterable[str] = DEFAULT_OPT_OUT,
        opt_in: Iterable[str] = DEFAULT_OPT_IN,
        help_words: Iterable[str] = DEFAULT_HELP,
    ) -> KeywordSet:
        """Normalise the configured words; opt-out wins where a word is in two families."""
        out = frozenset(_normalised(opt_out))
        in_ = frozenset(_normalised(opt_in)) - out
        helping = frozenset(_normalised(help_words)) - out - in_
        return cls(out, in_, helping)

    def match(self, text: str) -> KeywordFamily | None:
        """The family ``text`` belongs to when the whole message is a keyword, else None."""
        key = normalise_message(text)
        if not key:
            return None
        if key in self.opt_out:
            return KeywordFamily.OPT_OUT
        if key in self.opt_in:
            return KeywordFamily.OPT_IN
        if key in self.help:
            return KeywordFamily.HELP
        return None


def _normalised(words: Iterable[str]) -> set[str]:
    return {n for n in (normalise_message(w) for w in words) if n}
