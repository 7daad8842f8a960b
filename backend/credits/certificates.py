"""Certificates (issue 5): for a completed course, the completed induction programme, and a year's certified hours.

- Issuing is idempotent by subject: asking again for the same course / induction / year returns the live
  certificate (a unique index on `subject` among unrevoked rows also settles two requests racing).
- Numbers look like SJBZR-2026-7K3MX9QD: eight random Crockford base-32 characters (2^40 per year), so a number
  cannot be guessed from another one and the rate-limited public check cannot be used to list certificates.
- The public check (/verify/<number>) tells valid / revoked / unknown, the holder's masked name and the hours, the
  certificate's kind, its course, programme or year and the day of issue (issue 18),
  nothing more; a revoked certificate shows only its masked name.
- Revocation is a district admin's act with a reason, recorded in the audit log with the issuing.
- The PDF is drawn on request from the certificate's own copy of what it states (`render_pdf`), so it reads the
  same on every download; the QR code links to the public check.

Scope: a teacher sees and downloads only their own certificates; a school admin those of their school's teachers;
a district admin every certificate. Certificates outside the actor's scope are reported as not found.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.accounts.models import Role, User
from backend.accounts.scope import in_school_scope
from backend.audit import describe as audit_describe
from backend.audit import service as audit
from backend.catalogue import service as catalogue
from backend.credits import hours, programs
from backend.credits.certificate_models import Certificate
from backend.kit import clock
from backend.kit.errors import AppError, Conflict, Forbidden, InvalidInput, NotFound
from backend.kit.i18n import _
from backend.kit.pagination import Page, paginate
from backend.people.models import School, TeacherProfile
from backend.people.records import scope, teacher_filter
from backend.policies.service import Policy

NUMBER_PREFIX = "SJBZR"  # 松江班主任
# Crockford base 32: no I, L, O or U, so a number read aloud or typed from paper is not mistaken.
NUMBER_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
NUMBER_RE = re.compile(rf"^{NUMBER_PREFIX}-\d{{4}}-[{NUMBER_ALPHABET}]{{8}}$")
REASON_MAX = 500

KINDS = {
    "course": _("Course completion certificate"),
    "induction": _("Induction training certificate"),
    "year_hours": _("Certificate of certified hours"),
}
INDUCTION_TITLE = "初任班主任上岗培训"  # the programme's name as printed (DOMAIN.md, Induction)
# DOMAIN.md, People and roles: the district admin's office. The site's footer names the same office (base.html; a
# test holds the two together).
ISSUER = "松江区德育发展中心"


class CertificateFontMissing(AppError):
    status_code = 503
    code = "font_missing"


# ---------------------------------------------------------------------------------------------------------------
# Numbers and names


def new_number(year: int) -> str:
    return f"{NUMBER_PREFIX}-{year}-{''.join(secrets.choice(NUMBER_ALPHABET) for _ in range(8))}"


def normalize_number(raw: str) -> str | None:
    """The number as stored, from what a person typed or a QR code carried; None when it cannot be one."""
    number = raw.strip().upper()
    return number if NUMBER_RE.match(number) else None


def mask_name(name: str) -> str:
    """张晓明 → 张*明, 李明 → 李*, 欧阳晓明 → 欧**明: enough to recognise, not enough to identify."""
    name = name.strip()
    if len(name) <= 1:
        return "*"
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


# ---------------------------------------------------------------------------------------------------------------
# Scope


def _may_see(actor: User, holder: User) -> bool:
    if actor.id == holder.id or actor.role == Role.district_admin:
        return True
    return in_school_scope(actor, holder)


# ---------------------------------------------------------------------------------------------------------------
# Issuing


def _live(session: Session, subject: str) -> Certificate | None:
    return session.scalar(select(Certificate).where(Certificate.subject == subject, Certificate.revoked_at.is_(None)))


def _issue(
    session: Session,
    *,
    actor: User,
    holder: User,
    kind: str,
    subject: str,
    title: str,
    hours: Decimal,
    course_id: int | None = None,
    year: int | None = None,
) -> Certificate:
    existing = _live(session, subject)
    if existing is not None:
        return existing
    now = clock.now()
    for _attempt in range(3):
        certificate = Certificate(
            number=new_number(clock.local_year(now)),
            kind=kind,
            subject=subject,
            user_id=holder.id,
            holder_name=holder.display_name,
            staff_no=session.scalar(select(TeacherProfile.staff_no).where(TeacherProfile.user_id == holder.id)),
            title=title,
            hours=hours,
            course_id=course_id,
            year=year,
            issued_at=now,
            issued_by_id=actor.id,
        )
        try:
            with session.begin_nested():
                session.add(certificate)
        except IntegrityError:
            # Either another request issued this subject a moment ago, or (once in 2^40) the number was taken.
            existing = _live(session, subject)
            if existing is not None:
                return existing
            continue
        audit.record(
            session,
            "certificate.issue",
            actor_id=actor.id,
            subject_type="certificate",
            subject_id=certificate.id,
            school_id=holder.school_id,
            on_behalf_of_id=holder.id if holder.id != actor.id else None,
            after={"number": certificate.number, "kind": kind, "hours": str(hours), "subject": subject},
        )
        return certificate
    raise Conflict(_("This changed at the same moment elsewhere. Please try again."))


@dataclass(frozen=True)
class Claimable:
    """A certificate the teacher has earned but not yet taken."""

    kind: str
    title: str
    hours: Decimal
    course_id: int | None = None


# Which courses a teacher has completed (their ids, the most recently enrolled first). Learning decides completion and
# sits above the ledger it writes; it registers the answer here (learning/service.py), so credits imports nothing of it.
CompletedCourses = Callable[[Session, int], list[int]]
completed_courses: list[CompletedCourses] = []


def _completed_courses(session: Session, user_id: int) -> list[tuple[int, Decimal]]:
    """Courses the teacher completed whose hours the district has certified, with those hours (net of corrections).

    A course certificate waits for certification rather than printing "待认定": a certificate is a document that
    leaves the portal, and the hours it states must be hours that count (issue 13). Until then the teacher's pages
    show the course's hours as awaiting certification."""
    credited = hours.certified_courses(session, user_id)
    if not completed_courses:
        raise RuntimeError("nobody says which courses are completed: is backend.learning imported?")
    completed = [course_id for source in completed_courses for course_id in source(session, user_id)]
    return [(course_id, credited[course_id]) for course_id in completed if course_id in credited]


