"""The core stays plain PyTorch + NumPy: nothing under aigc_core/ imports Streamlit (or the app's ui/ package)."""

import ast
from pathlib import Path

CORE = Path(__file__).resolve().parent.parent / "aigc_core"


def _imported_modules(path: Path) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.add(node.module)
    return modules


def test_the_core_never_imports_streamlit_or_the_ui():
    files = sorted(CORE.rglob("*.py"))
    assert len(files) > 20 and CORE / "lessons" / "__init__.py" in files  # subpackages are walked too
    offenders = {
        str(path.relative_to(CORE)): sorted(m for m in _imported_modules(path) if m.split(".")[0] in {"streamlit", "ui"})
        for path in files
    }
    assert not {k: v for k, v in offenders.items() if v}


def test_the_layering_check_sees_function_level_imports(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    import streamlit as st\n    from ui.i18n import t\n")
    assert _imported_modules(sample) == {"streamlit", "ui.i18n"}


def test_the_share_codec_stays_pure():
    """ui/share/codec.py parses untrusted URLs; it is tested on its own, so it must not need Streamlit or i18n."""
    codec = CORE.parent / "ui" / "share_codec.py"
    assert not {m for m in _imported_modules(codec) if m.split(".")[0] in {"streamlit", "ui"}}
