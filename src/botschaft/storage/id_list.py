"""``column`` matched against a list of values in one bound parameter: ``among(Contact.id, ids)``.

``column.in_(ids)`` binds one parameter per id, and SQLAlchemy renders and processes each of
them on every execution: for a batch of a few hundred people read by half a dozen queries,
that bookkeeping cost more than the queries themselves. Here the whole list is one value:
a PostgreSQL array (``column = ANY(:ids)``) or, on SQLite, a JSON array read by
``json_each``. Both use the column's index.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import BigInteger, Boolean, Integer, Text, bindparam
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.type_api import TypeEngine
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.types import TypeDecorator


class ValueList(TypeDecorator[Sequence[int | str]]):
    """Ids or keys as one parameter: an array on PostgreSQL, a JSON array on SQLite."""

    impl = Text
    cache_ok = True

    def __init__(self, *, numeric: bool) -> None:
        super().__init__()
        self.numeric = numeric

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            item: TypeEngine[Any] = BigInteger() if self.numeric else Text()
            return dialect.type_descriptor(postgresql.ARRAY(item))
        return dialect.type_descriptor(Text())

    def process_bind_param(self, value: Sequence[int | str] | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        values = [int(v) for v in value] if self.numeric else [str(v) for v in value]
        return values if dialect.name == "postgresql" else json.dumps(values)


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
        self.ids = bindparam(None, list(values), type_=ValueList(numeric=numeric), unique=True)


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


__all__ = ["ValueList", "among"]