def claimable(session: Session, user: User, policy: Policy) -> list[Claimable]:
    taken = set(
        session.scalars(
            select(Certificate.subject).where(Certificate.user_id == user.id, Certificate.revoked_at.is_(None))
        )
    )
    result = []
    for course_id, counted in _completed_courses(session, user.id):
        if f"course:{course_id}:user:{user.id}" not in taken:
            course = catalogue.get_course(session, course_id, with_lessons=False)
            result.append(Claimable("course", course.title, counted, course_id))
    if f"induction:user:{user.id}" not in taken:
        progress = programs.induction_progress(session, user.id, policy)
        if progress.complete:
            result.append(Claimable("induction", INDUCTION_TITLE, progress.hours))
    return result


def issue_course_certificate(session: Session, user: User, course_id: int) -> Certificate:
    """A teacher takes the certificate of a course they completed (and whose hours count)."""
    hours = dict(_completed_courses(session, user.id)).get(course_id)
    if hours is None:
        raise Conflict(_("A certificate is issued once the course is completed and its hours are certified."))
    course = catalogue.get_course(session, course_id, with_lessons=False)
    return _issue(
        session,
        actor=user,
        holder=user,
        kind="course",
        subject=f"course:{course_id}:user:{user.id}",
        title=course.title,
        hours=hours,
        course_id=course_id,
    )


def issue_induction_certificate(session: Session, user: User, policy: Policy) -> Certificate:
    progress = programs.induction_progress(session, user.id, policy)
    if not progress.complete:
        raise Conflict(
            _(
                "The induction certificate is issued once every condition is met: certified hours, all eight topics, "
                "the assessment and the trainee year."
            )
        )
    return _issue(
        session,
        actor=user,
        holder=user,
        kind="induction",
        subject=f"induction:user:{user.id}",
        title=INDUCTION_TITLE,
        hours=progress.hours,
    )


def certified_hours(session: Session, user_id: int, year: int) -> Decimal:
    """Hours the district certified for the year, net of corrections (`backend.credits.hours`)."""
    return hours.teacher_total(session, user_id, year=year).certified


