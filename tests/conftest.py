"""Fixtures shared by the test modules: one thread for tiny models, real MNIST digits (small), a clock a test moves
by hand, and the whole app run the way the server runs it. A module opts in with
`pytestmark = pytest.mark.usefixtures("one_thread")` or by naming a fixture as an argument."""

from collections.abc import Iterator

import pytest
import torch

from aigc_core.mnist import Digits, ImageSource, load_mnist


@pytest.fixture(scope="module")
def one_thread() -> Iterator[None]:
    """Tiny models: one thread is fastest, and two OpenMP threads on a busy 2-core machine can be 30x slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def digits() -> Digits:
    test = load_mnist("test")
    return Digits(images=test.images[:512], labels=test.labels[:512])


@pytest.fixture(scope="module")
def signed(digits) -> ImageSource:
    return ImageSource(digits, pixel_range="signed")


@pytest.fixture(scope="module")
def unit(digits) -> ImageSource:
    return ImageSource(digits, pixel_range="unit")


class FakeClock:
    """Stands in for `time.monotonic` where a registry takes a clock: a test moves `now` by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def whole_app() -> Iterator[None]:
    """AppTest runs `app.py` + `st.navigation` on every run, as the server does (see tests/apptest_app.py)."""
    from apptest_app import run_like_server  # imported here: most test modules never start Streamlit

    with run_like_server():
        yield


@pytest.fixture(scope="session", autouse=True)
def _autosave_folder(tmp_path_factory) -> Iterator[None]:
    """Runs that page tests train are autosaved (ui/server/autosave.py) into this session's own folder, never the
    repository's; a test that looks at autosaves sets AIGC_AUTOSAVE_DIR itself."""
    import os

    before = os.environ.get("AIGC_AUTOSAVE_DIR")
    os.environ["AIGC_AUTOSAVE_DIR"] = str(tmp_path_factory.mktemp("autosave"))
    yield
    if before is None:
        os.environ.pop("AIGC_AUTOSAVE_DIR", None)
    else:
        os.environ["AIGC_AUTOSAVE_DIR"] = before
