"""Reads whose SQL the ORM builds once, for the few queries every page socket makes.

Building and compiling a queryset costs Django far more Python than the database takes to
answer it. Measured on the development machine: the unread counts of a room list take 8.5 ms
through the ORM and 0.6 ms as the same SQL; a room lookup 2.4 ms against 0.35 ms. A socket
opening makes several such reads in a database thread, so under a burst of
connections that overhead, not the database, sets how many sockets open per second.

A `PreparedQuery` builds its queryset once per database, twice, with two sets of placeholder
values: a parameter of the SQL that takes each set's value is that placeholder's, one that
stays is a constant. It keeps the SQL, and from then on runs it with the real values (psycopg
also prepares a statement it sees repeatedly on the server). The queryset stays the one
definition of the read.

Only values that fill a parameter can be placeholders: ids and strings compared for equality.
A value that changes the SQL itself (None becoming IS NULL, a list becoming IN (...)) cannot.
"""

import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import Model, QuerySet
from django.db.models.query import FlatValuesListIterable, ModelIterable, ValuesListIterable


def placeholders(kinds: dict[str, type], which: int) -> dict[str, object]:
    """Set `which` (0 or 1) of the values a query is built with, by placeholder. The integers
    are small and positive, within the range of every integer field: Django compiles a lookup
    whose value is out of its column's range (an id of PostgreSQL's 32-bit auth_user, say) to
    "matches nothing", whatever the value it later runs with. The strings have capitals and
    spaces around them, so that a build that changes its value (lowercase, strip) is caught.
    """
    step = (7, 11)[which]  # no placeholder's pair of values is another's shifted
    return {
        name: 30_000 + 1_000 * which + step * n if kind is int else f" Placeholder {which}: {name} "
        for n, (name, kind) in enumerate(kinds.items())
    }


@dataclass(frozen=True)
class Compiled:
    sql: str | None  # None: the query can match nothing, whatever the values
    params: tuple[Any, ...]
    # For each parameter: the name of the placeholder that fills it, or None for a constant.
    slots: tuple[str | None, ...]


class PreparedQuery[Row]:
    """`build(**placeholders)` returns the queryset; calling the prepared query with the same
    keywords returns its rows: model instances, or the tuples (or single values, with
    flat=True) of a values_list()."""

    def __init__(self, build: Callable[..., QuerySet[Any, Row]], **kinds: type) -> None:
        self.build = build
        self.kinds = kinds
        self.compiled: dict[str, Compiled] = {}
        self.template: QuerySet[Any, Row] | None = None
        _every_query.add(self)

    def __call__(self, **values: object) -> list[Row]:
        if values.keys() != self.kinds.keys():
            raise TypeError(f"expected the values of {sorted(self.kinds)}, got {sorted(values)}")
        for name, value in values.items():
            if type(value) is not self.kinds[name]:
                raise TypeError(f"{name} must be a {self.kinds[name].__name__}, not {value!r}")
        template = self.template_queryset()
        compiled = self.compile(template)
        if compiled.sql is None:
            return []
        params = [
            values[slot] if slot is not None else constant
            for slot, constant in zip(compiled.slots, compiled.params, strict=True)
        ]
        return self.run(template, compiled.sql, params)

    def template_queryset(self) -> QuerySet[Any, Row]:
        if self.template is None:
            self.template = self.build(**placeholders(self.kinds, 0))
            iterable = self.template._iterable_class
            if iterable not in (ModelIterable, ValuesListIterable, FlatValuesListIterable):
                raise TypeError("a prepared query returns model instances or values_list() rows")
            query = self.template.query
            if iterable is ModelIterable and (
                query.annotation_select or query.select_related or query.deferred_loading[0]
            ):
                raise TypeError("a prepared query of model instances selects their fields only")
            if iterable is not ModelIterable:
                names = [*query.extra_select, *query.values_select, *query.annotation_select]
                if list(self.template._fields) != names:  # type: ignore[attr-defined]
                    raise TypeError("list a values_list() query's fields before its annotations")
        return self.template

    def compile(self, template: QuerySet[Any, Row]) -> Compiled:
        alias = template.db
        compiled = self.compiled.get(alias)
        if compiled is None:
            compiled = self.compiled[alias] = self.compile_twice(template, alias)
        return compiled

    def compile_twice(self, template: QuerySet[Any, Row], alias: str) -> Compiled:
        """The template's SQL, each parameter a placeholder's (it has that placeholder's value
        in each of the two builds) or a constant (the same in both)."""
        zero, one = placeholders(self.kinds, 0), placeholders(self.kinds, 1)
        first, second = as_sql(template, alias), as_sql(self.build(**one), alias)
        if first is None and second is None:
            return Compiled(None, (), ())
        if first is None or second is None or first[0] != second[0]:
            raise ValueError("the query's SQL depends on the placeholders' values")
        placeholder_of = {(zero[name], one[name]): name for name in self.kinds}
        slots: list[str | None] = []
        for pair in zip(first[1], second[1], strict=True):
            if pair[0] == pair[1]:
                slots.append(None)  # a constant
            elif pair in placeholder_of:
                slots.append(placeholder_of[pair])
            else:
                raise ValueError(
                    f"a parameter differs between the two builds, and is no placeholder's "
                    f"value ({pair[0]!r}): a value the query changes, or one of its own"
                )
        missing = set(self.kinds) - set(slots)
        if missing:
            raise ValueError(f"{sorted(missing)} did not become parameters of the query")
        return Compiled(first[0], first[1], tuple(slots))

    def run(self, template: QuerySet[Any, Row], sql: str, params: list[Any]) -> list[Row]:
        alias = template.db
        if template._iterable_class is ModelIterable:
            model: type[Model] = template.model
            instances: list[Any] = list(model._default_manager.raw(sql, params, using=alias))
            return instances
        with connections[alias].cursor() as cursor:
            cursor.execute(sql, params)
            fetched = cursor.fetchall()
        if template._iterable_class is FlatValuesListIterable:
            return [row[0] for row in fetched]
        return [tuple(row) for row in fetched]  # type: ignore[misc]

    def forget(self) -> None:
        """Build and compile again on the next call (after a test replaced what it builds on)."""
        self.template = None
        self.compiled.clear()


def as_sql(queryset: QuerySet[Any, Any], alias: str) -> tuple[str, tuple[Any, ...]] | None:
    """The queryset's SQL and parameters; None if it can match nothing."""
    try:
        sql, params = queryset.query.get_compiler(using=alias).as_sql()
    except EmptyResultSet:
        return None
    return sql, tuple(params)


_every_query: "weakref.WeakSet[PreparedQuery[Any]]" = weakref.WeakSet()


def forget_all() -> None:
    for query in list(_every_query):
        query.forget()