@dataclass(frozen=True)
class Candidate:
    id: int
    name: str
    staff_no: str | None
    school: str | None


class SeveralTeachers(InvalidInput):
    """More than one teacher in scope answers to what was typed: the form offers them to choose from."""

    def __init__(self, candidates: list[Candidate]) -> None:
        super().__init__(
            _("Please correct the marked fields."),
            fields={"username": _("Several teachers match: choose one below, or type the staff number.")},
        )
        self.candidates = candidates


CANDIDATES = 10


def find_teacher(session: Session, actor: User, who: str, chosen_id: int | None = None) -> User | None:
    """The teacher an administrator means by a name (王老师), a staff number (工号) or a username, within their
    scope (issue 18). An exact match wins; otherwise names and staff numbers containing the text. Several: raises
    SeveralTeachers with up to ten to choose from. `chosen_id`: the one picked from that list."""
    if chosen_id is not None:
        holder = session.get(User, chosen_id)
        return holder if holder is not None and _may_see(actor, holder) else None
    text = who.strip()
    if not text:
        return None
    # A username names one account exactly, whatever its role (an administrator may hold hours too).
    named = session.scalar(select(User).where(User.username == text))
    if named is not None and _may_see(actor, named):
        return named
    base = (
        select(User, TeacherProfile.staff_no, School.name)
        .outerjoin(TeacherProfile, TeacherProfile.user_id == User.id)
        .outerjoin(School, School.id == User.school_id)
        .order_by(User.display_name, User.id)
        .limit(CANDIDATES + 1)
    )
    exact = or_(TeacherProfile.staff_no == text, User.display_name == text)
    rows = session.execute(base.where(*teacher_filter(actor), exact)).all()
    if not rows:
        rows = session.execute(base.where(*teacher_filter(actor, query=text))).all()
    if len(rows) == 1:
        return rows[0][0]  # type: ignore[no-any-return]
    if len(rows) > 1:
        raise SeveralTeachers([Candidate(u.id, u.display_name, no, school) for u, no, school in rows[:CANDIDATES]])
    return None


def issue_year_certificate(
    session: Session, actor: User, who: str, year_text: str, chosen_id: int | None = None
) -> Certificate:
    """An administrator issues the certificate of a teacher's certified hours for one year. `who`: the teacher's
    name, staff number or username (see find_teacher)."""
    scope(actor)  # refuses teachers and trainers
    errors: dict[str, str] = {}
    holder = find_teacher(session, actor, who, chosen_id)
    if holder is None:
        errors["username"] = _("No teacher with this name, staff number or username in your scope.")
    elif holder.id == actor.id:
        # Separation of duties (issue 13): an administrator's own certificate is issued by another administrator.
        errors["username"] = _("You cannot issue a certificate to yourself; another administrator does.")
    year = int(year_text) if year_text.strip().isdigit() else None
    if year is None or not 2000 <= year <= clock.local_year(clock.now()):
        errors["year"] = _("Enter a year between 2000 and this year.")
    if errors:
        raise InvalidInput(_("Please correct the marked fields."), fields=errors)
    assert holder is not None and year is not None
    hours = certified_hours(session, holder.id, year)
    if hours <= 0:
        raise InvalidInput(
            _("Please correct the marked fields."),
            fields={"year": _("This teacher has no certified hours in this year.")},
        )
    return _issue(
        session,
        actor=actor,
        holder=holder,
        kind="year_hours",
        subject=f"year:{year}:user:{holder.id}",
        title=f"{year}年度班主任培训学时",
        hours=hours,
        year=year,
    )


# ---------------------------------------------------------------------------------------------------------------
# Reading


def mine(session: Session, user: User) -> list[Certificate]:
    return list(
        session.scalars(
            select(Certificate)
            .where(Certificate.user_id == user.id)
            .order_by(Certificate.issued_at.desc(), Certificate.id)
        )
    )


def _get(session: Session, number: str) -> Certificate:
    normal = normalize_number(number)
    certificate = session.scalar(select(Certificate).where(Certificate.number == normal)) if normal else None
    if certificate is None:
        raise NotFound(_("This certificate does not exist."))
    return certificate


