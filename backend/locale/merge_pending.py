"""Merge translations that parallel work left in backend/locale/pending/*.json ({msgid: zh_CN msgstr}) into the
zh_CN catalog, then delete the merged files. Run by `make i18n` after extraction, so each msgid exists first."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

LOCALE_DIR = Path(__file__).resolve().parent
PO = LOCALE_DIR / "zh_CN" / "LC_MESSAGES" / "messages.po"


def main() -> int:
    # Named files only (e.g. the finished part of parallel work), else every pending file.
    pending = [Path(a) for a in sys.argv[1:]] or sorted((LOCALE_DIR / "pending").glob("*.json"))
    if not pending:
        return 0
    with PO.open("rb") as f:
        catalog = read_po(f)
    unknown: list[str] = []
    for path in pending:
        for msgid, text in json.loads(path.read_text(encoding="utf-8")).items():
            message = catalog.get(msgid)
            if message is None:
                unknown.append(f"{path.name}: {msgid!r}")
                continue
            message.string = text
            message.flags.discard("fuzzy")
    with PO.open("wb") as f:
        write_po(f, catalog, width=0, omit_header=False, ignore_obsolete=True, include_previous=False)
    for path in pending:
        path.unlink()
    for line in unknown:
        print("not in the catalog (left out):", line)
    print(f"merged {len(pending)} pending translation file(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
