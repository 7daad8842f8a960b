"""Every message id in code and templates has a Chinese translation that keeps its placeholders.

The extraction here is the one `make i18n` runs: same babel.cfg, same keywords (read from the Makefile's
I18N_KEYWORDS line). When this fails with missing ids, run `make i18n` and translate the empty or fuzzy
entries in backend/locale/zh_CN/LC_MESSAGES/messages.po.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

from backend.kit.i18n import LOCALE_DIR, translate

ROOT = Path(__file__).resolve().parent.parent
ZH_PO = LOCALE_DIR / "zh_CN" / "LC_MESSAGES" / "messages.po"
PLACEHOLDER = re.compile(r"%\((\w+)\)[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]")


def _keywords() -> list[str]:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    match = re.search(r"^I18N_KEYWORDS\s*:?=(.*)$", makefile, re.MULTILINE)
    assert match, "the Makefile has no I18N_KEYWORDS line (the i18n target's extraction keywords)"
    keywords = match.group(1).split()
    assert "_" in keywords
    return keywords


def _texts(value: str | tuple[str, ...] | list[str] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    pot = tmp_path_factory.mktemp("i18n") / "messages.pot"
    argv = ["pybabel", "-q", "extract", "-F", str(ROOT / "babel.cfg"), "-o", str(pot)]
    for keyword in _keywords():
        argv += ["-k", keyword]
    CommandLineInterface().run([*argv, str(ROOT)])
    with pot.open("rb") as fh:
        catalog = read_po(fh)
    assert len([m for m in catalog if m.id]) > 50, "extraction found suspiciously few messages"
    return catalog


@pytest.fixture(scope="module")
def zh_cn() -> Catalog:
    with ZH_PO.open("rb") as fh:
        return read_po(fh, locale="zh_CN")


def test_every_extracted_message_has_a_chinese_translation(extracted: Catalog, zh_cn: Catalog) -> None:
    missing = []
    for message in extracted:
        if not message.id:
            continue
        translated = zh_cn.get(message.id)
        strings = _texts(translated.string) if translated is not None else []
        if translated is None or translated.fuzzy or not strings or not all(s.strip() for s in strings):
            missing.append(message.id)
    assert not missing, (
        f"{len(missing)} message id(s) have no (or only a fuzzy) zh_CN translation; run `make i18n` and "
        f"translate them in {ZH_PO.relative_to(ROOT)}:\n" + "\n".join(f"  {m!r}" for m in missing)
    )


def test_the_dynamic_ids_are_in_the_catalog(zh_cn: Catalog) -> None:
    # Built at run time in templates (`_(entry.source)`, `_("status_" ~ entry.status)`, `_(tier.name)`):
    # backend/locale/extra_messages.py and backend/policies/taxonomy.py keep them extractable.
    from backend.policies.taxonomy import CREDIT_CATEGORIES, TIERS, TOPICS

    ids = [f"status_{s}" for s in ("pending", "verified", "certified", "rejected")]
    ids += ["course_completion", "offline_session", "external", "adjustment"]
    ids += [label.name for label in (*TIERS, *TOPICS, *CREDIT_CATEGORIES)]
    ids += [label.blurb for label in TIERS]
    missing = [i for i in ids if i not in zh_cn or not zh_cn[i].string or zh_cn[i].fuzzy]
    assert not missing, f"no zh_CN translation for {missing}"


def test_translations_keep_the_placeholders(zh_cn: Catalog) -> None:
    wrong = []
    for message in zh_cn:
        if not message.id:
            continue
        for msgid, msgstr in zip(_texts(message.id), _texts(message.string), strict=False):
            if not msgstr:
                continue
            expected = sorted(PLACEHOLDER.findall(msgid))
            if sorted(PLACEHOLDER.findall(msgstr)) != expected:
                wrong.append(f"{msgid!r} -> {msgstr!r}: placeholders differ")
            elif msgid.count("%%") != msgstr.count("%%"):
                wrong.append(f"{msgid!r} -> {msgstr!r}: literal %% differs")
            elif expected:
                try:
                    msgstr % {name: "x" for name in expected}
                except (ValueError, TypeError, KeyError) as exc:
                    wrong.append(f"{msgid!r} -> {msgstr!r}: does not format ({exc})")
    assert not wrong, "zh_CN translations that break formatting:\n" + "\n".join(f"  {w}" for w in wrong)


def test_translate_reads_the_zh_cn_catalog() -> None:
    assert translate("zh_CN", "My learning") == "我的学习"
    assert translate("zh_CN", "Attempts left: %(n)s", n=2) == "剩余作答次数：2"
    assert translate("en", "My learning") == "My learning"
