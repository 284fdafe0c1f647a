"""Text from outside stays text in a real browser: hostile file names, config values, CSV cells and URL values go
through every message path (Train upload, Playground CSV upload, a tampered share link), and the page shows them
without an image, a link or HTML, and without a single request leaving 127.0.0.1.

Payload hosts are under the reserved `.invalid` domain only.
"""

from __future__ import annotations

import io
import json
import zipfile
from urllib.parse import quote

from e2e_support import foreign_requests, wait_for_app

from aigc_core.checkpoints import checkpoint_zip
from aigc_core.models.gan import ARTICLE_GAN
from aigc_core.models.registry import build_model

PAYLOAD = ("![x](http://img.example.invalid/a.png) [click me](http://link.example.invalid/p) "
           "<img src=http://img.example.invalid/b.png><b>bold</b> www.example.invalid \u202e")


def _hostile_zip() -> bytes:
    source = zipfile.ZipFile(io.BytesIO(checkpoint_zip(build_model(ARTICLE_GAN))))
    config = json.loads(source.read("config.json"))
    config["architecture"] = PAYLOAD
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("config.json", json.dumps(config))
        archive.writestr("model.safetensors", source.read("model.safetensors"))
    return out.getvalue()


def _nothing_rendered(page) -> None:
    app = page.locator('[data-testid="stApp"]')
    assert app.locator('a[href*="example.invalid"]').count() == 0  # no live link
    assert app.locator('img[src*="example.invalid"]').count() == 0  # no image the browser would fetch
    assert app.locator("b:text-is('bold')").count() == 0  # no HTML
    assert not foreign_requests(page), foreign_requests(page)
    assert page.locator('[data-testid="stException"]').count() == 0


def _upload(page, name: str, data: bytes, mime: str) -> None:
    page.locator('[data-testid="stFileUploader"] input[type="file"]').first.set_input_files(
        {"name": name, "mimeType": mime, "buffer": data})
    wait_for_app(page)


def test_hostile_names_and_values_stay_text(page, app_url, screenshot):
    page.goto(app_url)
    wait_for_app(page)
    # Train > Save and load: a checkpoint whose config names a hostile architecture, under a hostile file name.
    page.goto(f"{app_url}/train")
    wait_for_app(page)
    page.get_by_role("tab").nth(3).click()
    _upload(page, f"{PAYLOAD}.zip", _hostile_zip(), "application/zip")
    page.get_by_text("Could not load this file").first.wait_for()
    assert "img.example.invalid" in page.locator('[data-testid="stApp"]').inner_text()  # shown, as text
    _nothing_rendered(page)
    screenshot("outside_text_train_en")

    # Playground: a CSV with a hostile name and cell.
    page.goto(f"{app_url}/playground")
    wait_for_app(page)
    page.get_by_text("Your own points").first.click() if page.get_by_text("Your own points").count() else None
    page.goto(f"{app_url}/playground?data=custom")
    wait_for_app(page)
    _upload(page, f"{PAYLOAD}.csv", f"x,y\n{PAYLOAD},1\n".encode(), "text/csv")
    page.get_by_text("cannot be used").first.wait_for()
    _nothing_rendered(page)
    screenshot("outside_text_playground_en")

    # A tampered share link: every value is refused with a notice that quotes it, as text.
    page.goto(f"{app_url}/train?preset={quote(PAYLOAD)}&loss={quote(PAYLOAD)}")
    wait_for_app(page)
    _nothing_rendered(page)
