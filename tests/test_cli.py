"""The operator's `portal` command: works end to end on a fresh database, and fails clearly."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

PORTAL = str(Path(sys.executable).parent / "portal")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "MEDIA_ROOT": str(tmp_path / "media"),
        "DEMO_MODE": "true",
    }


def portal(env: dict[str, str], *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PORTAL, *args], env=env, input=stdin, capture_output=True, text=True, timeout=120)


def test_operator_migrates_creates_a_user_and_gets_a_token(env) -> None:
    assert portal(env, "db", "upgrade").returncode == 0
    created = portal(env, "users", "create", "lihua", "--role", "trainer", "--name", "李华",
                     "--password", "plum blossom 2026")
    assert created.returncode == 0, created.stderr
    token = portal(env, "users", "token", "lihua")
    assert token.returncode == 0 and token.stdout.strip().startswith("sjp_")


def test_errors_are_clear_and_exit_non_zero(env, tmp_path) -> None:
    assert portal(env, "db", "upgrade").returncode == 0
    portal(env, "users", "create", "lihua", "--password", "plum blossom 2026")
    again = portal(env, "users", "create", "lihua", "--password", "plum blossom 2026")
    assert again.returncode == 1 and "already exists" in again.stderr
    short = portal(env, "users", "create", "wang", "--password", "short")
    assert short.returncode == 1 and "error:" in short.stderr
    missing = portal(env, "courses", "import", str(tmp_path / "nowhere"))
    assert missing.returncode == 1 and "does not exist" in missing.stderr
    nobody = portal(env, "users", "token", "ghost")
    assert nobody.returncode == 1 and "no user ghost" in nobody.stderr


def test_default_secret_is_refused_outside_demo_mode(env) -> None:
    without_secret = {k: v for k, v in env.items() if k != "SECRET_KEY"}  # the suite's own (tests/conftest.py)
    result = portal({**without_secret, "DEMO_MODE": "false"}, "db", "upgrade")
    assert result.returncode == 1 and "SECRET_KEY" in result.stderr
    assert "Traceback" not in result.stderr


def test_demo_data_is_only_loaded_in_demo_mode(env) -> None:
    result = portal({**env, "DEMO_MODE": "false", "SECRET_KEY": "x" * 40}, "demo", "load")
    assert result.returncode == 1 and "demo mode" in result.stderr


def test_unreachable_database_is_reported_without_a_traceback(env) -> None:
    result = portal({**env, "DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none"}, "db", "upgrade")
    assert result.returncode == 1 and "cannot reach the database" in result.stderr
    assert "Traceback" not in result.stderr
