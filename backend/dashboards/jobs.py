"""Background jobs with their state in the database: any replica shows their progress, and takes a job over when
the replica running it stopped (nothing touched it for `STALE_AFTER`).

A job is claimed with one conditional UPDATE (queued, or running but stale → running, touched now); only the process
whose UPDATE changed the row runs it, so two replicas never build the same thing at once. Progress is committed in
its own short transactions as the work goes on; an export's file goes to the object store, not a local disk.
"""

from __future__ import annotations

import logging
import secrets
from datetime import date, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from backend.accounts.models import User
from backend.dashboards.models import DashboardJob
from backend.db import begin_for_write
from backend.kit import clock
from backend.kit.errors import NotFound
from backend.kit.i18n import _
from backend.kit.xlsx import XLSX_TYPE
from backend.media.storage import Storage

log = logging.getLogger(__name__)
STALE_AFTER = timedelta(minutes=2)
RETRY_AFTER = timedelta(minutes=1)


def enqueue(session: Session, kind: str, key: str, params: dict[str, Any], user: User | None) -> DashboardJob:
    """The job building `key`: the one already queued or running (and alive), or a new one."""
    alive = clock.now() - STALE_AFTER
    found = session.scalar(
        select(DashboardJob)
        .where(
            DashboardJob.key == key,
            or_(DashboardJob.state == "queued", (DashboardJob.state == "running") & (DashboardJob.touched_at > alive)),
        )
        .order_by(DashboardJob.id.desc())
        .limit(1)
    )
    if found is not None and kind != "export":
        return found
    if kind != "export":
        # A build that just failed is not retried on every poll of the page: once a minute at most.
        failed = session.scalar(
            select(DashboardJob)
            .where(
                DashboardJob.key == key,
                DashboardJob.state == "failed",
                DashboardJob.finished_at > clock.now() - RETRY_AFTER,
            )
            .limit(1)
        )
        if failed is not None:
            return failed
    job = DashboardJob(
        kind=kind,
        key=key,
        params=params,
        state="queued",
        done=0,
        total=0,
        requested_by=user.id if user else None,
        created_at=clock.now(),
    )
    session.add(job)
    session.flush()
    return job


def claim(session: Session, job_id: int) -> bool:
    now = clock.now()
    result = session.execute(
        update(DashboardJob)
        .where(
            DashboardJob.id == job_id,
            or_(
                DashboardJob.state == "queued",
                (DashboardJob.state == "running") & (DashboardJob.touched_at < now - STALE_AFTER),
            ),
        )
        .values(state="running", touched_at=now)
    )
    session.commit()
    return bool(result.rowcount)  # type: ignore[attr-defined]


def _progress(maker: sessionmaker[Session], job_id: int, done: int, total: int) -> None:
    with maker() as s:
        s.execute(
            update(DashboardJob).where(DashboardJob.id == job_id).values(done=done, total=total, touched_at=clock.now())
        )
        s.commit()


def _finish(maker: sessionmaker[Session], job_id: int, **values: Any) -> None:
    with maker() as s:
        s.execute(update(DashboardJob).where(DashboardJob.id == job_id).values(finished_at=clock.now(), **values))
        s.commit()


def run(maker: sessionmaker[Session], storage: Storage, job_id: int) -> None:
    """Run the job if this process wins its claim (a background task of the request that queued or polled it)."""
    from backend.dashboards import exports, figures

    with maker() as s:
        if not claim(s, job_id):
            return
        job = s.get(DashboardJob, job_id)
        assert job is not None
        kind, params = job.kind, dict(job.params)
    try:
        result_key = None
        with maker() as s:
            if kind == "snapshot":
                year, as_of = int(params["year"]), date.fromisoformat(params["as_of"])
                computed = figures.compute(
                    s, year=year, as_of=as_of, progress=lambda d, t: _progress(maker, job_id, d, t)
                )
                # The reads end before the writes begin: on SQLite a transaction that read while another connection
                # wrote (the progress above) cannot write any more; on PostgreSQL the write is short.
                s.rollback()
                begin_for_write(s)
                figures.store(s, kind=params["snapshot"], year=year, as_of=as_of, computed=computed)
                s.commit()
            else:
                path = exports.teachers_workbook(s, params, progress=lambda d, t: _progress(maker, job_id, d, t))
                s.rollback()  # read only; closes the transaction before the file goes to the store
                result_key = f"exports/dashboard/{job_id}-{secrets.token_hex(8)}.xlsx"
                try:
                    storage.put_file(result_key, path, XLSX_TYPE)
                finally:
                    path.unlink(missing_ok=True)
        # Recorded after the work's session is closed: its own short transaction.
        _finish(maker, job_id, state="done", result_key=result_key)
    except Exception as exc:  # a failed job says so on the page instead of spinning for ever
        log.exception("dashboard job %s failed", job_id)
        _finish(maker, job_id, state="failed", error=str(exc)[:500])


def needs_runner(job: DashboardJob) -> bool:
    """Queued, or running in a process that stopped touching it: the next poll starts it here."""
    if job.state == "queued":
        return True
    return job.state == "running" and (job.touched_at is None or job.touched_at < clock.now() - STALE_AFTER)


def job_for(session: Session, user: User, job_id: int) -> DashboardJob:
    """A job its requester may see (exports are personal: they hold the records of the requester's scope)."""
    job = session.get(DashboardJob, job_id)
    if job is None or (job.kind == "export" and job.requested_by != user.id):
        raise NotFound(_("This export does not exist or is not yours."))
    return job
