"""Errors raised by `procurement`, carrying what the UI and the CLI need to show them.

Every error has a stable `code` (a key in the UI message catalogs, `error.<code>`), the `params`
that fill the message, and an English `str()` for logs and the CLI. The UI translates by code;
nobody parses messages.
"""

from __future__ import annotations

from typing import Any


class ProcurementError(Exception):
    """Base of every error the library raises on purpose."""

    code = "generic"

    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message)
        self.message = message
        self.params = params


class NotFoundError(ProcurementError):
    """A case, user, organisation or pack that does not exist (or is not visible to the actor)."""

    code = "not_found"


class PermissionDeniedError(ProcurementError):
    """The acting user's role or organisation does not allow this."""

    code = "permission_denied"


class ConflictError(ProcurementError):
    """Someone else saved the record since the caller read it (optimistic locking)."""

    code = "conflict"


class InputError(ProcurementError):
    """Input that names what is wrong and where: bad answers, a missing comment, a bad file."""

    code = "invalid_input"


class WorkflowError(ProcurementError):
    """The case is not in a state that allows this (e.g. submitting an incomplete case)."""

    code = "workflow"


class AuthenticationError(ProcurementError):
    """Sign-in failed, or the account is locked for a while."""

    code = "authentication"


class BusyError(ProcurementError):
    """The database was busy with another writer for too long: nothing was saved; try again."""

    code = "busy"


class DatabaseUnavailableError(ProcurementError):
    """The database cannot be reached (host and port named, never the password): nothing was
    saved."""

    code = "database_unavailable"
