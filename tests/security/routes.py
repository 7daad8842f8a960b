"""The app's own route table, as (method, path template) pairs, and path templates filled from the seeded world."""

from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.routing import iter_route_contexts

PARAM = re.compile(r"{([a-z_]+)(?::[a-z]+)?}")


def route_table(app: FastAPI) -> set[tuple[str, str]]:
    """Every (method, path) the application answers. HEAD is GET's twin; the /static mount serves files, no route."""
    table = set()
    for route in iter_route_contexts(app.routes):
        for method in route.methods or ():
            if method != "HEAD":
                table.add((method, str(route.path)))
    return table


def fill(path: str, values: dict[str, object], aliases: dict[str, str] | None = None) -> str:
    """The path with each {param} replaced by the world's value (under its alias, when the route names one)."""
    aliases = aliases or {}
    return PARAM.sub(lambda m: str(values[aliases.get(m.group(1), m.group(1))]), path)
