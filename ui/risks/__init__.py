"""Responsible AIGC, measured: does a model copy its training data, what membership inference learns from it, what
differential privacy costs and buys, and whether people (and a detector) can tell real digits from generated ones.
One module per tab of pages/risks.py: copying.py, membership.py, privacy.py, game.py."""
