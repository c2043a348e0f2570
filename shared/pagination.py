"""Pagination schemas every service's API shares: the ``page``/``per_page`` query and the page envelope
``{items, total, page, per_page}`` (marshmallow, documented in each service's OpenAPI)."""
from __future__ import annotations

from marshmallow import Schema, fields, validate


def page_query(max_per_page: int) -> type[Schema]:
    """The ``page``/``per_page`` query schema (subclass it to add a list's filters)."""
    return type("PageQuery", (Schema,), {
        "page": fields.Integer(load_default=1, validate=validate.Range(min=1), metadata={"example": 1}),
        "per_page": fields.Integer(load_default=50, validate=validate.Range(min=1, max=max_per_page),
                                   metadata={"example": 50})})


def page_of(item: type[Schema], name: str | None = None, **extra: fields.Field) -> type[Schema]:
    """A page of ``item`` (component name ``<Item>Page`` unless given), with any ``extra`` fields first."""
    return type(name or f"{item.__name__}Page", (Schema,), {
        **extra, "items": fields.List(fields.Nested(item)), "total": fields.Integer(), "page": fields.Integer(),
        "per_page": fields.Integer()})
