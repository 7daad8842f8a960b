"""Workshop outputs (成果): a member submits a case, a class-meeting design, a video or a paper through the portal's
upload pipeline; the host accepts it or returns it with a reason the member reads; an accepted output becomes a draft
course in the studio; a failed upload or a refused submission leaves nothing behind."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.accounts.models import Role, User
from backend.audit.models import AuditEvent
from backend.catalogue import ownership
from backend.catalogue import service as catalogue
from backend.kit.errors import Conflict, Forbidden, InvalidInput, NotFound
from backend.media.models import Upload
from backend.organisation import outputs, workshops
from backend.organisation.models import Workshop, WorkshopOutput
from backend.policies.service import load_policy
from tests.api.helpers import login
from tests.factories import make_user
from tests.media.upload_helpers import leftovers, mp4_bytes, pdf_bytes, picture_bytes, send_all
from tests.organisation.helpers import district_admin
from tests.people.helpers import make_teacher


def _workshop(session: Session, host: User | None = None) -> tuple[Workshop, User, User]:
    """A district workshop hosted by `host` (a trainer unless told), with one member; returns it, host, member."""
    district = district_admin(session)
    host = host or make_user(session, Role.trainer, school_code="S-A", display_name="周主持")
    workshop = workshops.create_workshop(
        session, district, name="区小学班主任工作室", level="district", stage="primary", host_id=host.id
    )
    member = make_teacher(session, "S-A", name="成员甲")
    workshops.add_member(session, district, workshop.id, member.id, "member", "2026-09-01")
    return workshop, host, member


def _uploaded(client: TestClient, token: str, data: bytes, kind: str, filename: str) -> str:
    r = send_all(client, token, data, kind=kind, filename=filename)
    assert r.status_code == 200, r.text
    return str(r.json()["upload_id"])


def _count(session: Session) -> int:
    return session.scalar(select(func.count(WorkshopOutput.id))) or 0


def test_a_member_submits_and_the_host_returns_it_with_a_reason_the_member_reads(
    client: TestClient, session: Session, storage, clock
) -> None:
    workshop, host, member = _workshop(session)
    token = login(client, member.username)
    upload_id = _uploaded(client, token, pdf_bytes(2), "document", "班会设计.pdf")
    r = client.post("/organisation/outputs", data={
        "csrf_token": token, "workshop": str(workshop.id), "kind": "meeting_design", "title": "“感恩”主题班会设计",
        "summary": "三年级主题班会", "document_upload_id": upload_id,
    }, follow_redirects=False)  # fmt: skip
    assert r.status_code == 303, r.text
    output = session.scalar(select(WorkshopOutput))
    assert output is not None and (output.status, output.author_id, output.pages) == ("pending", member.id, 2)
    assert output.media_type == "application/pdf" and storage.exists(output.media_key)
    assert session.get(Upload, uuid.UUID(upload_id)).state == "attached"  # the object is the output's now
    assert client.get(f"/organisation/outputs/{output.id}/file").status_code == 200

    token = login(client, host.username)
    page = client.get(f"/organisation/workshops/{workshop.id}/outputs")
    assert page.status_code == 200 and "“感恩”主题班会设计" in page.text
    r = client.post(f"/organisation/outputs/{output.id}/return", data={"csrf_token": token, "reason": ""})
    assert r.status_code == 422  # a return names its reason
    r = client.post(f"/organisation/outputs/{output.id}/return",
                    data={"csrf_token": token, "reason": "请补充班会实施后的反思"}, follow_redirects=False)  # fmt: skip
    assert r.status_code == 303, r.text
    returned = select(AuditEvent.actor_id).where(AuditEvent.action == "organisation.output_return")
    assert session.scalar(returned) == host.id

    login(client, member.username)
    mine = client.get("/organisation/outputs").text
    assert 'data-status="returned"' in mine and "请补充班会实施后的反思" in mine
    notices = client.get("/notices").text  # the member is told, with the reason, in the header's notices
    assert "“感恩”主题班会设计" in notices and "请补充班会实施后的反思" in notices
    [listed] = client.get("/api/v1/organisation/outputs").json()
    assert (listed["status"], listed["review_reason"], listed["reviewed_by"]) == (
        "returned", "请补充班会实施后的反思", "周主持",
    )  # fmt: skip


def test_a_non_member_cannot_upload_or_submit_and_a_non_host_cannot_review(
    client: TestClient, session: Session, clock
) -> None:
    workshop, host, member = _workshop(session)
    outsider = make_teacher(session, "S-A", name="非成员")
    token = login(client, outsider.username)
    r = client.post("/api/v1/uploads", json={"filename": "a.pdf", "size": 100, "kind": "document"},
                    headers={"X-CSRF-Token": token})  # fmt: skip
    assert r.status_code == 403  # only workshop members (and authors) upload
    with pytest.raises((Forbidden, NotFound)):
        outputs.submit(session, outsider, workshop.id, title="x", kind="case", summary="", upload_id=str(uuid.uuid4()))
    r = client.post(f"/api/v1/organisation/workshops/{workshop.id}/outputs",
                    json={"title": "x", "kind": "case", "upload_id": str(uuid.uuid4())},
                    headers={"X-CSRF-Token": token})  # fmt: skip
    assert r.status_code in (403, 404) and r.json()["detail"]

    token = login(client, member.username)
    upload_id = _uploaded(client, token, pdf_bytes(1), "document", "案例.pdf")
    made = outputs.submit(session, member, workshop.id, title="案例：转化后进生", kind="case", summary="",
                          upload_id=upload_id)  # fmt: skip
    with pytest.raises(Forbidden):
        outputs.accept(session, member, made.id)  # a member is not the host
    with pytest.raises(Forbidden):
        outputs.accept(session, district_admin(session), made.id)  # the district sees it but does not review
    with pytest.raises(NotFound):
        outputs.accept(session, make_user(session, Role.trainer, school_code="S-A"), made.id)
    r = client.post(f"/api/v1/organisation/outputs/{made.id}/accept", headers={"X-CSRF-Token": token})
    assert r.status_code == 403
    assert session.get(WorkshopOutput, made.id).status == "pending"


def test_a_failed_upload_or_a_refused_submission_leaves_no_record_and_no_object(
    client: TestClient, session: Session, storage, clock
) -> None:
    workshop, _host, member = _workshop(session)
    token = login(client, member.username)
    r = send_all(client, token, picture_bytes("PNG"), kind="document", filename="论文.pdf")
    assert r.status_code == 422 and r.json()["error"] == "upload_rejected"
    rejected = session.scalar(select(Upload.id))
    assert rejected is None and leftovers(storage) == []  # the pipeline kept nothing of the rejected file
    form = {"csrf_token": token, "workshop": str(workshop.id), "kind": "paper", "title": "论文", "summary": ""}
    r = client.post("/organisation/outputs", data=form | {"document_upload_id": str(uuid.uuid4())})
    assert r.status_code == 422 and _count(session) == 0

    upload_id = _uploaded(client, token, pdf_bytes(1), "document", "论文.pdf")
    before = leftovers(storage)
    r = client.post("/organisation/outputs", data=form | {"title": "", "document_upload_id": upload_id})
    assert r.status_code == 422 and _count(session) == 0
    r = client.post("/organisation/outputs", data=form | {"kind": "video", "video_upload_id": upload_id})
    assert r.status_code == 422 and _count(session) == 0  # a PDF is not a video
    # Nothing new in storage, and the upload is still the member's, ready to use (or swept if never used).
    assert leftovers(storage) == before and session.get(Upload, uuid.UUID(upload_id)).state == "ready"
    r = client.post("/organisation/outputs", data=form | {"document_upload_id": upload_id}, follow_redirects=False)
    assert r.status_code == 303 and _count(session) == 1


def test_promoting_an_accepted_video_makes_a_draft_course_owned_by_the_trainer_host(
    client: TestClient, session: Session, storage, clock, tmp_path: Path
) -> None:
    workshop, host, member = _workshop(session)
    token = login(client, member.username)
    upload_id = _uploaded(client, token, mp4_bytes(tmp_path, seconds=3), "video", "班会实录.mp4")
    made = outputs.submit(session, member, workshop.id, title="主题班会实录", kind="video", summary="实录与点评",
                          upload_id=upload_id)  # fmt: skip
    policy = load_policy(session)
    with pytest.raises(Conflict):  # only an accepted output is promoted
        outputs.promote(session, host, made.id, policy)
    outputs.accept(session, host, made.id)
    outputs.promote(session, host, made.id, policy)
    course = catalogue.get_course(session, session.get(WorkshopOutput, made.id).course_id)
    assert (course.status, course.title, course.tier) == ("draft", "主题班会实录", "compass")
    assert ownership.owner_ids(session, course.code) == [host.id]
    [lesson] = course.lessons
    assert (lesson.kind, lesson.media_key, lesson.media_type) == ("video", made.media_key, "video/mp4")
    assert lesson.duration_ms == made.duration_ms and 2900 <= (lesson.duration_ms or 0) <= 3100
    assert storage.exists(lesson.media_key)


def test_a_teacher_host_names_the_trainer_who_owns_the_promoted_course(
    client: TestClient, session: Session, clock
) -> None:
    teacher_host = make_teacher(session, "S-A", name="教师主持人")
    workshop, host, member = _workshop(session, host=teacher_host)
    token = login(client, member.username)
    upload_id = _uploaded(client, token, pdf_bytes(3), "document", "论文.pdf")
    made = outputs.submit(session, member, workshop.id, title="班级文化建设研究", kind="paper", summary="",
                          upload_id=upload_id)  # fmt: skip
    outputs.accept(session, host, made.id)
    policy = load_policy(session)
    with pytest.raises(InvalidInput) as missing:
        outputs.promote(session, host, made.id, policy)  # a teacher does not author courses: a trainer must own it
    assert set(missing.value.fields) == {"owner"}
    trainer = make_user(session, Role.trainer, school_code=None, display_name="李德研员")
    token = login(client, host.username)
    r = client.post(f"/api/v1/organisation/outputs/{made.id}/promote", json={"owner_id": trainer.id},
                    headers={"X-CSRF-Token": token})  # fmt: skip
    assert r.status_code == 200, r.text
    course = catalogue.get_course(session, r.json()["course_id"])
    assert course.status == "draft" and ownership.owner_ids(session, course.code) == [trainer.id]
    assert [(lesson.kind, lesson.pages) for lesson in course.lessons] == [("document", 3)]
    r = client.post(f"/api/v1/organisation/outputs/{made.id}/promote", json={"owner_id": trainer.id},
                    headers={"X-CSRF-Token": token})  # fmt: skip
    assert r.status_code == 409  # promoted once


def test_a_member_finds_their_workshop_and_outputs_on_my_learning_and_others_do_not(
    client: TestClient, session: Session, clock
) -> None:
    workshop, _host, member = _workshop(session)
    outsider = make_teacher(session, "S-A", name="非成员")
    session.commit()
    login(client, member.username)
    page = client.get("/learning").text
    assert 'id="my-workshops"' in page and workshop.name in page and 'href="/organisation/outputs"' in page
    client.cookies.clear()
    login(client, outsider.username)
    assert 'id="my-workshops"' not in client.get("/learning").text
