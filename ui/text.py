"""Text from outside (file names, config keys and values, CSV cells, error messages that quote them) shown as text.

Streamlit renders messages as Markdown: an uploaded file named ``![x](http://host/a.png)`` would become an image the
browser fetches (the app would no longer be offline), a bare ``http://`` text a live link. Every such string goes
through `plain` on its way into a message. Pure: no Streamlit import.
"""

from __future__ import annotations

import string
import unicodedata

# Backslash-escaping every ASCII punctuation character is always literal in CommonMark, and it also breaks the
# GFM autolinks (``http\:/\/``, ``www\.``) that escaping only Markdown's own syntax would leave live.
_ESCAPES = {ord(ch): "\\" + ch for ch in string.punctuation}
DEFAULT_LIMIT = 200  # characters shown of one outside string; a longer one ends with "…"


def plain(value: object, limit: int = DEFAULT_LIMIT) -> str:
    """`value` as literal Markdown text: punctuation escaped, control and direction-changing characters dropped,
    line breaks as spaces, at most `limit` characters (before escaping)."""
    text = str(value)
    shown = []
    for ch in text:
        if ch in "\r\n\t":
            shown.append(" ")
        elif unicodedata.category(ch) in {"Cc", "Cf", "Co", "Cs"}:
            continue  # NUL, bidi overrides (U+202E), zero-width joiners: never shown, never reorder the message
        else:
            shown.append(ch)
    cleaned = "".join(shown)
    if len(cleaned) > limit:
        cleaned = cleaned[: limit - 1] + "…"
    return cleaned.translate(_ESCAPES)