def for_actor(session: Session, actor: User, number: str) -> tuple[Certificate, User]:
    """A certificate its holder or an administrator in scope may open; anyone else is refused."""
    certificate = _get(session, number)
    holder = session.get(User, certificate.user_id)
    assert holder is not None
    if not _may_see(actor, holder):
        raise Forbidden(_("This certificate belongs to someone else."))
    return certificate, holder


def for_download(session: Session, actor: User, number: str) -> Certificate:
    certificate, _holder = for_actor(session, actor, number)
    if certificate.revoked_at is not None:
        raise Conflict(_("This certificate was revoked and can no longer be downloaded."))
    return certificate


def current_hours(session: Session, certificate: Certificate, policy: Policy) -> Decimal:
    """What the ledger says today about the certificate's subject. A certificate keeps the hours of the day it was
    issued; when the ledger has moved since (a correction, more hours certified), an administrator revokes it and
    issues a new one."""
    if certificate.kind == "year_hours" and certificate.year is not None:
        return certified_hours(session, certificate.user_id, certificate.year)
    if certificate.kind == "course" and certificate.course_id is not None:
        return hours.certified_courses(session, certificate.user_id).get(certificate.course_id, Decimal("0"))
    return programs.induction_progress(session, certificate.user_id, policy).hours


@dataclass(frozen=True)
class AdminRow:
    certificate: Certificate
    username: str


def admin_list(session: Session, actor: User, *, query: str | None = None, page: int = 1) -> Page[AdminRow]:
    conditions = [scope(actor)]
    q = (query or "").strip()
    if q:
        like = f"%{q}%"
        conditions.append(
            or_(Certificate.number == q.upper(), Certificate.holder_name.like(like), User.username.like(like))
        )
    rows = (
        select(Certificate, User.username)
        .join(User, User.id == Certificate.user_id)
        .where(*conditions)
        .order_by(Certificate.issued_at.desc(), Certificate.id.desc())
    )
    return paginate(session, rows, page).map(lambda row: AdminRow(*row))


# ---------------------------------------------------------------------------------------------------------------
# Revoking


def revoke(session: Session, actor: User, number: str, reason: str, address: str | None = None) -> Certificate:
    if actor.role != Role.district_admin:
        raise Forbidden(_("Only a district administrator can revoke a certificate."))
    certificate = _get(session, number)
    reason = reason.strip()
    if not reason:
        raise InvalidInput(
            _("Please correct the marked fields."), fields={"reason": _("Give the reason for revoking.")}
        )
    if len(reason) > REASON_MAX:
        raise InvalidInput(
            _("Please correct the marked fields."),
            fields={"reason": _("The reason is too long (at most 500 characters).")},
        )
    if certificate.revoked_at is not None:
        raise Conflict(_("This certificate was already revoked."))
    holder = session.get(User, certificate.user_id)
    certificate.revoked_at = clock.now()
    certificate.revoked_by_id = actor.id
    certificate.revoke_reason = reason
    session.flush()
    audit.record(
        session,
        "certificate.revoke",
        actor_id=actor.id,
        subject_type="certificate",
        subject_id=certificate.id,
        school_id=holder.school_id if holder else None,
        address=address,
        before={"number": certificate.number, "status": "valid"},
        after={"number": certificate.number, "status": "revoked", "reason": reason},
    )
    return certificate


# ---------------------------------------------------------------------------------------------------------------
# The public check


@dataclass(frozen=True)
class Verification:
    number: str
    status: str  # valid | revoked | unknown
    holder: str | None = None  # masked
    hours: Decimal | None = None  # valid certificates only
    kind: str | None = None  # a msgid of KINDS: what sort of certificate it is
    about: str | None = None  # what it was issued for: the course's title or the programme (not for a year's hours)
    year: int | None = None  # a year's hours: which year
    issued_on: datetime | None = None


def verify(session: Session, number: str) -> Verification:
    normal = normalize_number(number)
    certificate = session.scalar(select(Certificate).where(Certificate.number == normal)) if normal else None
    shown = normal or number.strip()[:40]
    if certificate is None:
        return Verification(shown, "unknown")
    if certificate.revoked_at is not None:
        return Verification(certificate.number, "revoked", mask_name(certificate.holder_name))
    yearly = certificate.kind == "year_hours"
    return Verification(
        certificate.number, "valid", mask_name(certificate.holder_name), certificate.hours,
        KINDS.get(certificate.kind), None if yearly else certificate.title, certificate.year if yearly else None,
        certificate.issued_at,
    )  # fmt: skip


