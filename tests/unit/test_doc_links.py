"""
Every relative link in README.md and docs/**/*.md points at a file of the repository, and a
`#fragment` into a Markdown file at one of its headings (GitHub's anchors), so the manual cannot
rot when a page or a section moves. Links to other sites are not followed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted([REPO_ROOT / "README.md", *(REPO_ROOT / "docs").rglob("*.md")])

FENCE = re.compile(r"^\s*(```|~~~)")
# [text](target) or [text](target "title"); an image ![alt](target) too. Text may hold `code`.
INLINE_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
CODE_SPAN = re.compile(r"(`+)(.+?)\1")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.I)  # http:, https:, mailto:, ...


def prose_lines(text: str) -> Iterator[tuple[int, str]]:
    """(line number, line) outside fenced code blocks."""
    fenced = False
    for number, line in enumerate(text.splitlines(), start=1):
        if FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            yield number, line


def links(text: str) -> list[tuple[int, str]]:
    """(line number, target) of every inline link outside code blocks and code spans."""
    found = []
    for number, line in prose_lines(text):
        for match in INLINE_LINK.finditer(CODE_SPAN.sub(lambda m: "x" * len(m.group(0)), line)):
            found.append((number, match.group(1)))
    return found


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens."""
    text = CODE_SPAN.sub(lambda m: m.group(2), heading)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)  # a link in a heading: its text
    text = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return text.replace(" ", "-")


def anchors(text: str) -> set[str]:
    """Every heading's anchor; a repeated heading gets -1, -2, ... as on GitHub."""
    seen: dict[str, int] = {}
    result = set()
    for _, line in prose_lines(text):
        match = HEADING.match(line)
        if not match:
            continue
        base = slug(match.group(2))
        count = seen.get(base, 0)
        seen[base] = count + 1
        result.add(base if count == 0 else f"{base}-{count}")
    return result


def broken_links(page: Path, root: Path = REPO_ROOT) -> list[str]:
    """What is wrong with each relative link of `page` (a file under `root`), as 'path:line: target: why'."""
    text = page.read_text(encoding="utf-8")
    problems = []
    for number, target in links(text):
        if EXTERNAL.match(target):
            continue
        path_part, _, fragment = target.partition("#")
        resolved = (page.parent / unquote(path_part)).resolve() if path_part else page
        where = f"{page.relative_to(root)}:{number}: {target}"
        if not resolved.is_relative_to(root):
            problems.append(f"{where}: points outside the repository")
        elif not resolved.exists():
            problems.append(f"{where}: no such file")
        elif fragment and resolved.suffix == ".md" and resolved.is_file():
            if unquote(fragment).lower() not in anchors(resolved.read_text(encoding="utf-8")):
                problems.append(f"{where}: no heading with that anchor")
    return problems


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(REPO_ROOT)) for p in PAGES])
def test_every_relative_link_resolves(page: Path) -> None:
    """Each relative link of the page names an existing file, and an existing heading after '#'."""
    assert [] == broken_links(page)


def test_the_manual_index_links_every_page_of_docs() -> None:
    """docs/README.md links each page of docs/ (a new page is listed in the index)."""
    index = REPO_ROOT / "docs" / "README.md"
    linked = {
        (index.parent / target.partition("#")[0]).resolve()
        for _, target in links(index.read_text(encoding="utf-8"))
        if not EXTERNAL.match(target)
    }
    pages = {p.resolve() for p in (REPO_ROOT / "docs").glob("*.md")} - {index.resolve()}

    assert [] == sorted(str(p.relative_to(REPO_ROOT)) for p in pages - linked)


class TestTheChecker:
    """The checker itself finds what it must (so that a passing run means something)."""

    def test_a_missing_file_and_a_missing_anchor_are_reported(self, tmp_path: Path) -> None:
        """A link to no file, and one to no heading, are both reported; good ones are not."""
        text = (
            "# Title\n\n## The `token` API (v2)\n\n"
            "[a](missing-page.md) [b](#the-token-api-v2) [c](#nowhere) [d](https://example.com/x)\n"
            "[g](other.md#title) [h](other.md#gone) [i](../outside.md)\n"
            "```\n[e](in-a-code-block.md)\n```\n`[f](in-a-code-span.md)`\n"
        )
        (tmp_path / "docs").mkdir()
        page = tmp_path / "docs" / "page.md"
        page.write_text(text, encoding="utf-8")
        (tmp_path / "docs" / "other.md").write_text("# Title\n", encoding="utf-8")

        assert [
            "docs/page.md:5: missing-page.md: no such file",
            "docs/page.md:5: #nowhere: no heading with that anchor",
            "docs/page.md:6: other.md#gone: no heading with that anchor",
            "docs/page.md:6: ../outside.md: no such file",
        ] == broken_links(page, root=tmp_path)

    @pytest.mark.parametrize(
        ("heading", "expected"),
        [
            ("2. The token API (`/scim/auth-tokens`)", "2-the-token-api-scimauth-tokens"),
            ("SAML issuers: spar, or the gateway's IdP registry", "saml-issuers-spar-or-the-gateways-idp-registry"),
            ("A fault rule (`brig_lite.faults[]`)", "a-fault-rule-brig_litefaults"),
            ("5.4 SAML issuers: where the gateway reads them", "54-saml-issuers-where-the-gateway-reads-them"),
        ],
    )
    def test_anchors_are_githubs(self, heading: str, expected: str) -> None:
        """Headings turn into the anchors GitHub gives them."""
        assert expected == slug(heading)

    def test_repeated_headings_are_numbered(self) -> None:
        """A second heading with the same text gets '-1'."""
        assert {"usage", "usage-1"} == anchors("## Usage\n\n## Usage\n")
