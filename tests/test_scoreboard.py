"""The class scoreboard (ui/server/scoreboard.py): nicknames are validated, the board is bounded (a flood of names is
refused, never stored), ranked by accuracy, reset by the teacher, and safe to share between sessions' threads."""

import threading

import pytest

from ui.server.scoreboard import NICK_MAX, Scoreboard, check_nickname


@pytest.mark.parametrize("raw, kept", [("Ada", "Ada"), ("  ada   lovelace ", "ada lovelace"), ("小明", "小明"),
                                       ("r2-d2.v_1", "r2-d2.v_1"), ("x" * NICK_MAX, "x" * NICK_MAX)])
def test_good_nicknames(raw, kept):
    assert check_nickname(raw) == (kept, None)


@pytest.mark.parametrize("raw, problem", [("", "empty"), ("   ", "empty"), (None, "empty"), ("x" * (NICK_MAX + 1), "too_long"),
                                          ("[x](http://a.b)", "bad_chars"), ("<b>hi</b>", "bad_chars"),
                                          ("a\u202eb", "bad_chars"), ("-lead", "bad_chars"), ("**bold**", "bad_chars")])
def test_bad_nicknames(raw, problem):
    assert check_nickname(raw) == (None, problem)


def test_rounds_add_up_per_nickname_and_rank_by_accuracy():
    board = Scoreboard()
    assert board.add("Ada", 12, 16) == "added"
    assert board.add("ADA", 16, 16) == "updated"  # same player, whatever the case
    assert board.add("Bo", 15, 16) == "added"
    assert board.add("Cy", 8, 16) == "added"
    top = board.top()
    assert [(r.nickname, r.rounds, r.correct, r.total) for r in top] == [
        ("Bo", 1, 15, 16), ("Ada", 2, 28, 32), ("Cy", 1, 8, 16)]
    assert board.top(2)[-1].nickname == "Ada"
    with pytest.raises(ValueError):
        board.add("<script>", 1, 16)
    with pytest.raises(ValueError):
        board.add("Ada", 17, 16)


def test_a_flood_of_names_is_refused_and_the_board_stays_bounded():
    board = Scoreboard(max_names=5)
    assert [board.add(f"p{i}", 1, 2) for i in range(5)] == ["added"] * 5
    assert [board.add(f"flood{i}", 2, 2) for i in range(1000)] == ["full"] * 1000
    assert len(board) == 5 and all(r.nickname.startswith("p") for r in board.top())
    assert board.add("p3", 2, 2) == "updated"  # players already on the board still play on


def test_reset_empties_the_board():
    board = Scoreboard()
    board.add("Ada", 1, 2)
    board.add("Bo", 2, 2)
    assert board.reset() == 2
    assert len(board) == 0 and board.top() == []
    assert board.add("Ada", 1, 2) == "added"


def test_many_threads_at_once_lose_nothing_and_never_pass_the_cap():
    board = Scoreboard(max_names=30)
    start = threading.Barrier(8)

    def play(worker: int) -> None:
        start.wait()
        for i in range(200):
            board.add(f"shared{i % 5}", 1, 2)  # 5 names every thread writes to
            board.add(f"w{worker}n{i}", 1, 1)  # a flood of new names racing for the 25 free places
            board.top()

    threads = [threading.Thread(target=play, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(board) == 30
    shared = {r.nickname: r for r in board.top(100) if r.nickname.startswith("shared")}
    assert sorted(shared) == [f"shared{i}" for i in range(5)]
    assert all(r.rounds == 8 * 40 and r.correct == 8 * 40 and r.total == 2 * 8 * 40 for r in shared.values())
