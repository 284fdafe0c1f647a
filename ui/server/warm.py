"""Work a fresh server does once, before a browser asks for it: run by the launcher (ui/server/launch.py) in a
background thread, never by a page.

Everything here goes into shared, read-only places (the interpreter's modules, `st.cache_resource` /
`st.cache_data`), so a session that asks meanwhile waits on the same import or cache lock instead of doing the work
twice, and sees exactly what it would have computed itself (same seed, same picture).
"""

from __future__ import annotations

import ast
import gc
import importlib
import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "app.py"
HOME = ROOT / "pages" / "home.py"
PAGES = ROOT / "pages"
HOME_WAIT_S = 20.0  # a first visit that is not Home (a deep link) must not hold the other pages' warming for long


def script_imports(path: Path) -> list[str]:
    """The modules a script imports at its top level, in order, `from package import module` included (read from
    its source: the script stays the one home of the list). Finding a submodule imports its package."""
    modules: list[str] = []
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Import):
            modules += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module != "__future__":
            modules += [node.module, *_submodules(node.module, [alias.name for alias in node.names])]
    return modules


def _submodules(package: str, names: list[str]) -> list[str]:
    """Which of `names`, imported from `package`, are modules of it (none when it is a plain module)."""
    spec = importlib.util.find_spec(package)
    if spec is None or spec.submodule_search_locations is None:
        return []
    return [f"{package}.{name}" for name in names if importlib.util.find_spec(f"{package}.{name}") is not None]


def import_scripts(*scripts: Path) -> None:
    for script in scripts:
        for module in script_imports(script):
            importlib.import_module(module)


def home() -> None:
    """What the first run of app.py and Home needs: their modules (PyTorch among them), then Home's sample grids."""
    import_scripts(APP, HOME)
    settle_imports()
    # Deferred: this module is imported before the server is up, and these pull in PyTorch.
    from aigc_core.device import one_thread
    from ui.home.view import warm_samples

    # One intra-op thread for these small batches: with two, every operation waits for both cores, and while the
    # browser loads the frontend one of them is busy (measured: Home usable ~0.3 s sooner in bench_browser).
    with one_thread():
        warm_samples()


def settle_imports() -> None:
    """Turn the garbage collector back on (the launcher turns it off at start), first moving everything imported so
    far into its permanent generation: modules, classes and functions live as long as the server, and with PyTorch
    loaded each full collection walked all of them (~0.1 s each, three during Home's imports; ~0.25 s saved)."""
    gc.freeze()
    gc.enable()


def menu_pages() -> list[Path]:
    """The page files in app.py's menu order (its PAGES table), then any other page file."""
    for node in ast.parse(APP.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(isinstance(target, ast.Name) and target.id == "PAGES"
                                                for target in node.targets):
            menu = [ROOT / row[0] for row in ast.literal_eval(node.value)]
            return menu + sorted(set(PAGES.glob("*.py")) - set(menu))
    return sorted(PAGES.glob("*.py"))


def other_pages() -> None:
    """The shared part of the other pages' first visits, in menu order: their modules (the Train page's first
    optimizer too), the shipped models, the Latent Explorer's encodings."""
    import torch  # deferred, as in home()

    for page in menu_pages():
        import_scripts(page)
        if page.stem == "train":  # its first optimizer imports torch._dynamo (about 1 s of CPU)
            torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], foreach=True)
    # Deferred, as in home(): these pull in PyTorch.
    from ui.latent.sources import pretrained_encoding
    from ui.resources import available_pretrained, try_pretrained

    for name in available_pretrained():
        checkpoint, _ = try_pretrained(name)
        if checkpoint is not None and checkpoint.family == "vae":  # the Latent Explorer's map of each shipped VAE
            pretrained_encoding(name)
    # Deferred, as above. Concepts & Math's first batch for the shipped denoiser (None when there is none).
    from ui.concepts.view import FIRST_BATCH_SEED, shipped_diffusion_numbers

    shipped_diffusion_numbers(FIRST_BATCH_SEED)
    # Deferred, as above. Which generator?'s first grids and sampling times (the diffusion model's take seconds).
    from ui.compare.side_by_side import warm_grids

    warm_grids()


def after_home() -> None:
    """The other pages, once a session has drawn Home (or after HOME_WAIT_S): earlier, their work would compete
    with that first Home run for the interpreter."""
    # Deferred, as in home().
    from ui.home.view import HOME_DRAWN

    HOME_DRAWN.wait(HOME_WAIT_S)
    other_pages()
