"""How the audit page tells a Chinese administrator what happened (issue 18): the event's name, the object by its
name with a link, and the details as a list of "what: before → after".

Events are stored as codes (`ledger.certify`, subject `ledger_entry` 8, details as JSON); this module only reads
them. Objects of other domains are named by the domain that owns them: it registers a resolver for its subject type
(`register_subject("course", names_of_courses)`), so the audit package imports no domain above it. A setting's
details (policy) are described the same way (`register_details`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from backend.audit.models import AuditEvent
from backend.kit.i18n import _


@dataclass(frozen=True)
class Subject:
    name: str
    href: str | None = None
    msgid: bool = False  # the name is a message id (a setting's name), translated for the reader


# A resolver takes the subject ids of one type (strings, as stored) and names those it knows.
Resolver = Callable[[Session, list[str]], dict[str, Subject]]
# A details describer: (key, value, translate) -> (what, value in words), or None to use the generic reading.
DetailDescriber = Callable[[str, Any, Callable[..., str]], tuple[str, str] | None]
_RESOLVERS: dict[str, Resolver] = {}
_DETAILS: dict[str, DetailDescriber] = {}


def register_subject(subject_type: str, resolver: Resolver) -> None:
    _RESOLVERS[subject_type] = resolver


def register_details(subject_type: str, describer: DetailDescriber) -> None:
    _DETAILS[subject_type] = describer


# Event names (msgids), as the log's reader says them.
ACTIONS = {
    "auth.login": _("Signed in"),
    "auth.login_password_ok": _("Password accepted, second step pending"),
    "auth.login_failed": _("Sign-in failed"),
    "auth.lockout": _("Sign-in locked after failures"),
    "auth.logout": _("Signed out"),
    "auth.logout_everywhere": _("Signed out on every device"),
    "auth.recovery_code_used": _("Signed in with a recovery code"),
    "auth.password_changed": _("Changed own password"),
    "auth.password_reset": _("Reset a password"),
    "auth.role_changed": _("Changed a role"),
    "auth.2fa_enrolled": _("Turned on two-factor sign-in"),
    "auth.2fa_disabled": _("Turned off two-factor sign-in"),
    "auth.sso_refused": _("Unified identity sign-in refused"),
    "auth.sso_linked": _("Unified identity linked to an account"),
    "auth.sso_created": _("Account created by unified identity sign-in"),
    "token.create": _("Created an integration token"),
    "token.revoke": _("Revoked an integration token"),
    "token.use": _("Integration token used"),
    "token.refused": _("Integration token refused"),
    "ledger.submit_external": _("Submitted hours earned elsewhere"),
    "ledger.verify": _("Verified hours"),
    "ledger.certify": _("Certified hours"),
    "ledger.reject": _("Sent hours back"),
    "ledger.reverse": _("Reversed hours"),
    "ledger.resubmit_external": _("Resubmitted hours after changes"),
    "certificate.issue": _("Issued a certificate"),
    "certificate.revoke": _("Revoked a certificate"),
    "policy.set": _("Changed a policy setting"),
    "people.roster_import": _("Imported a roster"),
    "people.profile_update": _("Changed a teacher record"),
    "people.period_add": _("Added a service period"),
    "people.period_update": _("Changed a service period"),
    "people.period_delete": _("Deleted a service period"),
    "people.evaluation_save": _("Recorded an annual evaluation"),
    "people.evaluation_delete": _("Deleted an annual evaluation"),
    "training.schedule": _("Scheduled an offline session"),
    "training.cancelled": _("Cancelled an offline session"),
    "training.attendance_mark": _("Marked attendance by hand"),
    "course.submit": _("Submitted a course for review"),
    "course.withdraw": _("Withdrew a course from review"),
    "course.send_back": _("Sent a course back to its authors"),
    "course.publish": _("Published a course"),
    "course.archive": _("Archived a course"),
    "course.owner_add": _("Added a co-owner to a course"),
    "course.owner_remove": _("Removed a co-owner from a course"),
}

# The filter's choices: (code prefix, name).
GROUPS = (
    ("auth.", _("Sign-in and accounts")),
    ("auth.login", _("Sign-ins")),
    ("auth.lockout", _("Lockouts")),
    ("auth.password", _("Passwords")),
    ("auth.role", _("Role changes")),
    ("auth.2fa", _("Two-factor sign-in")),
    ("token.", _("Integration tokens")),
    ("ledger.", _("Credit hours")),
    ("certificate.", _("Certificates")),
    ("course.", _("Course review")),
    ("people.", _("Teacher records")),
    ("training.", _("Offline study")),
    ("policy.", _("Policies")),
)

# The names of detail keys, and of the codes some keys hold.
KEYS = {
    "status": _("Status"), "reason": _("Reason"), "hours": _("Hours"), "teacher_id": _("Teacher"),
    "user_id": _("Person"), "comment": _("Comment"), "title": _("Title"), "evidence": _("Evidence"),
    "number": _("Certificate number"), "kind": _("Kind"), "subject": _("Certificate for"), "role": _("Role"),
    "minutes": _("Minutes"), "forced_change": _("Must change at next sign-in"), "name": _("Name"),
    "scopes": _("Permissions"), "scope": _("Permission"), "expires_at": _("Expires"), "path": _("Address called"),
    "issuer": _("Identity provider"), "rows": _("Rows"), "created": _("New teachers"), "updated": _("Updated"),
    "unchanged": _("Unchanged"), "theme": _("Theme"), "tier": _("Tier"), "level": _("Level"),
    "category": _("Category"), "school_id": _("School"), "day": _("Date"), "start_time": _("Starts"),
    "end_time": _("Ends"), "place": _("Place"), "method": _("How"), "staff_no": _("Staff number"),
    "teaching_start": _("Teaching since"), "start": _("From"), "end": _("To"), "year": _("Year"),
    "result": _("Result"), "earned_on": _("Date"), "stage": _("Sign-in step"), "second_step": _("Second step"),
    "topic": _("Induction topic"),
}  # fmt: skip
CODES = {
    "status": {
        "pending": _("status_pending"), "verified": _("status_verified"), "certified": _("status_certified"),
        "rejected": _("status_rejected"), "draft": _("Draft"), "submitted": _("In review"),
        "published": _("Published"), "archived": _("Archived"), "valid": _("Valid"), "revoked": _("Revoked"),
        "reserve": _("Reserve pool"), "trainee": _("Trainee homeroom teacher"), "appointed": _("Appointed"),
    },
    "role": {"teacher": _("Teacher"), "trainer": _("Trainer"), "school_admin": _("School administrator"),
             "district_admin": _("District administrator")},
    "level": {"city": _("City level"), "district": _("District level"), "school": _("School-based"),
              "workshop": _("Workshop")},
    "kind": {"homeroom": _("Homeroom teacher"), "deputy": _("Deputy homeroom teacher"),
             "trainee": _("Trainee homeroom teacher"), "rotating": _("Rotating homeroom teacher"),
             "course": _("Course certificate"), "year": _("Annual hours certificate"),
             "induction": _("Induction certificate")},
    "method": {"manual": _("Marked by hand"), "scan": _("Scanned the code"), "password": _("Password"),
               "sso": _("Unified identity sign-in")},
    "stage": {"active": _("Signed in"), "mfa": _("Second step pending"), "enrol": _("Must set up two-factor sign-in"),
              "password": _("Must change the password")},
    "second_step": {"mfa": _("Authenticator code"), "enrol": _("Two-factor sign-in set up"),
                    "password_change": _("New password chosen"), "password": _("Password"),
                    "sso": _("Unified identity sign-in")},
    "result": {"excellent": _("Excellent"), "qualified": _("Qualified"), "basic": _("Basically qualified"),
               "unqualified": _("Unqualified")},
    "category": {"ethics": _("Ethics"), "knowledge_skills": _("Knowledge and skills"), "practice": _("Practice"),
                 "self_study": _("Self-study")},
    "tier": {"horizon": _("Horizon"), "compass": _("Compass"), "climber": _("Climber"), "starry": _("Starry Sky")},
}  # fmt: skip
_PEOPLE_KEYS = {"teacher_id": "user", "user_id": "user", "school_id": "school"}


@dataclass(frozen=True)
class Detail:
    what: str
    before: str | None  # None: the value was not there before (a new value)
    after: str | None  # None: removed


@dataclass(frozen=True)
class Described:
    name: str
    code: str
    subject: Subject | None
    details: list[Detail]


def _text(key: str, value: Any, names: dict[tuple[str, str], Subject], _t: Callable[..., str]) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _t("Yes") if value else _t("No")
    if isinstance(value, list):
        return "、".join(_text(key, v, names, _t) for v in value)
    if key in _PEOPLE_KEYS and (found := names.get((_PEOPLE_KEYS[key], str(value)))):
        return found.name
    if key in CODES and str(value) in CODES[key]:
        return _t(CODES[key][str(value)])
    text = str(value)
    if len(text) >= 10 and text[4] == "-" and text[7] == "-":
        try:
            day = date.fromisoformat(text[:10])
        except ValueError:
            return text
        return f"{day.year}年{day.month}月{day.day}日" + (f" {text[11:16]}" if len(text) > 10 else "")
    return text


def describe_events(session: Session, events: Iterable[AuditEvent], locale_t: Callable[..., str]) -> list[Described]:
    """Each event of a page of the log, in words, with its object named (one query per object type)."""
    events = list(events)
    wanted: dict[str, set[str]] = {}
    for e in events:
        if e.subject_type and e.subject_id:
            wanted.setdefault(e.subject_type, set()).add(e.subject_id)
        if e.on_behalf_of_id:
            wanted.setdefault("teacher", set()).add(str(e.on_behalf_of_id))
        for values in (e.before or {}, e.after or {}):
            for key, kind in _PEOPLE_KEYS.items():
                if values.get(key) is not None:
                    wanted.setdefault(kind, set()).add(str(values[key]))
    names: dict[tuple[str, str], Subject] = {}
    for kind, ids in wanted.items():
        if resolver := _RESOLVERS.get(kind):
            names |= {(kind, k): v for k, v in resolver(session, sorted(ids)).items()}
    return [_describe(e, names, locale_t) for e in events]


def _describe(e: AuditEvent, names: dict[tuple[str, str], Subject], _t: Callable[..., str]) -> Described:
    subject = names.get((e.subject_type or "", e.subject_id or ""))
    if subject is None and e.on_behalf_of_id and (teacher := names.get(("teacher", str(e.on_behalf_of_id)))):
        subject = teacher  # a service period or evaluation: its teacher's record
    if subject is not None and subject.msgid:
        subject = Subject(_t(subject.name), subject.href)
    if subject is None and e.subject_type == "roster":
        subject = Subject(e.subject_id or "", None)
    before, after = e.before or {}, e.after or {}
    custom = _DETAILS.get(e.subject_type or "")
    details = []
    for key in [*before, *(k for k in after if k not in before)]:
        described = custom(key, after.get(key, before.get(key)), _t) if custom else None
        if described is not None:
            what = described[0]
            old = custom(key, before[key], _t)[1] if key in before and custom else None  # type: ignore[index]
            new = custom(key, after[key], _t)[1] if key in after and custom else None  # type: ignore[index]
        else:
            what = _t(KEYS[key]) if key in KEYS else key
            old = _text(key, before[key], names, _t) if key in before else None
            new = _text(key, after[key], names, _t) if key in after else None
        details.append(Detail(what, None, new) if old == new else Detail(what, old, new))  # unchanged: said once
    name = _t(ACTIONS[e.action]) if e.action in ACTIONS else e.action
    return Described(name, e.action, subject, details)
