"""The settings class as an operator meets it: demo mode makes its own secret once and keeps it; production refuses
to start without a private one; the value earlier releases published is refused everywhere."""

from __future__ import annotations

import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from pydantic import ValidationError

from backend.config import PUBLISHED_SECRET, Settings, demo_secret


@pytest.fixture(autouse=True)
def _no_secret_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SECRET_KEY", raising=False)  # the suite sets one (tests/conftest.py); an operator may not


def test_demo_mode_makes_a_random_secret_on_first_run_and_keeps_it(tmp_path: Path) -> None:
    secret_file = tmp_path / "data" / "secret_key"
    first = Settings(demo_mode=True, secret_key_file=secret_file)
    assert secret_file.exists() and len(first.secret_key) >= 32
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600  # readable by the portal's owner only
    again = Settings(demo_mode=True, secret_key_file=secret_file)
    assert again.secret_key == first.secret_key  # a restart keeps sessions and CSRF tokens valid


def test_two_installations_do_not_share_a_demo_secret(tmp_path: Path) -> None:
    one = Settings(demo_mode=True, secret_key_file=tmp_path / "one")
    other = Settings(demo_mode=True, secret_key_file=tmp_path / "other")
    assert one.secret_key != other.secret_key


def test_processes_starting_together_agree_on_one_secret(tmp_path: Path) -> None:
    path = tmp_path / "secret_key"
    with ThreadPoolExecutor(8) as pool:
        values = set(pool.map(lambda _: demo_secret(path), range(32)))
    assert len(values) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["secret_key"]  # no temporary file left behind


def test_an_operator_set_secret_is_used_as_given(tmp_path: Path) -> None:
    settings = Settings(demo_mode=True, secret_key="x" * 40, secret_key_file=tmp_path / "secret_key")
    assert settings.secret_key == "x" * 40
    assert not (tmp_path / "secret_key").exists()


@pytest.mark.parametrize("demo_mode", [True, False])
def test_the_published_secret_is_refused(tmp_path: Path, demo_mode: bool) -> None:
    with pytest.raises(ValidationError, match="published"):
        Settings(demo_mode=demo_mode, secret_key=PUBLISHED_SECRET, secret_key_file=tmp_path / "k")


def test_production_needs_a_private_secret_of_32_characters(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="must be set"):
        Settings(demo_mode=False, secret_key_file=tmp_path / "k")
    with pytest.raises(ValidationError, match="at least 32"):
        Settings(demo_mode=False, secret_key="short", secret_key_file=tmp_path / "k")
    assert not (tmp_path / "k").exists()  # production never writes a secret of its own


def test_an_emptied_secret_file_is_refused_not_used(tmp_path: Path) -> None:
    secret_file = tmp_path / "secret_key"
    secret_file.write_text("\n")
    with pytest.raises(ValidationError, match="no usable secret"):
        Settings(demo_mode=True, secret_key_file=secret_file)
