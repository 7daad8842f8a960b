"""Dashboard pages: the district's (督导), a school's, their exports and the background jobs behind them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Request
from fastapi.responses import FileResponse, Response, StreamingResponse
from starlette.background import BackgroundTask

from backend.accounts.deps import require_role
from backend.accounts.models import Role, User
from backend.dashboards import exports, figures, jobs, service
from backend.dashboards.hours_source import queue_size
from backend.dashboards.models import DashboardJob
from backend.db import SessionDep, SessionFactoryDep, WriteSessionDep
from backend.kit.web import download_headers, redirect, render
from backend.kit.xlsx import XLSX_TYPE
from backend.media.storage import StorageDep
from backend.policies.service import load_policy
from backend.policies.taxonomy import CREDIT_CATEGORIES
from backend.training.compliance import STATE_LABELS

pages = APIRouter(include_in_schema=False)
AdminUser = Annotated[User, Depends(require_role(Role.school_admin, Role.district_admin))]


def _job_starter(
    tasks: BackgroundTasks, maker: SessionFactoryDep, storage: StorageDep
) -> Callable[[list[DashboardJob]], None]:
    def start(wanted: list[DashboardJob]) -> None:
        """Run the jobs that need a runner in this process, after the response (their state is in the database)."""
        for job in wanted:
            if jobs.needs_runner(job):
                tasks.add_task(jobs.run, maker, storage, job.id)

    return start


JobStarter = Annotated[Callable[[list[DashboardJob]], None], Depends(_job_starter)]


def _context(session: SessionDep, filters: service.Filters, view: service.View, user: User) -> dict:  # type: ignore[type-arg]
    return {
        "filters": filters,
        "view": view,
        "policy": load_policy(session),
        "months": service.month_snapshots(session),
        "stages": service.STAGES,
        "stage_labels": service.STAGE_LABELS,
        "bucket_labels": figures.bucket_labels(),
        "bucket_axis": figures.bucket_axis(),
        "credit_categories": CREDIT_CATEGORIES,
        "age_days": service.age_days,
        "mean_days": service.mean_days,
        "this_year": service.today().year,
        "state_labels": STATE_LABELS,
    }


@pages.get("/dashboard")
def district_dashboard(
    request: Request,
    session: WriteSessionDep,
    user: AdminUser,
    start: JobStarter,
    year: str | None = None,
    tier: str | None = None,
    stage: str | None = None,
    as_of: str | None = None,
) -> Response:
    if user.role == Role.school_admin and user.school_id is not None:
        return redirect(request, f"/dashboard/schools/{user.school_id}")
    filters = service.Filters.parse(year, tier, stage, as_of)
    view = service.district_view(session, user, filters)
    wanted = service.refresh_jobs(session, filters, user)
    start(wanted)
    certify = queue_size(session, "verified")
    from backend.catalogue import authoring

    reviews = len(authoring.review_queue(session, user, load_policy(session)))
    context = _context(session, filters, view, user) | {
        "building": [j for j in wanted if j.key.startswith("live:")],
        "certify": certify,
        "reviews": reviews,
    }
    return render(request, "dashboards/district.html", context, block="figures")


@pages.get("/dashboard/schools/{school_id}")
def school_dashboard(
    request: Request,
    school_id: int,
    session: WriteSessionDep,
    user: AdminUser,
    start: JobStarter,
    year: str | None = None,
    tier: str | None = None,
    as_of: str | None = None,
) -> Response:
    school = service.school_for(session, user, school_id)
    filters = service.Filters.parse(year, tier, None, as_of)
    view = service.school_view(session, user, school, filters)
    wanted = service.refresh_jobs(session, filters, user)
    start(wanted)
    context = _context(session, filters, view, user) | {
        "school": school,
        "building": [j for j in wanted if j.key.startswith("live:")],
        "verify": queue_size(session, "pending", school.id),
        "behind": service.behind(session, user, school, filters.year),
    }
    return render(request, "dashboards/school.html", context)


@pages.get("/dashboard/export.xlsx")
def export_schools(
    session: SessionDep,
    user: AdminUser,
    year: str | None = None,
    tier: str | None = None,
    stage: str | None = None,
    as_of: str | None = None,
    school: int | None = None,
) -> Response:
    """The per-school table as Excel: read from the snapshot, so it is immediate at any district size."""
    filters = service.Filters.parse(year, tier, stage, as_of)
    if user.role == Role.school_admin or school is not None:
        one = service.school_for(session, user, school if school is not None else (user.school_id or 0))
        view = service.school_view(session, user, one, filters)
    else:
        view = service.district_view(session, user, filters)
    path = exports.schools_workbook(view)
    name = f"督导_{filters.year}{'_' + filters.as_of.isoformat() if filters.as_of else ''}.xlsx"
    return FileResponse(
        path,
        media_type=XLSX_TYPE,
        headers=download_headers(name, fallback="dashboard.xlsx"),
        background=BackgroundTask(path.unlink, missing_ok=True),
    )


@pages.post("/dashboard/teachers-export")
async def export_teachers(request: Request, session: WriteSessionDep, user: AdminUser, start: JobStarter) -> Response:
    """Every teacher's figures: computed from the ledger (seconds at district size), so a background job."""
    form = await request.form()
    filters = service.Filters.parse(
        str(form.get("year") or ""), str(form.get("tier") or ""), None, str(form.get("as_of") or "")
    )
    school_ids = None
    if user.role == Role.school_admin:
        school_ids = [service.school_for(session, user, user.school_id or 0).id]
    elif form.get("school"):
        school_ids = [service.school_for(session, user, int(str(form.get("school")))).id]
    as_of = filters.as_of or service.today()
    params = {"year": filters.year, "tier": filters.tier, "as_of": as_of.isoformat(), "school_ids": school_ids}
    job = jobs.enqueue(session, "export", f"export:{user.id}", params, user)
    start([job])
    return redirect(request, f"/dashboard/jobs/{job.id}")


@pages.get("/dashboard/jobs/{job_id}")
def job_page(request: Request, job_id: int, session: SessionDep, user: AdminUser, start: JobStarter) -> Response:
    job = jobs.job_for(session, user, job_id)
    start([job])
    return render(request, "dashboards/job.html", {"job": job}, block="job")


@pages.get("/dashboard/jobs/{job_id}/download")
def job_download(request: Request, job_id: int, session: SessionDep, storage: StorageDep, user: AdminUser) -> Response:
    job = jobs.job_for(session, user, job_id)
    if job.state != "done" or not job.result_key:
        return redirect(request, f"/dashboard/jobs/{job.id}")
    size = storage.stat(job.result_key).size
    name = f"教师学时_{job.params.get('year')}.xlsx"
    return StreamingResponse(
        storage.read_range(job.result_key, 0, max(0, size - 1)),
        media_type=XLSX_TYPE,
        headers=download_headers(name, fallback="teachers.xlsx") | {"Content-Length": str(size)},
    )
