"""Static files that no test would otherwise parse."""

import re
from pathlib import Path

import pytest
from django.conf import settings

CSS = sorted((Path(settings.BASE_DIR) / "static" / "css").glob("*.css"))


def blocks(css: str) -> list[tuple[int, str]]:
    """(depth, text before each ``{``) of a style sheet without comments and strings; the depth after the last
    character must be 0."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    css = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'', '""', css)
    depth, found, start = 0, [], 0
    for i, char in enumerate(css):
        if char == "{":
            found.append((depth, css[start:i].strip()))
            depth += 1
            start = i + 1
        elif char == "}":
            depth -= 1
            assert depth >= 0, f"a closing brace too many near {css[max(0, i - 60) : i]!r}"
            start = i + 1
        elif char == ";" and depth == 0:
            start = i + 1
    assert depth == 0, f"{depth} block(s) not closed"
    return found


@pytest.mark.parametrize("path", CSS, ids=[path.name for path in CSS])
def test_style_sheets_close_every_block(path):
    blocks(path.read_text(encoding="utf-8"))


def test_admin_screen_styles_are_not_print_only():
    """Regression (found by the e2e staff flow): the ``@media print`` block of admin-operations.css was left
    open when two style sheets were merged, so the audit trail, the operations dashboard's grid and the
    booking page's actions were styled on paper only."""
    found = blocks((Path(settings.BASE_DIR) / "static" / "css" / "admin-operations.css").read_text(encoding="utf-8"))
    top_level = {selector for depth, selector in found if depth == 0}

    assert {".audit-trail", ".ops-grid", ".ops-index-link", ".manifest-checkin__form .button"} <= top_level
    assert "@media print" in top_level
