"""Personalisation: ``{{ first_name | default("") }}`` in a sandbox that sees declared fields only.

A campaign's text is a Jinja template run in a locked-down sandbox: it can read the names it
is given (``display_name``, ``first_name``, ``language`` and the declared attributes, each a
plain string) and apply filters, and nothing else: no attribute or item access on values, no
method calls, no globals such as ``range``, no ``**``, and no string multiplication past a
few thousand characters. Names it cannot know are refused when the campaign is written, not
when the millionth message is rendered.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from jinja2 import TemplateSyntaxError, Undefined, meta, nodes
from jinja2.exceptions import SecurityError, TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from botschaft.domain.campaign import CampaignInvalid

BASE_FIELDS = ("display_name", "first_name", "language")
_MAX_REPEAT = 2000
_MEMO_SIZE = 4096


class _Sandbox(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset({"*", "**"})

    def is_safe_callable(self, obj: Any) -> bool:
        return False  # a template reads; it never calls

    def getattr(self, obj: Any, attribute: str) -> Any:
        return self.undefined(obj=obj, name=attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        return self.undefined(obj=obj, name=str(argument))

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**":
            raise SecurityError("powers are not available in campaign texts")
        if isinstance(left, str | list) or isinstance(right, str | list):
            count = right if isinstance(left, str | list) else left
            if not isinstance(count, int) or count > _MAX_REPEAT:
                raise SecurityError("a text may be repeated only a few times")
        return super().call_binop(context, operator, left, right)


def _environment() -> _Sandbox:
    env = _Sandbox(autoescape=False, undefined=Undefined, keep_trailing_newline=True)
    env.globals.clear()
    return env


_ENV = _environment()


class Personaliser:
    """One campaign text, compiled once and rendered for many contacts.

    A text reads one or two fields, mostly a first name, and first names repeat across a
    list of customers: a render is a function of the fields it reads, so each combination
    is rendered once (up to ``_MEMO_SIZE`` of them), except for a text that draws lots with
    the ``random`` filter.
    """

    def __init__(self, source: str, allowed: Iterable[str]) -> None:
        check_template(source, allowed)
        parsed = _ENV.parse(source)
        self._template = _ENV.from_string(source)
        self._reads = tuple(sorted(meta.find_undeclared_variables(parsed)))
        draws = any(node.name == "random" for node in parsed.find_all(nodes.Filter))
        self._memo: dict[tuple[str | None, ...], str] | None = None if draws else {}

    def render(self, fields: Mapping[str, str]) -> str:
        """The text for one contact. Raises ``CampaignInvalid`` if the sandbox refuses."""
        if self._memo is None:
            return self._render(fields)
        key = tuple(fields.get(name) for name in self._reads)
        text = self._memo.get(key)
        if text is None:
            text = self._render(fields)
            if len(self._memo) >= _MEMO_SIZE:
                self._memo.clear()
            self._memo[key] = text
        return text

    def _render(self, fields: Mapping[str, str]) -> str:
        try:
            return self._template.render(fields)
        except TemplateError as error:
            raise CampaignInvalid(f"The campaign text cannot be personalised: {error}",
                                  key="app.error.personalisation_failed",
                                  detail=str(error)) from None


def check_template(source: str, allowed: Iterable[str]) -> None:
    """Refuse a text that is not valid, or that reads a name nobody declared."""
    try:
        parsed = _ENV.parse(source)
    except TemplateSyntaxError as error:
        raise CampaignInvalid(
            f"The campaign text has a personalisation error on line {error.lineno}:"
            f" {error.message}.",
            key="app.error.personalisation_syntax", line=error.lineno, detail=error.message,
        ) from None
    unknown = sorted(meta.find_undeclared_variables(parsed) - set(allowed))
    if unknown:
        fields, known = ", ".join(unknown), ", ".join(sorted(allowed))
        raise CampaignInvalid(
            f"The campaign text reads {fields}, which is not a contact field."
            f" Known fields: {known} (declare an attribute first).",
            key="app.error.personalisation_unknown", fields=fields, known=known,
        )


def render_once(source: str, allowed: Iterable[str], fields: Mapping[str, str]) -> str:
    return Personaliser(source, allowed).render(fields)
