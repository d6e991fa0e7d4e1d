"""Lesson Markdown to safe HTML: markdown-it renders, nh3 (Ammonia) sanitizes."""
from __future__ import annotations

import functools
from collections.abc import Callable

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

_md = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table").enable("strikethrough")

ALLOWED_TAGS = {
    "a", "abbr", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5", "h6",
    "hr", "img", "li", "ol", "p", "pre", "strong", "table", "tbody", "td", "th", "thead", "tr", "ul",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}}
URL_SCHEMES = {"http", "https", "mailto"}


def render(text: str, resolve_url: Callable[[str], str] | None = None) -> Markup:
    """Render lesson Markdown; `resolve_url` rewrites relative links such as `assets/x.png`."""
    html = _md.render(text or "")
    attribute_filter = None
    if resolve_url is not None:
        def attribute_filter(tag: str, attr: str, value: str) -> str | None:
            if (tag, attr) in {("img", "src"), ("a", "href")}:
                return resolve_url(value)
            return value
    clean = nh3.clean(
        html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow", attribute_filter=attribute_filter,
    )
    return Markup(clean)


@functools.lru_cache(maxsize=4096)
def render_cached(text: str) -> Markup:
    """render() of a short text with no links to resolve (a portfolio piece's description), kept
    per text: a public portfolio page shows 20 of them on every view."""
    return render(text)
