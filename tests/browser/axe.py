"""axe-core in the browser tests: what an accessibility checker finds on the page as it is now.

axe-core is vendored under `vendor/axe-core/` (see its README) for the tests only; the app never
serves it. The app's Content-Security-Policy allows no inline script, so `add_script_tag` would be
refused; the script text is evaluated through the DevTools protocol instead (`page.evaluate`),
which a page's CSP does not govern.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

AXE_SCRIPT = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"

# WCAG 2.0 and 2.1, levels A and AA, and axe's best practices: the landmark and skip-link rules
# (one main, unique landmarks, a skip link that leads somewhere) are best practices, not WCAG.
TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice")


@dataclass
class AxeResult:
    """One page state checked: how many rules applied and passed, and what was violated."""

    page: str
    url: str
    passed: int
    violations: list[dict] = field(default_factory=list)
    incomplete: int = 0

    @property
    def checked(self) -> int:
        return self.passed + len(self.violations)

    def summary(self) -> str:
        """One line per page for the test's output, then one line per violated rule."""
        nodes = sum(len(rule["nodes"]) for rule in self.violations)
        head = (
            f"axe {self.page:<28} rules checked {self.checked:>3}, passed {self.passed:>3}, "
            f"violations {len(self.violations)} ({nodes} elements)"
        )
        return "\n".join([head, *(f"    {line}" for line in self.lines())])

    def lines(self) -> list[str]:
        out = []
        for rule in self.violations:
            for node in rule["nodes"]:
                target = " ".join(str(part) for part in node["target"])
                # "Fix any of the following:\n  <the first way to fix it>\n  ..."
                fixes = [line.strip() for line in (node["summary"] or "").splitlines()[1:2]]
                out.append(
                    f"{rule['id']} ({rule['impact']}): {target}: {(fixes or [rule['help']])[0]}"
                )
        return out


@cache
def _axe_source() -> str:
    return AXE_SCRIPT.read_text(encoding="utf-8")


def _is_axe_style_refusal(problem: str) -> bool:
    """The CSP refusing a <style> that axe made, not one of the app's.

    For its css-orientation-lock rule axe reads the page's stylesheets, and copies an @import-ed
    one (the admin's forms.css imports widgets.css) into a <style> of a scratch document, which
    inherits the page's CSP. That refusal is reported with no URL; a style in the app's own markup
    is reported with the page's URL, and stays a problem.
    """
    return "Applying inline style violates" in problem and "'url': ''" in problem


def check(page, name: str, *, watch=None, exclude: tuple[str, ...] = ()) -> AxeResult:
    """Run axe-core on `page` as it is now; `name` says which page state this is.

    With the test's `watch`, what axe itself made the browser complain of is taken back out.
    """
    before = len(watch.problems) if watch is not None else 0
    if not page.evaluate("() => typeof window.axe === 'object'"):
        # A function body, so the script's own statements run as they would in a <script>.
        page.evaluate(f"() => {{ {_axe_source()}\n; window.axe = axe; }}")
    raw = page.evaluate(
        """async ([tags, exclude]) => {
            // The page as it settles: a running animation (htmx's yellow flash on swapped-in
            // content) would be measured mid-fade as a contrast fault. Only animations that end
            // are awaited (a spinner's `infinite` one never does: awaiting it hung the run), and
            // never for more than 3 s.
            const ending = document.getAnimations().filter((a) => {
                const end = a.effect ? a.effect.getComputedTiming().endTime : Infinity;
                return Number.isFinite(end);
            });
            await Promise.race([
                Promise.all(ending.map((a) => a.finished.catch(() => null))),
                new Promise((settle) => setTimeout(settle, 3000)),
            ]);
            const context = exclude.length ? {exclude: exclude.map((s) => [s])} : document;
            const r = await axe.run(context, {
                runOnly: {type: "tag", values: tags},
                resultTypes: ["violations"],
            });
            return {
                passed: r.passes.length,
                incomplete: r.incomplete.length,
                violations: r.violations.map((v) => ({
                    id: v.id, impact: v.impact, help: v.help,
                    nodes: v.nodes.map((n) => ({target: n.target, summary: n.failureSummary})),
                })),
            };
        }""",
        [list(TAGS), list(exclude)],
    )
    if watch is not None:
        during = watch.problems[before:]
        watch.problems[before:] = [p for p in during if not _is_axe_style_refusal(p)]
    return AxeResult(
        page=name,
        url=page.url,
        passed=raw["passed"],
        violations=raw["violations"],
        incomplete=raw["incomplete"],
    )


def report(results: list[AxeResult]) -> str:
    """All the page states checked, as printed at the end of a test."""
    lines = [result.summary() for result in results]
    total = sum(len(result.violations) for result in results)
    lines.append(f"axe: {len(results)} page states, {total} rule violations")
    return "\n".join(lines)


def as_json(results: list[AxeResult]) -> str:
    return json.dumps(
        [
            {"page": r.page, "url": r.url, "passed": r.passed, "violations": r.violations}
            for r in results
        ],
        indent=1,
    )
