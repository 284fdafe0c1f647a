"""Start AIGC Lab: `python -m ui.server.launch [streamlit run options]` (what scripts/run.sh runs).

Streamlit runs app.py only when the first browser session connects, so a plain `streamlit run app.py` imports
PyTorch, loads the pretrained models and samples Home's grids strictly after the browser has loaded Streamlit's
frontend. This launcher runs Streamlit's own CLI in this process and, once the server is listening, does that work
in a background thread (ui/server/warm.py) while the browser loads the frontend. Figures: bench/bench_browser.py.
"""

from __future__ import annotations

import gc
import logging
import sys
import threading
import time

from ui.server import warm

SERVER_WAIT_S = 120.0
READY = "  Home is ready: modules imported, sample grids cached."

_LOGGER = logging.getLogger(__name__)


def _server_started(timeout_s: float) -> bool:
    """True once Streamlit's runtime has started. Starting earlier measured no faster: the imports take turns with
    the server's own start-up on the interpreter lock, and the health check answered later."""
    from streamlit.runtime import Runtime, RuntimeState

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if Runtime.exists() and Runtime.instance().state != RuntimeState.INITIAL:
            return True
        time.sleep(0.02)
    return False


def _warm_in_background() -> None:
    """A failure here costs only speed: the first page view does the same work and reports any error itself."""
    try:
        if _server_started(SERVER_WAIT_S):
            warm.home()
            print(READY, flush=True)  # under Streamlit's own "You can now view your Streamlit app" lines
            warm.after_home()
    except Exception:  # see the docstring
        _LOGGER.warning("Warming up failed; the first page views will do the work", exc_info=True)
    finally:
        gc.enable()  # warm.home() does it once Home's modules are in; this is for a failure before that


def main(argv: list[str] | None = None) -> None:
    """`streamlit run app.py` with `argv` as extra options (e.g. --server.port 8600), plus the warming thread."""
    # Off until Home's modules are imported (warm.settle_imports): each full collection walks every object the
    # imports have made so far, and there is no garbage worth collecting during a start.
    gc.disable()
    from streamlit.web import cli

    threading.Thread(target=_warm_in_background, name="aigc-warm", daemon=True).start()
    cli.main(args=["run", str(warm.APP), *(sys.argv[1:] if argv is None else argv)], prog_name="streamlit")


if __name__ == "__main__":
    main()
