"""The Real-or-fake tab under AppTest: play a round (tick, submit, see the score and which model fooled you), the
detector's held-out figures beside the player, and teacher mode's class scoreboard (nickname, flood, reset)."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ui.risks.game import STATE_KEY
from ui.server.scoreboard import class_board

PAGE = str(Path(__file__).resolve().parents[1] / "pages" / "risks.py")


def _page(**query: str) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120)
    for key, value in query.items():
        at.query_params[key] = value
    return at.run()


def _tick(at: AppTest, positions) -> None:
    for position in positions:
        at.checkbox(key=f"risks_game_mark_{at.session_state[STATE_KEY].round.seed}_{position}").check()


def _submit(at: AppTest) -> AppTest:
    next(b for b in at.button if b.label == "Check my answers").click()
    return at.run()


def _table(at: AppTest, column: str):
    """The first table with `column` (other tabs of the page draw tables too)."""
    return next(frame.value for frame in at.dataframe if column in frame.value.columns)


def _texts(at: AppTest) -> str:
    return " ".join(str(e.value) for kind in ("markdown", "success", "info", "caption", "warning") for e in getattr(at, kind))


def test_play_a_round_perfectly_then_get_fooled():
    at = _page()
    assert not at.exception
    game = at.session_state[STATE_KEY].round
    marks = [c for c in at.checkbox if c.key.startswith(f"risks_game_mark_{game.seed}_")]
    assert len(marks) == 16 and marks[0].label == "#1 is fake" and not any(c.value for c in marks)
    assert len(at.image) == 16
    _tick(at, game.fake_positions)
    at = _submit(at)
    assert not at.exception
    assert "You judged **16 of 16** right: you caught 8 of 8" in _texts(at)
    assert "No generated digit has fooled you yet." in _texts(at)
    assert "On this round the detector judged" in _texts(at)  # the detector re-measured live on this round
    next(b for b in at.button if b.label == "New round").click()
    at.run()
    second = at.session_state[STATE_KEY].round
    assert second.seed != game.seed
    fake = min(second.fake_positions)
    at = _submit(at)  # nothing ticked: every fake got past
    assert "You judged **8 of 16** right: you caught 0 of 8" in _texts(at)
    assert "The model that fooled you most: **" in _texts(at)
    table = _table(at, "detector caught")
    assert table["seen"].sum() == 16
    assert table.loc[table["model"] == second.tiles[fake].source, "you caught"].iloc[0] != "—"


def test_detector_figures_come_from_its_config():
    at = _page()
    from ui.resources import pretrained

    metrics = pretrained("detector").provenance["metrics"]
    detector = next(m for m in at.metric if m.label == "Detector accuracy")
    assert detector.value == f"{100 * metrics['accuracy']:.0f}%"
    table = _table(at, "detector caught")
    for name, figures in metrics["per_model"].items():
        assert table.loc[table["model"] == name, "detector caught"].iloc[0] == f"{100 * figures['caught']:.0f}%"


def test_chinese_round():
    at = _page(lang="zh")
    assert not at.exception
    assert any(c.label == "#1 是假的" for c in at.checkbox)


@pytest.fixture
def empty_board():
    class_board().reset()
    yield class_board()
    class_board().reset()


def test_teacher_scoreboard_nickname_rounds_and_reset(empty_board):
    at = _page(teacher="1")
    assert not at.exception
    assert "No rounds yet" in _texts(at)
    at.text_input(key="risks_game_nickname").input("[Ada](http://x.y)").run()
    assert any("letters, digits, spaces" in str(w.value) for w in at.warning)  # markup is refused
    at.text_input(key="risks_game_nickname").input("Ada").run()
    _tick(at, at.session_state[STATE_KEY].round.fake_positions)
    at = _submit(at)
    assert "Added to the class scoreboard as Ada." in _texts(at)
    board = _table(at, "nickname")
    assert list(board["nickname"]) == ["Ada"] and list(board["right"]) == ["100%"]
    assert len(empty_board) == 1

    for i in range(len(empty_board), empty_board.max_names):  # other sessions fill the board
        empty_board.add(f"p{i}", 1, 16)
    next(b for b in at.button if b.label == "New round").click()
    at.run()
    at.text_input(key="risks_game_nickname").input("Late").run()
    at = _submit(at)
    assert "The class scoreboard is full (200 names)" in _texts(at)
    assert len(empty_board) == empty_board.max_names

    reset = next(b for b in at.button if b.label == "Reset the scoreboard")
    assert reset.disabled  # not without the teacher's confirmation
    at.checkbox(key="risks_game_board_confirm").check().run()
    next(b for b in at.button if b.label == "Reset the scoreboard").click()
    at.run()
    assert "The scoreboard was reset (200 name(s) removed)." in _texts(at)
    assert len(empty_board) == 0 and "No rounds yet" in _texts(at)


def test_no_board_outside_teacher_mode(empty_board):
    at = _page()
    assert not any(getattr(t, "key", None) == "risks_game_nickname" for t in at.text_input)
    _tick(at, [0])
    _submit(at)
    assert len(empty_board) == 0
