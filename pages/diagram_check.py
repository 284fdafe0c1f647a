"""Hidden self-check page (/diagram_check, not in the menu): Mermaid diagrams draw offline. Used by browser tests."""

from ui.mermaid import diagram_check_page
from ui.router import through_app

through_app()  # first: a deep link on a fresh server still runs inside app.py (ui/router.py)

diagram_check_page()
