"""Sphinx extension: make the built site self-contained, so a classroom with no network can read all of it.

1. MathJax 3 is served from the site itself instead of a CDN.
2. No page loads anything from a CDN. Thebe (live code cells through Binder, which this book does not offer: chapters run in Colab instead) is
   dropped from the pages: sphinx-thebe, which Jupyter Book 1 always loads, adds its configuration script twice,
   a JavaScript error in every browser, and points at a CDN copy of thebe.
3. A figure that a notebook cell drew, or an animation it rendered to HTML, gets real alternative text: the
   first sentence of the paragraph that follows its cell, which by the book's convention says what the figure
   shows (myst-nb would otherwise use the image's file name, and matplotlib's animation player none at all).
   A cell can set its own with the metadata ``mystnb: {image: {alt: ...}}``.

MathJax comes from the PyPI package ``django-static-mathjax`` (listed in requirements.txt; it installs the
MathJax 3 distribution as the static files of a Python package and needs nothing else). After a successful HTML
build the parts the site uses are copied into ``_build/html/_static/mathjax/`` and every page loads
``_static/mathjax/tex-chtml.js`` instead of the CDN copy that Sphinx would otherwise link to.
"""

from __future__ import annotations

import html
import importlib.util
import re
import shutil
from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.errors import ExtensionError

# What the pages load (the TeX input, HTML output and menu) and what MathJax may fetch on demand
# (TeX extensions through \require or autoload, fonts, the accessibility tools), but not the SVG output
# or the other combined bundles, which the site never asks for.
KEEP = ["tex-chtml.js", "input", "output/chtml.js", "output/chtml", "ui", "a11y", "sre", "adaptors"]


def mathjax_source() -> Path:
    """The ``es5`` folder of the installed MathJax distribution."""
    spec = importlib.util.find_spec("mathjax")
    if spec is None or not spec.submodule_search_locations:
        raise ExtensionError(
            "MathJax is not installed: run `pip install django-static-mathjax` (it is in requirements.txt)"
        )
    es5 = Path(list(spec.submodule_search_locations)[0]) / "static" / "mathjax" / "es5"
    if not (es5 / "tex-chtml.js").exists():
        raise ExtensionError(f"no MathJax distribution found at {es5}")
    return es5


def _use_local_copy(app: Sphinx, config) -> None:
    mathjax_source()  # fail early, before the build, if it is missing
    # A relative mathjax_path is resolved against the site's _static folder.
    config.mathjax_path = "mathjax/tex-chtml.js"


def _copy(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    source = mathjax_source()
    target = Path(app.outdir) / "_static" / "mathjax"
    for name in KEEP:
        src = source / name
        if src.is_dir():
            shutil.copytree(src, target / name, dirs_exist_ok=True)
        elif src.exists():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, target / name)


def _drop_thebe(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    def is_thebe(asset) -> bool:
        filename = str(getattr(asset, "filename", asset) or "")
        body = str(getattr(asset, "attributes", {}).get("body", ""))
        return "thebe" in filename or "THEBE_JS_URL" in body

    for key in ("script_files", "css_files"):
        if key in context:
            context[key] = [asset for asset in context[key] if not is_thebe(asset)]


def _first_sentence(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    match = re.match(r"(.+?[.!?])(\s|$)", text)
    sentence = match.group(1) if match else text
    return sentence if len(sentence) <= limit else sentence[: limit - 1].rstrip() + "…"


def _description(node: nodes.Node, docname: str) -> str:
    """The first sentence of the paragraph after the notebook cell that holds ``node``."""
    cell = node  # climb to the notebook cell that holds the node: the child of its section
    while cell.parent is not None and not isinstance(cell.parent, (nodes.section, nodes.document)):
        cell = cell.parent
    container = cell.parent
    if container is not None:
        for sibling in container.children[container.index(cell) + 1:]:
            if isinstance(sibling, nodes.paragraph):
                return _first_sentence(sibling.astext())
    title = container[0].astext() if isinstance(container, nodes.section) else docname
    return f"A figure of the section '{title}'"


# matplotlib's JavaScript animation player shows its frames in an <img> without alt text, and links Font
# Awesome 4 from a CDN for its buttons; the theme's own Font Awesome (served locally) draws those icons.
ANIMATION_IMAGE = re.compile(r'<img id="_anim_img')
CDN_STYLESHEET = re.compile(r'<link rel="stylesheet"\s+href="https://[^"]*font-awesome[^"]*">\s*')


def _describe_figures(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    for image in list(doctree.findall(nodes.image)):
        alt = image.get("alt", "")
        if alt and "_images/" not in alt and not alt.endswith((".png", ".jpg", ".svg")):
            continue  # the author's own alt text
        image["alt"] = _description(image, docname)
    for raw in list(doctree.findall(nodes.raw)):
        if raw.get("format") == "html" and ANIMATION_IMAGE.search(raw.astext()):
            alt = html.escape(f"Animation: {_description(raw, docname)}", quote=True)
            text = ANIMATION_IMAGE.sub(f'<img alt="{alt}" id="_anim_img', raw.astext())
            text = CDN_STYLESHEET.sub("", text)
            raw.replace_self(nodes.raw(text, text, format="html"))


def setup(app: Sphinx) -> dict:
    app.connect("doctree-resolved", _describe_figures)
    app.connect("config-inited", _use_local_copy)
    app.connect("html-page-context", _drop_thebe)
    app.connect("build-finished", _copy)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
