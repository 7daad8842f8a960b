"""Gettext catalogs read straight from the .po files with Babel (no compiled .mo build output to keep in step).

Message ids are English; `zh_CN` is the default locale. A test checks that every message id used in code and
templates has a Chinese translation.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
LOCALES = ("zh_CN", "en")


@lru_cache
def catalog(locale: str) -> dict[str, str]:
    path = LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"
    if not path.exists():
        return {}
    with path.open("rb") as fh:
        po = read_po(fh, locale=locale)
    return {str(m.id): str(m.string) for m in po if m.id and m.string and not m.fuzzy}


def translate(locale: str, msgid: str, **params: object) -> str:
    # English message ids are the English text, except label ids (status_pending…) the en catalog spells out.
    text = catalog(locale).get(msgid, msgid)
    return text % params if params else text


def translator(locale: str) -> Callable[..., str]:
    def _(msgid: str, **params: object) -> str:
        return translate(locale, msgid, **params)

    return _


def _(msgid: str) -> str:
    """Marks a message id for extraction where it is translated later (errors, labels defined at import time)."""
    return msgid
