"""ui.mermaid builds a self-contained HTML document; the source is embedded safely and the library is local."""

from __future__ import annotations

import json
import re
from pathlib import Path

from ui.mermaid import MERMAID_STATIC_PATH, mermaid_html

ROOT = Path(__file__).resolve().parents[1]


def _embedded_source(document: str) -> str:
    literal = re.search(r"const source = (.*?);\n", document).group(1)
    return json.loads(literal)


def test_vendored_library_is_present():
    library = ROOT / "static" / "mermaid" / "mermaid.min.js"
    assert library.stat().st_size > 1_000_000
    assert (ROOT / "static" / "mermaid" / "LICENSE").is_file()
    assert MERMAID_STATIC_PATH == "app/static/mermaid/mermaid.min.js"


def test_script_comes_from_static_serving_not_a_cdn():
    document = mermaid_html("flowchart LR\n  A --> B")
    sources = re.findall(r'<script src="([^"]+)"', document)
    assert sources == ["/app/static/mermaid/mermaid.min.js"]
    assert "http://" not in document and "https://" not in document


def test_source_round_trips_and_cannot_close_the_script():
    nasty = 'flowchart LR\n  A["</script><script>alert(1)</script> & \\"quotes\\""] --> B\n  %% 中文 ✓'
    document = mermaid_html(nasty)
    assert _embedded_source(document) == nasty
    assert document.count("</script>") == 3  # only the template's own three script elements


def test_uid_is_sanitised():
    document = mermaid_html("graph TD; A-->B", uid='x" onload="evil')
    assert 'onload="evil' not in document
