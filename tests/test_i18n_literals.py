"""No user-facing text written as a literal in the UI code: every string goes through ``ui.i18n.t``.

A light heuristic over the syntax tree of ``app.py``, ``pages/*.py`` and ``ui/*.py``: a call such as
``st.button("Start")``, ``col.caption(f"Step {n}")`` or ``st.slider("Learning rate", ...)`` whose text
argument is a literal containing words (any script, so Chinese literals count too). Literals without words
("---", "→", a lone math symbol such as "x" or "β") and calls on loggers are fine. For a real exception (a
brand name, say) put ``# i18n: ok`` on the line.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FILES = sorted([ROOT / "app.py", *ROOT.glob("pages/*.py"), *ROOT.glob("ui/*.py")])

# Streamlit calls whose first argument (or label/body keyword) is shown to the user.
TEXT_CALLS = frozenset({
    "title", "header", "subheader", "markdown", "write", "caption", "text", "info", "warning", "error",
    "success", "toast", "expander", "popover", "status", "spinner", "metric", "tabs", "button", "download_button",
    "link_button", "page_link", "form_submit_button", "checkbox", "toggle", "radio", "selectbox",
    "multiselect", "slider", "select_slider", "number_input", "text_input", "text_area", "file_uploader",
    "segmented_control", "pills", "color_picker", "date_input", "camera_input", "feedback", "progress",
})
TEXT_KEYWORDS = frozenset({"label", "body", "help", "placeholder", "caption", "text"})
ALLOW = "# i18n: ok"


def _receiver_is_a_logger(func: ast.Attribute) -> bool:
    node = func.value
    while isinstance(node, ast.Attribute):
        node = node.value
    return isinstance(node, ast.Name) and ("log" in node.id.lower() or node.id in {"warnings", "parser"})


def _literal_text(node: ast.AST) -> str | None:
    """The literal text of a str constant, of the fixed parts of an f-string, or of a list/tuple of them."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str))
    if isinstance(node, (ast.List, ast.Tuple)):
        parts = [_literal_text(e) for e in node.elts]
        return " ".join(p for p in parts if p)
    return None


def _has_words(text: str) -> bool:
    # One letter alone is a math symbol ("x", "z", "β"), the same in every language; two or more make a word.
    return sum(ch.isalpha() for ch in text) >= 2


def offenders(path: Path, root: Path = ROOT) -> list[str]:
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    found = []
    for node in ast.walk(ast.parse(source, filename=str(path))):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr not in TEXT_CALLS or _receiver_is_a_logger(node.func):
            continue
        candidates = node.args[:1] + [k.value for k in node.keywords if k.arg in TEXT_KEYWORDS]
        for arg in candidates:
            text = _literal_text(arg)
            if text and _has_words(text) and ALLOW not in lines[node.lineno - 1]:
                found.append(f"{path.relative_to(root)}:{node.lineno}: {node.func.attr}({text[:60]!r})")
    return found


def test_no_user_facing_literals_outside_the_locales():
    found = [line for path in FILES for line in offenders(path)]
    assert not found, "user-facing literals; move them to locales/{en,zh}/<page>.toml and use t():\n" + "\n".join(found)


def test_the_heuristic_finds_what_it_should(tmp_path):
    sample = tmp_path / "page.py"
    sample.write_text(
        "import streamlit as st\nimport logging\nlog = logging.getLogger()\n"
        "st.button('Start')\n"                      # 4: offender
        "col.caption(f'Step {n} of {m}')\n"         # 5: offender (fixed words in an f-string)
        "st.slider(label='学习率', min_value=0)\n"   # 6: offender (Chinese literal)
        "st.tabs(['Losses', t('x')])\n"             # 7: offender
        "st.markdown('---')\n"                      # fine: no letters
        "st.number_input('x')\n"                   # fine: a math symbol
        "st.markdown(f'**{t(\"a\")}**')\n"          # fine
        "log.warning('not shown to users')\n"       # fine: a logger
        "st.title('AIGC Lab')  # i18n: ok\n"        # fine: marked
        "st.button(t('x'), help='Explains')\n",     # 13: offender (help text)
        encoding="utf-8",
    )
    found = sorted((line.split(":")[1] for line in offenders(sample, tmp_path)), key=int)
    assert found == ["4", "5", "6", "7", "13"], found

