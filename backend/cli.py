"""`portal`: the operator's command line. Clear errors and a non-zero exit status on any failure."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from sqlalchemy.orm import Session

from backend.config import get_settings
from backend.db import session_factory

if TYPE_CHECKING:
    from backend.credits import chain

app = typer.Typer(help="松江区班主任网络研修平台 — operator commands", no_args_is_help=True)
db_app = typer.Typer(help="Database schema", no_args_is_help=True)
demo_app = typer.Typer(help="Demo data", no_args_is_help=True)
courses_app = typer.Typer(help="Course library", no_args_is_help=True)
users_app = typer.Typer(help="Accounts", no_args_is_help=True)
ledger_app = typer.Typer(help="The credit-hour ledger", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(demo_app, name="demo")
app.add_typer(courses_app, name="courses")
app.add_typer(users_app, name="users")
app.add_typer(ledger_app, name="ledger")


@app.callback()
def _check_settings() -> None:
    """Refuses to run any command with invalid settings (e.g. the demo SECRET_KEY outside demo mode)."""
    from pydantic import ValidationError

    try:
        get_settings()
    except ValidationError as exc:
        problems = "; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors())
        raise fail(f"invalid settings: {problems}") from None


def fail(message: str) -> typer.Exit:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=1)


@contextmanager
def transaction() -> Iterator[Session]:
    """One transaction per command: all of it or none of it."""
    from backend.kit.errors import AppError

    try:
        settings = get_settings()
    except ValueError as exc:
        raise fail(f"invalid settings: {exc}") from exc
    session = session_factory(settings)()
    try:
        yield session
        session.commit()
    except AppError as exc:
        session.rollback()
        raise fail(str(exc)) from exc
    except Exception:
        session.rollback()
        raise
    finally:
        session.close()


def _storage():  # type: ignore[no-untyped-def]
    from backend.media.storage import build_storage

    return build_storage(get_settings())


@app.command()
def serve(
    host: str = typer.Option(os.environ.get("HOST", "127.0.0.1"), help="Address to listen on (HOST)"),
    port: int = typer.Option(int(os.environ.get("PORT", "8000")), help="Port (PORT)"),
    workers: int = typer.Option(1, help="Worker processes"),
    reload: bool = typer.Option(False, help="Reload on code changes (development)"),
) -> None:
    """Serve the portal."""
    import uvicorn

    from backend.kit import metrics, telemetry

    try:
        settings = get_settings()
    except ValueError as exc:
        raise fail(f"invalid settings: {exc}") from exc
    # Every worker counts into one folder, so /metrics on any worker reports them all (backend/kit/metrics.py).
    metrics.prepare_multiprocess(settings.metrics_dir)
    typer.echo(f"松江区班主任网络研修平台: http://{host}:{port}")
    uvicorn.run(
        "backend.main:app", host=host, port=port, workers=workers, reload=reload, proxy_headers=True,
        log_level=settings.log_level.lower(), access_log=False,  # the portal writes its own access lines
        log_config=telemetry.logging_config(settings.log_format, settings.log_level.upper()),
    )


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("heads")) -> None:
    """Apply migrations (creates the SQLite folder if needed)."""
    from sqlalchemy.exc import OperationalError

    from backend.migrate import upgrade

    settings = get_settings()
    if settings.is_sqlite:
        Path(settings.database_url.split("///", 1)[1]).parent.mkdir(parents=True, exist_ok=True)
    try:
        upgrade(settings.database_url, revision)
    except OperationalError as exc:
        raise fail(f"cannot reach the database: {exc.orig}") from exc
    typer.echo(f"database at {revision}")


@demo_app.command("load")
def demo_load(
    size: str = typer.Option("small", help="small: 3 schools and one account per role; district: also 15,000 "
                             "teachers × 5 years of records and ledger entries"),
    teachers: int = typer.Option(15_000, help="Teachers generated with --size district"),
) -> None:
    """Load demo schools, accounts and courses (idempotent; demo mode only)."""
    from backend import demo

    settings = get_settings()
    if not settings.demo_mode:
        raise fail("demo data is only loaded in demo mode (set DEMO_MODE=true)")
    if size not in ("small", "district"):
        raise fail("--size is small or district")
    with transaction() as session:
        summary = demo.load(session, _storage(), settings)
    typer.echo(f"demo: {summary.users_created} accounts created, password '{demo.DEMO_PASSWORD}'")
    for result in summary.courses:
        typer.echo(f"  {result.code}: {result.action}")
    if size == "district":
        import time

        from backend.demo.district import load_district
        from backend.people import schools as people

        started = time.monotonic()
        with transaction() as session:
            district = people.ensure_district(session, "songjiang", "松江区")
            loaded = load_district(
                session, district, teachers=teachers,
                progress=lambda line: typer.echo(f"  district: {line} ({time.monotonic() - started:.0f} s)"),
            )
        if loaded.skipped:
            typer.echo("district: already loaded, nothing added")
        else:
            seconds = time.monotonic() - started
            typer.echo(
                f"district: {loaded.teachers} teachers in {loaded.schools} schools, {loaded.periods} service periods,"
                f" {loaded.evaluations} evaluations, {loaded.entries} ledger entries in {seconds:.0f} s"
            )


@courses_app.command("import")
def courses_import(
    path: Path = typer.Argument(..., help="A course folder, or a folder of course folders"),
    publish: bool = typer.Option(False, help="Publish imported courses"),
    demo_media: bool = typer.Option(False, help="Generate demo videos for lessons without a video file"),
) -> None:
    """Import courses from files (idempotent)."""
    from backend.catalogue import importer

    if not path.exists():
        raise fail(f"{path} does not exist")
    with transaction() as session:
        results = importer.import_path(session, _storage(), path, publish=publish, demo_media=demo_media)
    for result in results:
        typer.echo(f"{result.code}: {result.action} (course id {result.course_id})")


@users_app.command("create")
def users_create(
    username: str,
    role: str = typer.Option("teacher", help="teacher | trainer | school_admin | district_admin"),
    name: str = typer.Option("", help="Display name"),
    school: str = typer.Option("", help="School code"),
    password: str = typer.Option(..., prompt=True, hide_input=True, confirmation_prompt=True),
) -> None:
    """Create a local account."""
    from backend.accounts import service
    from backend.people import schools as people

    with transaction() as session:
        school_id = None
        if school:
            found = people.school_by_code(session, school)
            if found is None:
                raise fail(f"no school with code {school}")
            school_id = found.id
        user = service.create_user(
            session, username=username, display_name=name, password=password, role=role, school_id=school_id
        )
        typer.echo(f"created {user.username} ({user.role})")


@users_app.command("token")
def users_token(username: str, name: str = typer.Option("cli", help="What the token is for")) -> None:
    """Create an API bearer token for a user (printed once; /api/v1 only, with the session limits of the policy)."""
    from sqlalchemy import select

    from backend.accounts import service
    from backend.accounts.models import User

    with transaction() as session:
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            raise fail(f"no user {username}")
        typer.echo(service.create_api_token(session, user, name=name))


@app.command("backup")
def backup_command(folder: Path = typer.Argument(..., help="A new (or empty) folder")) -> None:
    """Back up the database (a consistent dump) and the media, with a manifest of checksums."""
    from backend import backup

    try:
        summary = backup.backup(get_settings(), _storage(), folder, say=typer.echo)
    except backup.BackupError as exc:
        raise fail(str(exc)) from exc
    typer.echo(f"backup in {summary.folder}: {summary.database}, {summary.media_objects} media objects "
               f"({summary.media_bytes} bytes); ledger heads in {backup.MANIFEST}")


@app.command("restore")
def restore_command(folder: Path = typer.Argument(..., help="A folder written by `portal backup`")) -> None:
    """Restore a backup into an empty database and an empty storage, then verify the ledger."""
    from backend import backup

    try:
        report = backup.restore(get_settings(), _storage(), folder, say=typer.echo)
    except backup.BackupError as exc:
        raise fail(str(exc)) from exc
    _print_report(report)


def _print_report(report: chain.Report) -> None:
    """The ledger verification: counts and heads, then the first problem of each table (exit status 2)."""
    for table, count in report.rows.items():
        head = report.heads[table]
        typer.echo(f"{table}: {count} rows, head {head['id']} {head['hash'][:16]}")
    if report.ok:
        typer.echo("ledger verified: every row is as the portal wrote it")
        return
    first_by_table: dict[str, chain.Problem] = {}
    for problem in report.problems:
        first_by_table.setdefault(problem.table, problem)
    for problem in first_by_table.values():
        typer.secho(f"FIRST PROBLEM {problem}", fg=typer.colors.RED, err=True)
    typer.secho(f"{len(report.problems)} problem(s) in all:", err=True)
    for problem in report.problems[:50]:
        typer.echo(f"  {problem}", err=True)
    raise typer.Exit(code=2)


@ledger_app.command("verify")
def ledger_verify(
    heads: Path | None = typer.Option(None, help="A backup's manifest.json (or a JSON of heads kept earlier): "
                                                 "also check that no row up to those heads has gone"),
) -> None:
    """Recompute the ledger's hash chains: report the first row changed, removed or added outside the portal."""
    import json

    from backend.credits import chain
    from backend.db import engine_for

    recorded = None
    if heads is not None:
        if not heads.is_file():
            raise fail(f"{heads} does not exist")
        data = json.loads(heads.read_text())
        recorded = data.get("ledger_heads", data)
    with engine_for(get_settings().database_url).connect() as connection:
        report = chain.verify(connection, recorded)
    _print_report(report)


dashboard_app = typer.Typer(help="Supervision dashboards", no_args_is_help=True)
app.add_typer(dashboard_app, name="dashboard")


@dashboard_app.command("snapshot")
def dashboard_snapshot(
    month: str = typer.Option("", help="YYYY-MM: the month whose end to freeze (default: the last month that ended)"),
) -> None:
    """Freeze the dashboards' figures as of a month's end (for cron on the 1st; the first dashboard visit after a
    month's end also takes it). Taking it again replaces that month's snapshot."""
    import calendar
    import time
    from datetime import date

    from backend.dashboards import figures, service

    if month:
        try:
            year, number = (int(x) for x in month.split("-"))
            day = date(year, number, calendar.monthrange(year, number)[1])
        except ValueError as exc:
            raise fail(f"--month must be YYYY-MM, not {month!r}") from exc
    else:
        day = figures.month_end(service.today())
    started = time.monotonic()
    with transaction() as session:
        figures.build_snapshot(session, kind="month", year=day.year, as_of=day)
    typer.echo(f"snapshot as of {day.isoformat()} taken in {time.monotonic() - started:.1f} s")


if __name__ == "__main__":
    app()
