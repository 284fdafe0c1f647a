"""Text from outside (file names, config keys and values, CSV cells, error messages that quote them) shown as text.

Streamlit renders messages as Markdown: an uploaded file named ``![x](http://host/a.png)`` would become an image the
browser fetches (the app would no longer be offline), a bare ``http://`` text a live link. Every such string goes
through `plain` on its way into a message. Pure: no Streamlit import.
"""

from __future__ import annotations

import re
import unicodedata

# Backslash escapes are always literal in CommonMark. Escaped: links and images ([ ] ( ) !), HTML (< > &), emphasis
# and code (* _ ` ~), math ($), Streamlit's colour and icon directives (: [ ]), tables (|) and headings (#).
# Commas, full stops and quotes stay as they are, so numbers and sentences read the same in the page source.
MARKUP = "\\`*_{}[]()<>#!|~$:@&"
_ESCAPES = {ord(ch): "\\" + ch for ch in MARKUP}
_LINE_START = re.compile(r"^(\s*)([-+=>]|\d+(?=[.)]))")  # what would start a list, quote or heading at the start
# GFM finds autolinks in the text after escapes are resolved, so escaping cannot stop them: a zero-width space
# (U+200B, invisible) after "://"'s colon, inside "www." and after "@" breaks the patterns it looks for.
_WWW = re.compile(r"(www)\.", re.IGNORECASE)
_AUTOLINK = re.compile(r"(\\:)(?=/)|(www)(?=\\\.)|(\\@)", re.IGNORECASE)
DEFAULT_LIMIT = 200  # characters shown of one outside string; a longer one ends with "…"


def plain(value: object, limit: int = DEFAULT_LIMIT) -> str:
    """`value` as literal Markdown text: markup characters escaped, control and direction-changing characters dropped,
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
    escaped = _AUTOLINK.sub(lambda m: m.group(0) + "\u200b", _WWW.sub(r"\1\\.", cleaned.translate(_ESCAPES)))
    return _LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2) if not m.group(2).isdigit()
                           else m.group(1) + m.group(2) + "\\", escaped)
