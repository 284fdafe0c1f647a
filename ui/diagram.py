"""A Mermaid diagram that updates in place while training runs.

`ui.mermaid.render_mermaid` draws into a fresh iframe document, which is right for a diagram that changes on a
click (slow motion), but the live view redraws several times a second: reloading the frame and Mermaid each time
would flash "Drawing the diagram…" and cost the browser far more than the drawing itself. This component (an
``st.components.v2`` component) loads the vendored Mermaid once per page and, when the source changes, renders
the new SVG off-screen and swaps it in, so the picture never blanks. Same offline library, same strict security
level; the source stays visible and copyable in an expander, as with `render_mermaid`.

The element carries ``data-status`` = loading | ok | error for the browser tests.
"""

from __future__ import annotations

import streamlit as st

from ui.i18n import t
from ui.mermaid import MERMAID_STATIC_PATH, static_url

_HTML = '<div class="live-diagram" data-status="loading"></div>'
_CSS = """
.live-diagram { display: flex; justify-content: center; min-height: 120px; }
.live-diagram svg { max-width: 100%; height: auto; }
.live-diagram .note { padding: 0.75rem 1rem; border-radius: 0.5rem; font-size: 0.9rem; color: #6b7280; }
.live-diagram .error { background: #fdecec; color: #8a1c1c; white-space: pre-wrap; font-family: monospace; }
"""
_JS = """
let loading = null;
let counter = 0;

function loadMermaid(src) {
  if (window.mermaid) return Promise.resolve(window.mermaid);
  if (!loading) {
    loading = new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = src;
      script.onload = () => {
        window.mermaid.initialize({ startOnLoad: false, securityLevel: "strict", theme: "default" });
        resolve(window.mermaid);
      };
      script.onerror = () => { loading = null; reject(new Error("load failed")); };
      document.head.appendChild(script);
    });
  }
  return loading;
}

function note(box, text, kind) {
  const div = document.createElement("div");
  div.className = "note " + kind;
  div.textContent = text;
  box.replaceChildren(div);
}

export default function (component) {
  const { data, parentElement } = component;
  const box = parentElement.querySelector(".live-diagram");
  if (!box || !data || box.dataset.source === data.source) return;
  box.dataset.source = data.source;
  if (!box.firstChild) note(box, data.loading, "loading");
  loadMermaid(data.script).then(async (mermaid) => {
    const id = "aigc-live-mermaid-" + (++counter);
    try {
      const { svg } = await mermaid.render(id, data.source);
      if (box.dataset.source !== data.source) return;  // a newer source arrived meanwhile
      box.innerHTML = svg;
      box.dataset.status = "ok";
    } catch (err) {
      note(box, data.error + "\\n" + String((err && err.message) || err), "error");
      box.dataset.status = "error";
      document.querySelectorAll("#" + id + ", #d" + id).forEach((el) => el.remove());
    }
  }).catch(() => {
    note(box, data.load_failed, "error");
    box.dataset.status = "error";
  });
}
"""

_component = st.components.v2.component("aigc_live_mermaid", html=_HTML, css=_CSS, js=_JS)


def live_mermaid(source: str, *, key: str, height: int | str = "content") -> None:
    """Draw `source` (Mermaid) and keep the picture while a new source renders; the source in an expander."""
    with st.container(key=key):
        _component(
            data={
                "source": source,
                "script": static_url(MERMAID_STATIC_PATH),
                "loading": t("common.mermaid_loading"),
                "load_failed": t("common.mermaid_load_failed"),
                "error": t("common.mermaid_error"),
            },
            key=f"{key}_component",
            height=height,
        )
        with st.expander(t("common.mermaid_source")):
            st.code(source, language="text")
