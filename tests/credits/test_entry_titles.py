"""Entries from hours earned elsewhere and from offline sessions are named after what they are: the administrator
verifying a page of them, and the teacher reading 我的学时, see the record's and the session's titles, not only
"external hours" and "offline session"."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.accounts.models import Role
from backend.credits import workflow
from backend.credits.models import LedgerEntry
from backend.training import service as training
from tests.api.helpers import login
from tests.factories import make_user
from tests.training.helpers import make_session

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
RECORD_TITLE = "上海市班主任专业能力提升培训"
SESSION_TITLE = "家校沟通中的倾听与回应"


def test_queue_ledger_and_entry_page_name_the_record_and_the_session(client, session: Session) -> None:
    teacher = make_user(session, Role.teacher, "T-01", display_name="钱晓红")
    admin = make_user(session, Role.school_admin, "T-01")
    ts = make_session(session, admin, title=SESSION_TITLE)
    training.mark_attendance(session, admin, ts, user_ids=[teacher.id])

    token = login(client, teacher.username)
    form = {"title": RECORD_TITLE, "hours": "8", "category": "knowledge_skills", "level": "city",
            "earned_on": "2026-10-15", "csrf_token": token}  # fmt: skip
    r = client.post("/credits/external", data=form, files={"file": ("证明.pdf", PDF, "application/pdf")})
    assert r.status_code == 200
    mine = client.get("/credits/mine").text
    ledger, external = mine.split('id="ledger-h"', 1)[1].split('id="external"', 1)
    assert RECORD_TITLE in ledger and SESSION_TITLE in ledger
    assert "2026年10月15日" in external  # the day it was earned, written as dates are everywhere

    login(client, admin.username)
    queue = client.get("/credits/queue").text
    items = re.findall(r'<a href="/credits/entries/(\d+)">([^<]+)</a>', queue)
    assert sorted(title for _id, title in items) == sorted([RECORD_TITLE, SESSION_TITLE])
    external = session.scalars(select(LedgerEntry).where(LedgerEntry.source == "external")).one()
    assert re.search(rf"<h1>\s*{RECORD_TITLE}\s*</h1>", client.get(f"/credits/entries/{external.id}").text)


def test_an_entry_whose_record_or_session_is_unknown_keeps_its_source_label(session: Session) -> None:
    refs = [("external", "external:999999"), ("offline_session", "training:999999:user:1"),
            ("offline_session", "offline:1:user:1"), ("course_completion", "enrollment:1")]  # fmt: skip
    assert workflow.source_titles(session, refs) == {}
