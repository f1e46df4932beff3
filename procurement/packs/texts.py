"""Pack texts in several languages: picking one for display, and the loader's checks.

A text is a mapping language code -> string. A pack declares its `languages` (the first is the
one every text must have); a pack without `languages` is a legacy pack whose texts hold exactly
`ja` and `en`, both required.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

#: The languages of a pack that does not declare `languages`.
LEGACY_LANGUAGES: tuple[str, ...] = ("ja", "en")
LANGUAGE_RE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


def pick_text(texts: Mapping[str, str] | None, lang: str | None,
              pack_languages: Sequence[str] = LEGACY_LANGUAGES) -> str | None:
    """The text in `lang` when the mapping has it, else in the pack's first language.

    None stays None (an optional text that is absent). A mapping that has neither (only possible
    for data not checked by the loader) gives its first value rather than failing on display.
    """
    if texts is None:
        return None
    if lang and lang in texts:
        return texts[lang]
    first = pack_languages[0] if pack_languages else None
    if first is not None and first in texts:
        return texts[first]
    return next(iter(texts.values()), "")


def text_problems(text: Mapping[str, str], languages: Sequence[str], declared: bool) -> list[tuple[str | None, str]]:
    """What is wrong with one text: (language key or None for the text itself, message)."""
    problems: list[tuple[str | None, str]] = []
    for key in text:
        if key not in languages:
            if declared:
                problems.append((key, f"language {key!r} is not declared in languages ({', '.join(languages)})"))
            else:
                message = (f"unknown key {key!r} (allowed: ja, en; a pack that declares "
                           "`languages` may use others)")
                problems.append((key, message))
    if declared:
        if languages[0] not in text:
            message = f"missing the pack's first language {languages[0]!r} (every text must have it)"
            problems.append((None, message))
    else:
        for lang in LEGACY_LANGUAGES:
            if lang not in text:
                problems.append((None, f"missing key {lang!r}"))
    return problems
