"""Mermaid diagrams drawn in the browser, offline.

The diagram is an HTML document handed to ``st.iframe`` (it becomes the iframe's ``srcdoc``, which may run
scripts). That document loads the vendored ``static/mermaid/mermaid.min.js`` from Streamlit's static file
serving (``server.enableStaticServing = true``), so nothing is fetched from the internet. Mermaid's own parse
error is shown inside the frame if the source is bad; the page around it keeps working. The source is also shown
in an expander so it can be copied.
"""

from __future__ import annotations

import html
import json

import streamlit as st

from ui.i18n import current_language, t

MERMAID_STATIC_PATH = "app/static/mermaid/mermaid.min.js"

# The frame's body carries data-status = loading | ok | error, so browser tests can wait for the outcome.
_TEMPLATE = """<!doctype html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<style>
  html, body {{ margin: 0; padding: 0; background: transparent; }}
  body {{ font-family: "Source Sans Pro", "Helvetica Neue", Arial, sans-serif; color: {text_color}; }}
  #diagram {{ display: flex; justify-content: center; }}
  #diagram svg {{ max-width: 100%; height: auto; }}
  .note {{ padding: 0.75rem 1rem; border-radius: 0.5rem; font-size: 0.9rem; }}
  .loading {{ color: #6b7280; opacity: 0; animation: appear 0s linear 0.4s forwards; }}
  @keyframes appear {{ to {{ opacity: 1; }} }}
  .error {{ background: #fdecec; color: #8a1c1c; white-space: pre-wrap; font-family: monospace; }}
</style>
</head>
<body data-status="loading">
<div id="diagram"><div class="note loading">{loading}</div></div>
<script>
  function showError(message) {{
    const box = document.createElement("div");
    box.className = "note error";
    box.textContent = message;
    document.getElementById("diagram").replaceChildren(box);
    document.body.dataset.status = "error";
  }}
  function loadFailed() {{ showError({load_failed}); }}
</script>
<script src="{script_src}" onerror="loadFailed()"></script>
<script>
(async () => {{
  if (typeof mermaid === "undefined") {{ loadFailed(); return; }}
  const source = {source};
  try {{
    mermaid.initialize({{ startOnLoad: false, securityLevel: "strict", theme: {mermaid_theme} }});
    await mermaid.parse(source);  // throws a readable error for a bad source
    const {{ svg }} = await mermaid.render("mermaid-{uid}", source);
    document.getElementById("diagram").innerHTML = svg;
    document.body.dataset.status = "ok";
  }} catch (err) {{
    showError({error_title} + "\\n" + String((err && err.message) || err));
    // mermaid.render can leave a temporary element behind when it fails
    document.querySelectorAll("#dmermaid-{uid}, #mermaid-{uid}").forEach((el) => el.remove());
  }}
}})();
</script>
</body>
</html>
"""


def _js_string(value: str) -> str:
    """A JavaScript string literal that is also safe inside a <script> element (no ``</script>`` break-out)."""
    return json.dumps(value).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def static_url(path: str) -> str:
    base = (st.get_option("server.baseUrlPath") or "").strip("/")
    return f"/{base}/{path}" if base else f"/{path}"


def _dark_theme() -> bool:
    try:
        return st.context.theme.type == "dark"
    except Exception:  # no browser session (tests, bare mode)
        return False


def mermaid_html(source: str, *, uid: str = "diagram", dark: bool = False, lang: str = "en") -> str:
    """The self-contained HTML document that draws ``source`` (exposed for tests); `lang` tells a screen reader
    the language of its labels."""
    safe_uid = "".join(c if c.isalnum() else "-" for c in uid) or "diagram"
    return _TEMPLATE.format(
        lang=html.escape(lang, quote=True),
        text_color="#E6E7EB" if dark else "#1F2330",
        mermaid_theme=_js_string("dark" if dark else "default"),
        loading=html.escape(t("common.mermaid_loading")),
        load_failed=_js_string(t("common.mermaid_load_failed")),
        error_title=_js_string(t("common.mermaid_error")),
        script_src=html.escape(static_url(MERMAID_STATIC_PATH), quote=True),
        source=_js_string(source),
        uid=safe_uid,
    )


def render_mermaid(source: str, *, height: int = 420, key: str | None = None, title: str | None = None) -> None:
    """Draw a Mermaid diagram (as SVG, in an iframe) and show its source in an expander below it.

    ``key`` names the surrounding container (CSS class ``st-key-<key>``), for tests and for styling. ``title``
    names the frame for a screen reader (each frame on a page needs its own name; default "Diagram").
    """
    with st.container(key=key):
        document = mermaid_html(source, uid=key or "diagram", dark=_dark_theme(), lang=current_language())
        st.iframe(document, height=height, alt=title or t("common.mermaid_alt"))
        with st.expander(t("common.mermaid_source")):
            st.code(source, language="text")


def _label(key: str) -> str:
    return '"' + t(key).replace('"', "#quot;") + '"'


def diagram_check_page() -> None:
    """A hidden self-check page (registered in app.py): one valid diagram and one with a deliberate mistake."""
    st.title(t("diagnostics.title"))
    st.write(t("diagnostics.intro"))
    good = "\n".join(
        [
            "flowchart LR",
            f"  z[{_label('diagnostics.noise')}] --> G[{_label('diagnostics.generator')}]",
            f"  G --> fake[{_label('diagnostics.fake')}] --> D[{_label('diagnostics.discriminator')}]",
            f"  real[{_label('diagnostics.real')}] --> D",
            f"  D --> loss([{_label('diagnostics.loss')}])",
            f"  loss -.->|{_label('diagnostics.gradient')}| G",
            f"  loss -.->|{_label('diagnostics.gradient')}| D",
        ]
    )
    st.subheader(t("diagnostics.good_heading"))
    render_mermaid(good, height=260, key="mermaid_check_good")
    st.subheader(t("diagnostics.bad_heading"))
    render_mermaid("flowchart LR\n  A --> B -->\n  this is not mermaid ((", height=160, key="mermaid_check_bad")
