"""Accessibility (axe-core) and HTML (the Nu HTML checker) checks of pages served by the live server.

Both tools come from npm (``npm ci``: package.json pins ``axe-core`` and ``vnu-jar``). axe runs in
the page, injected with ``page.add_script_tag``; the pages it audits are opened in a browser context
with ``bypass_csp=True`` for that reason only (the same pages are opened without it first, and any
CSP violation fails the test). vnu runs once per test on the HTML exactly as the server sent it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

NODE_MODULES = Path(settings.BASE_DIR) / "node_modules"
AXE = NODE_MODULES / "axe-core" / "axe.min.js"
VNU = NODE_MODULES / "vnu-jar" / "build" / "dist" / "vnu.jar"
FAILING_IMPACTS = ("serious", "critical")


def tools_missing() -> str:
    missing = [str(p) for p in (AXE, VNU) if not p.exists()]
    if missing:
        return f"missing {', '.join(missing)}: run `npm ci`"
    if not shutil.which("java"):
        return "java is missing: apt-get install -y default-jre-headless"
    return ""


def axe_violations(page, *, in_place: bool = False) -> list[dict]:
    """Serious and critical axe violations of the page as it is now (WCAG 2.x A/AA and best practices).

    ``in_place``: audit the page in its own tab, under its CSP, e.g. a page reached by a POST, which
    cannot be opened again in a context that bypasses the CSP. axe's source is then evaluated through the
    DevTools protocol (which the page's CSP does not govern) instead of being added as an inline script
    (which it forbids), and without axe's "preload" of the style sheets: it inserts inline ``<style>``
    elements, which the CSP refuses and the flow would report. Only ``css-orientation-lock`` needs it.
    """
    if in_place:
        page.evaluate(AXE.read_text(encoding="utf-8"))
    else:
        page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        """async (preload) => {
        const r = await axe.run(document, {resultTypes: ["violations"], preload});
        return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.map(n => n.target.join(" ")).slice(0, 5)}));
    }""",
        not in_place,
    )
    return [v for v in result if v["impact"] in FAILING_IMPACTS]


def vnu_errors(files: list[Path]) -> dict[str, list[str]]:
    """Errors the Nu HTML checker finds in each file (warnings are not errors)."""
    if not files:
        return {}
    completed = subprocess.run(
        ["java", "-Xss4m", "-jar", str(VNU), "--format", "json", "--errors-only", *map(str, files)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    report = json.loads(completed.stderr or completed.stdout or '{"messages": []}')
    errors: dict[str, list[str]] = {}
    for message in report["messages"]:
        if message.get("type") == "error" or message.get("subType") == "fatal":
            name = Path(message.get("url", "?").removeprefix("file:")).name
            errors.setdefault(name, []).append(
                f"line {message.get('lastLine', '?')}: {message['message']} [{message.get('extract', '').strip()[:80]}]"
            )
    return errors


@dataclass
class Audit:
    """Pages visited for the checks, and what each check found; ``report()`` is empty when all is well."""

    folder: Path
    axe: dict[str, list[dict]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)

    def save_html(self, name: str, html: bytes) -> None:
        path = self.folder / f"{name}.html"
        path.write_bytes(html)
        self.files.append(path)

    def report(self) -> str:
        lines = []
        for name, violations in self.axe.items():
            for v in violations:
                lines.append(f"axe {name}: {v['impact']} {v['id']} ({v['help']}) at {v['nodes']}")
        for name, errors in vnu_errors(self.files).items():
            lines += [f"vnu {name}: {error}" for error in errors]
        lines += self.problems
        return "\n".join(lines)
