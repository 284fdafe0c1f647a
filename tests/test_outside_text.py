"""Text from outside is only ever text: file names, config values and CSV cells reach messages through
`ui.text.plain`, so Markdown and HTML in them are shown, not rendered (no image fetched, no live link).

The payload hosts are under the reserved `.invalid` domain: nothing here can reach a real address.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from aigc_core.checkpoints import checkpoint_zip
from aigc_core.models.gan import ARTICLE_GAN
from aigc_core.models.registry import build_model
from ui.text import DEFAULT_LIMIT, MARKUP, plain

ROOT = Path(__file__).resolve().parents[1]
TRAIN = str(ROOT / "pages" / "train.py")
PLAYGROUND = str(ROOT / "pages" / "playground.py")

PAYLOADS = [
    "![x](http://img.example.invalid/a.png) [click me](http://link.example.invalid/p)",
    "<img src=http://img.example.invalid/b.png><script>alert(1)</script>",
    "see http://auto.example.invalid/x and www.example.invalid",
    "**bold** _it_ `code` # heading\n\n- list\n> quote",
    "a\u202eexe.png\u0000\u200b",
    "1. WWW.example.invalid :red[x] $x^2$ user@example.invalid",  # a right-to-left override, NUL and a zero-width space
    "名字" * 500,
]


def autolinked(text: str) -> bool:
    """Would GFM make a link of it? It looks for these in the text after backslash escapes are resolved."""
    return bool(re.search(r"(?i)(https?://|www\.|[\w.+-]@[-\w]+\.)", re.sub(r"\\(.)", r"\1", text)))


def markdown_active(text: str) -> bool:
    """True when a markup character is not backslash-escaped (it could start Markdown, HTML or a directive), the
    text would be autolinked, or it starts like a list or a quote."""
    i = 0
    while i < len(text):
        if text[i] == "\\":
            i += 2
        elif text[i] in MARKUP:
            return True
        else:
            i += 1
    return autolinked(text) or bool(re.match(r"\s*([-+>]|\d+[.)])", text))


@pytest.mark.parametrize("payload", PAYLOADS)
def test_plain_leaves_no_markup_and_bounds_the_length(payload):
    shown = plain(payload)
    assert not markdown_active(shown)
    assert "\n" not in shown and "\u202e" not in shown and "\u0000" not in shown
    assert len(shown.replace("\\", "")) <= DEFAULT_LIMIT


def test_the_render_check_can_fail():
    assert renders(PAYLOADS[0]) and renders(PAYLOADS[1]) and renders(PAYLOADS[2])
    assert not any(renders(plain(payload)) for payload in PAYLOADS)


def test_plain_keeps_ordinary_text_readable():
    assert plain("digits-7.png") == "digits-7.png"  # reads the same in the page source
    assert plain("1,085,457 weights, it's big.") == "1,085,457 weights, it's big."
    assert plain("- 1. not a list") == r"\- 1. not a list" and plain("12) x") == r"12\) x"
    assert plain(12345) == "12345"
    assert markdown_active("![x](y)") and not markdown_active(r"\!\[x\]\(y\)")  # the checker itself can fail


def _zip_with_architecture(architecture: str) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(checkpoint_zip(build_model(ARTICLE_GAN))))
    config = json.loads(source.read("config.json"))
    config["architecture"] = architecture
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("config.json", json.dumps(config))
        archive.writestr("model.safetensors", source.read("model.safetensors"))
    return out.getvalue()


def renders(message: str) -> bool:
    """Would this message render a link, an image, HTML or an autolink? (Its own text may carry markup of ours, so
    only the payload's tell-tale sequences are looked for, unescaped.)"""
    return bool(re.search(r"(?<!\\)(\]\(|<)", message)) or autolinked(message)


def _messages(at: AppTest) -> list[str]:
    return [str(e.value) for kind in ("error", "warning", "success", "info", "caption", "toast")
            for e in getattr(at, kind)]


def test_train_upload_shows_a_hostile_config_and_file_name_as_text():
    payload = PAYLOADS[0]
    at = AppTest.from_file(TRAIN, default_timeout=120).run()
    at.button(key="train_btn_step_g").click().run()
    at.file_uploader(key="train_upload").upload(f"{payload}.zip", _zip_with_architecture(payload),
                                                "application/zip").run()
    assert not at.exception
    errors = [str(e.value) for e in at.error]
    assert any("example" in e for e in errors), errors  # the message is there ...
    assert not any(renders(m) for m in _messages(at))  # ... and nothing in it renders
    assert at.session_state["train_run"].trainer.iteration == 1  # the trained model is kept

    good = checkpoint_zip(build_model(ARTICLE_GAN))
    at.file_uploader(key="train_upload").upload(f"{payload}.zip", good, "application/zip").run()
    assert not at.exception
    shown = [m for m in _messages(at) if "example" in m]
    assert shown, _messages(at)  # the file name is shown (the caption names the upload) ...
    assert not any(renders(m) for m in shown)  # ... as text


def test_playground_csv_name_and_cells_are_text():
    payload = PAYLOADS[1]
    at = AppTest.from_file(PLAYGROUND, default_timeout=120)
    at.session_state["pg_data"] = "custom"
    at.run()
    csv = f"x,y\n{payload},1\n".encode()
    at.file_uploader(key="pg_upload").set_value((f"{payload}.csv", csv, "text/csv")).run()
    assert not at.exception
    shown = [m for m in _messages(at) if "example" in m]
    assert shown, _messages(at)
    assert not any(renders(m) for m in shown)
