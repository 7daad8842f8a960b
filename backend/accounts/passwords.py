"""Password hashing with argon2id and the password policy.

Parameters are OWASP's Password Storage Cheat Sheet first argon2id configuration (m=19 MiB, t=2, p=1), the
minimum it recommends: about 45 ms per hash on one core here, so 50 logins/s alone would need more than two cores
(backend/accounts/hashing.py keeps such a storm from starving everything else).
Hashes made with other parameters are replaced at the next successful login (`needs_rehash`).
Hashing is CPU-bound and blocks: call these only from sync (`def`) routes, which FastAPI runs in its threadpool,
never from the event loop. The hash itself runs in backend/accounts/hashing.py's low-priority processes.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from argon2.exceptions import InvalidHashError
from zxcvbn import zxcvbn

from backend.accounts import argon2_work, hashing
from backend.kit.i18n import _

# Longer passwords are refused before hashing: argon2 hashes anything, but a megabyte "password" is a DoS.
MAX_PASSWORD_LENGTH = 256

_hasher = argon2_work.hasher
# Verified against when the username is unknown, so a miss costs the same time as a wrong password.
_DUMMY_HASH = _hasher.hash("no-such-user-dummy-password")


def hash_password(password: str) -> str:
    return hashing.pool.run(argon2_work.hash_password, password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if len(password) > MAX_PASSWORD_LENGTH:
        return False
    return hashing.pool.run(argon2_work.verify, password_hash or _DUMMY_HASH, password) and password_hash is not None


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with other parameters than today's (or is not argon2id at all)."""
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


# zxcvbn (Dropbox's estimator, from PyPI): its frequency lists hold the passwords of public breach corpora and
# common words and names, and it prices keyboard walks, dates, repeats and l33t on top. A password it expects to
# fall within 10^6 guesses (score 0 or 1: `qwertyuiop12`, `password1234`, `1qaz2wsx3edc`) is refused (ASVS 2.1.7).
MIN_SCORE = 2
# zxcvbn's own input limit; the rest of a longer password only adds strength.
ESTIMATE_CHARS = 72


@lru_cache(maxsize=1)
def local_words() -> tuple[str, ...]:
    """Local favourites the estimator's English lists lack (pinyin, the district's and portal's names), lower-cased:
    given to zxcvbn as dictionary words, so they and variations of them count as guessable."""
    text = (Path(__file__).parent / "common_passwords.txt").read_text(encoding="utf-8")
    return tuple(line.strip().lower() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def guessable(password: str, username: str) -> bool:
    estimate = zxcvbn(password[:ESTIMATE_CHARS], user_inputs=[username, *local_words()])
    return int(estimate["score"]) < MIN_SCORE


def password_problem(password: str, username: str, min_length: int) -> str | None:
    """Why this password may not be chosen (a message id), or None when it is acceptable (ASVS 2.1)."""
    if len(password) < min_length:
        return _("The password must have at least %(count)s characters.")
    if len(password) > MAX_PASSWORD_LENGTH:
        return _("The password may have at most 256 characters.")
    lowered = password.lower()
    if username and username.strip().lower() == lowered:
        return _("The password may not be your username.")
    if lowered in local_words() or len(set(password)) < 4 or guessable(password, username):
        return _("This password is too common or too simple. Choose another one.")
    return None