# ---------------------------------------------------------------------------------------------------------------
# The PDF
#
# fpdf2 draws it: it embeds a subset of the font (only the glyphs used, ~15 KB), reads OpenType fonts with CFF
# outlines such as Debian's Noto CJK collection (.ttc, face chosen by `collection_font_number`) through fontTools,
# and writes ToUnicode maps, so the text can be searched and copied. The QR code (segno) is drawn as vector squares.

FONT_DIRS = (Path("/usr/share/fonts/opentype/noto"), Path("/usr/share/fonts/truetype/noto"))
# One face: reading a 65,000-glyph CJK font and subsetting it is most of the ~1 s a PDF takes, so headings are
# drawn bold by stroking the regular face's outlines rather than by loading the Bold face as well.
FONT_FILES = ("NotoSerifCJK-Regular.ttc", "NotoSansCJK-Regular.ttc")
ACCENT = (120, 40, 14)
INK = (30, 30, 30)


@lru_cache
def _font() -> tuple[str, int]:
    """The Simplified Chinese face of the first Noto CJK collection found: (path, index in the collection)."""
    from fontTools.ttLib import TTCollection

    for directory in FONT_DIRS:
        for name in FONT_FILES:
            path = directory / name
            if path.exists():
                collection = TTCollection(str(path), lazy=True)
                for index, face in enumerate(collection.fonts):
                    family = face["name"].getDebugName(1) or ""
                    if family.endswith(" SC") and "Mono" not in family:
                        return str(path), index
    raise CertificateFontMissing(_("The certificate font is not installed (fonts-noto-cjk)."))


def salutation(name: str) -> str:
    """How the certificate addresses its holder: 王芳 老师：, but 王老师： when the name already says 老师."""
    name = name.strip()
    return f"{name}：" if name.endswith("老师") else f"{name} 老师："


def _date(moment: datetime) -> str:
    local = moment.astimezone(clock.SHANGHAI)
    return f"{local.year}年{local.month}月{local.day}日"


def _hours(value: Decimal) -> str:
    return f"{Decimal(value).quantize(Decimal('0.1'))}"


def _body(certificate: Certificate) -> tuple[str, str, str]:
    """The heading, the sentence and the label of the hours line, as printed."""
    if certificate.kind == "course":
        title = certificate.title if len(certificate.title) <= 60 else certificate.title[:59] + "…"
        return "结业证书", f"完成课程《{title}》的学习，成绩合格，特发此证。", "获得培训学时"
    if certificate.kind == "induction":
        return "上岗培训合格证书", f"完成{INDUCTION_TITLE}，覆盖全部八个培训专题，成绩合格，特发此证。", "累计培训学时"
    return "学时证明", f"于{certificate.year}年度参加班主任培训，经区级认定，特发此证。", "认定学时"


# Characters that may not begin a line in Chinese (避头点): a break before one moves it up to the line before.
NO_LINE_START = frozenset("，。、；：？！）》」』”’…%")
MM = 72 / 25.4  # the document is laid out in points (see render_pdf); measurements below are in millimetres


def _lines(measure: Callable[[str], float], sentence: str, width: float) -> list[str]:
    """Wraps a Chinese sentence character by character within `width`, never starting a line with punctuation."""
    lines, current = [], ""
    for char in sentence:
        if current and measure(current + char) > width and char not in NO_LINE_START:
            lines.append(current)
            current = ""
        current += char
    return [*lines, current] if current else lines


