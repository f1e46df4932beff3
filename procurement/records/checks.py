"""Input checks shared by every service: text fields, identifiers, passwords.

Every text a user or a file supplies is checked here before it reaches the database: its type,
its length (what the column or the reports can hold), and its characters. Control characters
(except newline and tab in multi-line fields) and the Unicode non-characters U+FFFE and U+FFFF
are refused with the field and position named: PostgreSQL cannot store NUL, spreadsheets cannot
hold control characters, and an exported audit trail must verify from the workbook, which means
the text must survive the round trip unchanged.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from procurement.errors import InputError

#: Characters of an organisation code (also the name of its audit chain).
CODE_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-_")
CODE_MAX_LENGTH = 64
USERNAME_MAX_LENGTH = 100
DISPLAY_NAME_MAX_LENGTH = 200
ORG_NAME_MAX_LENGTH = 200
#: The longest free text accepted in a multi-line field (comments, evidence, report fields).
LONG_TEXT_MAX_LENGTH = 100_000


def bad_character(text: str, *, multiline: bool) -> tuple[int, str] | None:
    """(1-based position, character) of the first character a text field may not hold."""
    for index, char in enumerate(text):
        if multiline and char in "\n\t":
            continue
        category = unicodedata.category(char)
        if category == "Cc" or category == "Cs" or char in "\ufffe\uffff":
            return index + 1, char
    return None


def text(value: Any, field: str, *, required: bool = True, max_length: int | None = None,
         multiline: bool = False, strip: bool = True) -> str:
    """`value` checked as a text field named `field`: InputError says what is wrong and where.

    Line ends become LF in multi-line fields; leading and trailing blanks are removed (unless
    `strip=False`). `required` refuses an empty text; None is an empty text.
    """
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InputError(f"{field} must be text, not {type(value).__name__}",
                         field=field, value=_shown(value), max_length=max_length)
    result = value.replace("\r\n", "\n").replace("\r", "\n") if multiline else value
    if strip:
        result = result.strip()
    if required and not result:
        raise InputError(f"{field} is required (non-empty text)", field=field, value=value)
    if max_length is not None and len(result) > max_length:
        raise InputError(f"{field} has {len(result)} characters; at most {max_length} are allowed",
                         field=field, max_length=max_length, length=len(result))
    found = bad_character(result, multiline=multiline)
    if found is not None:
        position, char = found
        raise InputError(
            f"{field} contains the character U+{ord(char):04X} at position {position}, which "
            "cannot be stored; use plain text", field=field, position=position,
            character=f"U+{ord(char):04X}", max_length=max_length,
        )
    return result


def code(value: Any, field: str = "code") -> str:
    """An organisation code: 1-64 characters of a-z, 0-9, - and _."""
    if (not isinstance(value, str) or not value or not set(value) <= CODE_CHARS
            or len(value) > CODE_MAX_LENGTH):
        raise InputError(f"organisation code {value!r} must be 1-{CODE_MAX_LENGTH} characters of "
                         "a-z, 0-9, - and _", field=field, value=_shown(value))
    return value


def username(value: Any, field: str = "username") -> str:
    """A username: 1-100 characters without spaces or control characters."""
    if (not isinstance(value, str) or not value.strip() or len(value) > USERNAME_MAX_LENGTH
            or any(c.isspace() for c in value) or bad_character(value, multiline=False)):
        raise InputError(f"username {value!r} must be 1-{USERNAME_MAX_LENGTH} characters without "
                         "spaces", field=field, value=_shown(value),
                         max_length=USERNAME_MAX_LENGTH)
    return value


def _shown(value: Any) -> Any:
    """A value as an error may carry it: text as it is (cut to 200 characters), else its repr."""
    return value[:200] if isinstance(value, str) else repr(value)[:200]


#: The longest e-mail address (RFC 5321's path limit).
EMAIL_MAX_LENGTH = 254
_EMAIL = __import__("re").compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def email(value: Any, field: str = "email") -> str | None:
    """An optional e-mail address: None or '' for none; otherwise one plain address."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    address = text(value, field, max_length=EMAIL_MAX_LENGTH)
    if not _EMAIL.match(address):
        raise InputError(f"{field} {address!r} is not an e-mail address (name@example.go.jp)",
                         field=field, value=address)
    return address
