"""Form helpers for routes whose fields are not known in advance (quiz answers)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from starlette.datastructures import FormData


async def _form(request: Request) -> FormData:
    # Resolved on the event loop, so the route itself can stay a plain (threadpool) function.
    return await request.form()


FormDep = Annotated[FormData, Depends(_form)]
