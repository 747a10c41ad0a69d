"""``column`` matched against a list of values in one bound parameter: ``among(Contact.id, ids)``.

``column.in_(ids)`` binds one parameter per id, and SQLAlchemy renders and processes each of
them on every execution: for a batch of a few hundred people read by half a dozen queries,
that bookkeeping cost more than the queries themselves. Here the whole list is one value:
a PostgreSQL array (``column = ANY(:ids)``) or, on SQLite, a JSON array read by
``json_each``. Both use the column's index.

The PostgreSQL array is bound in its text form: psycopg dumps a Python list element by
element in Python, which for a batch's few thousand ids cost the dispatcher's database
process a tenth of its time; joining the text takes a few microseconds.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Boolean, Integer, Text, bindparam
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.type_api import TypeEngine
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.types import TypeDecorator, UserDefinedType


class ValueList(TypeDecorator[Sequence[int | str]]):
    """Ids or keys as one parameter: a PostgreSQL array (sent in its text form), a JSON
    array on SQLite."""

    impl = Text
    cache_ok = True

    def __init__(self, *, numeric: bool) -> None:
        super().__init__()
        self.numeric = numeric

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            # Rendered as ``%(ids)s::BIGINT[]``: psycopg sends the text with no type of its
            # own, so the server reads it as the array when binding and the planner sees
            # the values (a CAST in SQL would hide them from it: array_in is not immutable).
            return _ArrayText("BIGINT[]" if self.numeric else "TEXT[]")
        return dialect.type_descriptor(Text())

    def process_bind_param(self, value: Sequence[int | str] | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if dialect.name == "postgresql":
            return _array_literal(value, numeric=self.numeric)
        values = [int(v) for v in value] if self.numeric else [str(v) for v in value]
        return json.dumps(values)


class _ArrayText(UserDefinedType[str]):
    """A PostgreSQL array type whose values arrive in its text form (no processing)."""

    cache_ok = True
    render_bind_cast = True

    def __init__(self, spec: str) -> None:
        self.spec = spec

    def get_col_spec(self, **kw: Any) -> str:
        return self.spec


def _array_literal(values: Iterable[int | str], *, numeric: bool) -> str:
    """PostgreSQL's text form of an array: ``{1,2}``, or ``{"a","b \\"c\\""}`` with each
    text element quoted and its quotes and backslashes escaped."""
    if numeric:
        return "{" + ",".join(map(str, map(int, values))) + "}"
    return "{" + ",".join(
        '"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values
    ) + "}"


def as_array(values: Iterable[int | str], *, numeric: bool) -> ColumnElement[Any]:
    """``values`` as one parameter: an array on PostgreSQL (``unnest`` it, compare with
    ``ANY``), a JSON array on SQLite (read it with ``json_each``)."""
    return bindparam(None, list(values), type_=ValueList(numeric=numeric), unique=True)


class _Among(ColumnElement[bool]):
    inherit_cache = True
    type = Boolean()
    _is_implicitly_boolean = True  # a condition as it stands, not a value to compare with 1
    _traverse_internals = [  # noqa: RUF012 (SQLAlchemy's own declaration is a list)
        ("column", InternalTraversal.dp_clauseelement),
        ("ids", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, column: ColumnElement[Any], values: Iterable[int | str]) -> None:
        self.column = column
        numeric = column.type._type_affinity is Integer
        self.ids = as_array(values, numeric=numeric)


def among(column: Any, values: Iterable[int | str]) -> ColumnElement[bool]:
    """True where ``column`` is one of ``values`` (ids or keys; none matches nothing)."""
    return _Among(column, values)


@compiles(_Among)
def _in_json(element: _Among, compiler: Any, **kw: Any) -> str:
    column, ids = compiler.process(element.column, **kw), compiler.process(element.ids, **kw)
    # Both parts are compiled SQL (a column, a bound parameter), never a value.
    return f"{column} IN (SELECT value FROM json_each({ids}))"  # noqa: S608


@compiles(_Among, "postgresql")
def _any_array(element: _Among, compiler: Any, **kw: Any) -> str:
    column, ids = compiler.process(element.column, **kw), compiler.process(element.ids, **kw)
    return f"{column} = ANY({ids})"


__all__ = ["ValueList", "among", "as_array"]
