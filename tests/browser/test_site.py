"""The built site, as a learner sees it, in headless Chromium with every request outside 127.0.0.1 refused.

For every page of the table of contents: the page and everything it loads answer 200 and stay on 127.0.0.1; no
JavaScript errors; MathJax (served by the site itself) has typeset the math and left no raw TeX; every image has
loaded and has alt text or a caption; notebook pages link to Colab at their own path; exercise solutions open and
close. A full-page screenshot of each page goes to ``_build/screenshots/``. Also: the search page finds "Adam" and
"dropout", internal links resolve, and no page weighs more than 3 MB (HTML, its own images and animations).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urldefrag, urljoin, urlparse

import pytest
import yaml

from conftest import ROOT, SCREENSHOTS, SITE, toc_pages

PAGES = toc_pages()
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
MAX_PAGE_BYTES = 3 * 1024 * 1024


def _visit(browser, url: str):
    """Open ``url`` with the network cut off beyond 127.0.0.1; return (page, problems)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    problems: list[str] = []

    def route(route):
        host = urlparse(route.request.url).hostname
        if route.request.url.startswith("data:") or host == "127.0.0.1":
            route.continue_()
        else:
            problems.append(f"request leaves 127.0.0.1: {route.request.url}")
            route.abort()

    page.route("**/*", route)
    page.on("console", lambda msg: msg.type == "error" and problems.append(f"console error: {msg.text}"))
    page.on("pageerror", lambda err: problems.append(f"JavaScript error: {err}"))
    page.on("requestfailed", lambda req: "127.0.0.1" in req.url and problems.append(f"failed: {req.url}"))
    page.on("response", lambda r: r.status != 200 and problems.append(f"HTTP {r.status}: {r.url}"))
    response = page.goto(url, wait_until="load")
    assert response is not None and response.status == 200, f"{url} answered {response and response.status}"
    page.wait_for_load_state("networkidle")
    return page, problems


def _wait_for_math(page) -> None:
    page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=30000)
    page.evaluate("() => MathJax.startup.promise")


RAW_TEX = """() => {
    const body = document.querySelector('main') || document.body;
    const copy = body.cloneNode(true);
    copy.querySelectorAll('pre, code, script, style, textarea, .highlight, mjx-assistive-mml').forEach(e => e.remove());
    return copy.innerText;
}"""


@pytest.mark.parametrize("name", PAGES)
def test_page(browser, site_url, name):
    page, problems = _visit(browser, f"{site_url}/{name}.html")
    try:
        has_math = page.locator(".math").count() > 0
        if has_math:
            _wait_for_math(page)
            assert page.locator("mjx-container").count() >= page.locator(".math").count(), "math left untypeset"
            errors = page.eval_on_selector_all("mjx-merror", "els => els.map(e => e.getAttribute('data-mjx-error'))")
            assert not errors, f"MathJax errors on {name}: {errors}"
            # \text{...} is text mode, where MathJax (without its textmacros package) shows \_ as typed
            literal = page.eval_on_selector_all(
                "mjx-assistive-mml mtext", "els => els.map(e => e.textContent).filter(t => t.includes('\\\\'))")
            assert not literal, f"TeX commands shown as text on {name} (use \\mathrm in math): {literal}"
        text = page.evaluate(RAW_TEX)
        for raw in ("$$", "\\(", "\\["):
            assert raw not in text, f"raw TeX {raw!r} left in the text of {name}"

        images = page.evaluate("""() => Array.from(document.querySelectorAll('main img')).map(img => ({
            src: img.getAttribute('src'), width: img.naturalWidth, alt: (img.getAttribute('alt') || '').trim(),
            caption: !!(img.closest('figure') && img.closest('figure').querySelector('figcaption'))}))""")
        for image in images:
            source = image["src"][:100]  # data: URLs of animation frames are long
            assert image["width"] > 0, f"image not loaded on {name}: {source}"
            meaningful_alt = image["alt"] and "_images/" not in image["alt"] and not image["alt"].endswith(".png")
            assert meaningful_alt or image["caption"], f"image without alt text or caption on {name}: {source}"

        if (ROOT / f"{name}.ipynb").exists():
            repo = CONFIG["repository"]["url"].removeprefix("https://github.com/")
            expected = (f"https://colab.research.google.com/github/{repo}/blob/"
                        f"{CONFIG['repository']['branch']}/{name}.ipynb")
            hrefs = page.eval_on_selector_all("a[href*='colab.research.google.com']", "els => els.map(e => e.href)")
            assert expected in hrefs, f"Colab link of {name}: {hrefs}"

        solutions = page.locator(".solution.dropdown")
        for i in range(solutions.count()):
            solution = solutions.nth(i)
            body = solution.locator(":scope > :not(.admonition-title)").first
            assert not body.is_visible(), f"solution {i} of {name} starts open"
            solution.locator(".admonition-title").click()
            assert body.is_visible(), f"solution {i} of {name} does not open"
            solution.locator(".admonition-title").click()
            assert not body.is_visible(), f"solution {i} of {name} does not close"

        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name.replace('/', '__')}.png"), full_page=True)
        assert not problems, "\n".join(problems)
    finally:
        page.context.close()


@pytest.mark.parametrize("term", ["Adam", "dropout"])
def test_search_finds(browser, site_url, term):
    page, problems = _visit(browser, f"{site_url}/search.html?q={term}")
    try:
        page.wait_for_selector("#search-results ul.search li", timeout=30000)
        results = page.locator("#search-results ul.search li").count()
        assert results > 0, f"no search results for {term}"
        assert not problems, "\n".join(problems)
    finally:
        page.context.close()


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()
        self.images: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        if tag == "img" and attrs.get("src"):
            self.images.append(attrs["src"])


def _parse(path: Path) -> _Links:
    parser = _Links()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def test_internal_links_resolve():
    broken = []
    parsed: dict[Path, _Links] = {}
    for name in PAGES:
        source = SITE / f"{name}.html"
        links = parsed.setdefault(source, _parse(source)).links
        for href in links:
            if re.match(r"^[a-z]+:", href) and not href.startswith("file:"):
                continue  # external (https:, mailto:) links are not internal
            target, fragment = urldefrag(urljoin(source.as_uri(), href))
            path = Path(unquote(urlparse(target).path))
            if path.is_dir():
                path = path / "index.html"
            if not path.exists():
                broken.append(f"{name}: {href}")
            elif fragment and path.suffix == ".html":
                ids = parsed.setdefault(path, _parse(path)).ids
                if unquote(fragment) not in ids:
                    broken.append(f"{name}: {href} (no anchor)")
    assert not broken, "\n".join(broken)


def test_page_weight(capsys):
    rows = []
    for name in PAGES:
        html = SITE / f"{name}.html"
        own_images = {urljoin(html.as_uri(), src) for src in _parse(html).images if "_static/" not in src}
        images = sum(Path(unquote(urlparse(u).path)).stat().st_size for u in own_images
                     if Path(unquote(urlparse(u).path)).exists())
        rows.append((name, html.stat().st_size + images))
    report = "\n".join(f"{weight / 1024:9.0f} KiB  {name}" for name, weight in sorted(rows, key=lambda r: -r[1]))
    (SITE.parent / "page-weights.txt").write_text(report + "\n")
    with capsys.disabled():
        print("\nPage weight (HTML + own images + inline animations):\n" + report)
    heavy = [f"{name}: {weight / 2**20:.1f} MB" for name, weight in rows if weight > MAX_PAGE_BYTES]
    assert not heavy, "pages over 3 MB: " + ", ".join(heavy)
