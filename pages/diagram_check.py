"""Hidden self-check page (/diagram_check, not in the menu): Mermaid diagrams draw offline. Used by browser tests."""

from ui.mermaid import diagram_check_page

diagram_check_page()
