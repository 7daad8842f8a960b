"""Message ids the extractor cannot see, kept here only so `make i18n` extracts them. Nothing imports this module.

- plain strings later passed to `translate()` (login field errors in accounts/routes.py, error texts in app.py);
- ids built at run time in templates: `_(entry.source)` and `_("status_" ~ entry.status)` on My learning.
Add an id here when you add such a string or a new ledger source/status.
"""

from __future__ import annotations

from backend.kit.i18n import _

MESSAGES = (
    # backend/accounts/routes.py: login form errors
    _("Please enter your username."),
    _("Please enter your password."),
    # backend/app.py: error handlers
    _("This page does not exist."),
    _("This action is not allowed here."),
    _("This changed at the same moment elsewhere. Please try again."),
    _("Media storage is unavailable right now."),
    _("The database is busy. Please try again."),
    # credits LedgerEntry.source (web/templates/learning/home.html: `_(entry.source)`)
    _("course_completion"),
    _("offline_session"),
    _("external"),
    _("adjustment"),
    # credits LedgerEntry.status (web/templates/learning/home.html: `_("status_" ~ entry.status)`)
    _("status_pending"),
    _("status_verified"),
    _("status_certified"),
    _("status_rejected"),
)