def render_pdf(certificate: Certificate, verify_url: str) -> bytes:
    """An A4 landscape certificate. Laid out in points: fpdf2 writes the stroke width of bold text as given, in
    points, whatever the document's unit, so with points the faux-bold strokes mean what they say."""
    import segno
    from fpdf import FPDF
    from fpdf.enums import TextMode

    path, index = _font()
    pdf = FPDF(orientation="L", unit="pt", format="A4")
    pdf.set_creation_date(certificate.issued_at)
    pdf.set_title(f"{_body(certificate)[0]} {certificate.number}")
    pdf.set_author(ISSUER)
    pdf.set_auto_page_break(False)
    pdf.set_margin(0)
    pdf.add_font("cjk", "", path, collection_font_number=index)
    pdf.add_page()
    width, height = pdf.w / MM, pdf.h / MM  # 297 × 210

    def text(size: float, colour: tuple[int, int, int], *, bold: bool = False) -> None:
        pdf.set_font("cjk", "", size)
        pdf.set_text_color(*colour)
        pdf.text_mode = TextMode.FILL_STROKE if bold else TextMode.FILL
        if bold:  # stroking the outlines of the regular face: one font to load instead of two
            pdf.set_draw_color(*colour)
            pdf.set_line_width(size * 0.03)

    def cell(x: float, y: float, w: float, h: float, content: str, align: str = "L") -> float:
        """Draws one line of text in a box given in millimetres; returns the text's width in millimetres."""
        pdf.set_xy(x * MM, y * MM)
        pdf.cell(w * MM, h * MM, content, align=align)
        return pdf.get_string_width(content) / MM

    def box(x: float, y: float, w: float, h: float, line: float) -> None:
        pdf.set_line_width(line * MM)
        pdf.rect(x * MM, y * MM, w * MM, h * MM)

    # Frame: a wide border in the portal's accent colour and a thin inner line.
    pdf.set_draw_color(154, 52, 18)
    box(10, 10, width - 20, height - 20, 2.2)
    box(15, 15, width - 30, height - 30, 0.4)

    heading, sentence, hours_label = _body(certificate)
    text(13, ACCENT)
    cell(20, 26, width - 40, 8, "松江区班主任网络研修平台", "C")
    text(38, ACCENT, bold=True)
    cell(20, 40, width - 40, 20, heading, "C")

    text(22, INK, bold=True)
    cell(40, 76, width - 80, 12, salutation(certificate.holder_name))
    text(17, INK)
    y = 93.0
    for line in _lines(lambda t: pdf.get_string_width(t) / MM, sentence, width - 104):
        cell(52, y, width - 104, 10, line)
        y += 10

    # The hours, large: the number a reader looks for.
    y = max(y + 4, 116)
    x = 52.0
    x += cell(x, y + 3, 60, 10, hours_label + "：") + 1
    text(28, ACCENT, bold=True)
    x += cell(x, y, 40, 16, _hours(certificate.hours)) + 2
    text(17, INK)
    cell(x, y + 3, 20, 10, "学时")

    # Number, date and issuer on the left; the QR code to the public check on the right.
    text(12, (60, 60, 60))
    facts = [f"证书编号：{certificate.number}", f"发证日期：{_date(certificate.issued_at)}", f"发证单位：{ISSUER}"]
    if certificate.staff_no:
        facts.insert(0, f"工号：{certificate.staff_no}")
    for i, fact in enumerate(facts):
        cell(40, 166 - 8 * (len(facts) - 1 - i), 120, 8, fact)

    size = 40.0
    qr = segno.make(verify_url, error="m", micro=False)
    left, top = width - 40 - size, 138.0
    modules = len(qr.matrix)
    unit = size / modules
    pdf.set_fill_color(0, 0, 0)
    for row, bits in enumerate(qr.matrix):
        col = 0
        while col < modules:
            if bits[col]:
                start = col
                while col < modules and bits[col]:
                    col += 1
                # One rectangle per run of dark modules, overlapping a hair so no hairline gaps show.
                pdf.rect(
                    (left + start * unit) * MM,
                    (top + row * unit) * MM,
                    ((col - start) * unit + 0.02) * MM,
                    (unit + 0.02) * MM,
                    style="F",
                )
            else:
                col += 1
    text(9, (60, 60, 60))
    cell(left - 10, top + size + 2, size + 20, 5, "扫码验证证书真伪", "C")
    return bytes(pdf.output())


def _audit_names(session: Session, ids: list[str]) -> dict[str, audit_describe.Subject]:
    """Certificates as the audit log names them: number, holder and title, linked to the admin's page (issue 18)."""
    numbers = [int(i) for i in ids if i.isdigit()]
    rows = session.execute(
        select(Certificate.id, Certificate.number, Certificate.holder_name, Certificate.title)
        .where(Certificate.id.in_(numbers))
    ).all()  # fmt: skip
    return {
        str(cid): audit_describe.Subject(f"{number} · {holder} · {title}", f"/admin/certificates/{number}")
        for cid, number, holder, title in rows
    }


audit_describe.register_subject("certificate", _audit_names)
