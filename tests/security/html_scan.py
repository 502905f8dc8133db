"""Find markup in a rendered page that the templates did not write: the trace of an injection.

The templates have no inline scripts, event handlers or style attributes (tests/test_security.py
keeps it so), use a known set of elements, and link only to http(s), mailto, tel, relative URLs and
``data:`` images. So a parsed page holding any ``on…`` attribute, ``style`` attribute, ``srcdoc``,
an element the templates never use, a script that is not one of our static files, or a link with a
script-capable scheme got it from user input. Parsing (not searching the text) is what makes this
exact: ``&lt;script&gt;`` in a text node is harmless and not reported, a real ``<script>`` is.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_TAG = re.compile(r"<([a-zA-Z][a-zA-Z0-9-]*)")
URL_ATTRIBUTES = frozenset(
    {"href", "src", "action", "formaction", "xlink:href", "data", "poster", "background", "ping", "codebase", "cite"}
)
SAFE_SCHEMES = ("http:", "https:", "mailto:", "tel:")
# Anything before the first ":" that is not a path or query decides the scheme; browsers drop these first.
_IGNORED_IN_SCHEME = re.compile(r"[\x00-\x20\x7f-\x9f]")


def template_tags(*, email: bool = False) -> frozenset[str]:
    """Every element name our page templates write (the allauth pages included), or with ``email`` every one
    our HTML e-mail templates write (they have their own rules: a style element, no scripts)."""
    names = {"html", "head", "body"}
    for path in (ROOT / "templates").rglob("*.html"):
        if ("email" in path.parts) != email:
            continue
        names.update(name.lower() for name in _TAG.findall(path.read_text()))
    return frozenset(names)


def _scheme(value: str) -> str | None:
    """The URL's scheme as a browser would read it, lower-case with the colon; None for a relative URL."""
    cleaned = _IGNORED_IN_SCHEME.sub("", value).lower()
    match = re.match(r"^([a-z][a-z0-9+.-]*:)", cleaned)
    return match.group(1) if match else None


class _Scanner(HTMLParser):
    def __init__(self, allowed_tags: frozenset[str], script_sources: tuple[str, ...] = ("/static/",)):
        super().__init__(convert_charrefs=True)
        self.allowed = allowed_tags
        self.script_sources = script_sources
        self.findings: list[str] = []

    def handle_starttag(self, tag, attrs):
        self._check(tag, attrs)

    def handle_startendtag(self, tag, attrs):
        self._check(tag, attrs)

    def _check(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = self.findings.append
        where = f"<{tag}> at line {self.getpos()[0]}"
        if tag not in self.allowed:
            found(f"element the templates never write: {where}")
        values = dict(attrs)
        data_block = values.get("type") == "application/json" and "src" not in values  # json_script: inert data
        if tag == "script" and not data_block and not (values.get("src") or "").startswith(self.script_sources):
            found(f"script that is not one of our static files: {where} {values}")
        if tag == "meta" and "http-equiv" in values:
            found(f"meta http-equiv: {where}")
        if tag == "base":
            found(f"base element: {where}")
        for name, value in attrs:
            value = value or ""
            if name.startswith("on"):
                found(f"event handler {name}={value!r} on {where}")
            elif name in {"style", "srcdoc"}:
                found(f"{name} attribute {value!r} on {where}")
            elif name in URL_ATTRIBUTES:
                scheme = _scheme(value)
                if scheme and scheme not in SAFE_SCHEMES and not (scheme == "data:" and tag == "img"):
                    found(f"{name}={value!r} with scheme {scheme} on {where}")


_ALLOWED: frozenset[str] | None = None
_ALLOWED_IN_EMAIL: frozenset[str] | None = None
_ALLOWED_IN_ADMIN: frozenset[str] | None = None


def injected(html: str) -> list[str]:
    """What in ``html`` the templates could not have written; empty for a clean page."""
    global _ALLOWED
    if _ALLOWED is None:
        _ALLOWED = template_tags()
    scanner = _Scanner(_ALLOWED)
    scanner.feed(html)
    scanner.close()
    return scanner.findings


def injected_email(html: str) -> list[str]:
    """What in an HTML e-mail the e-mail templates could not have written; empty for a clean message."""
    global _ALLOWED_IN_EMAIL
    if _ALLOWED_IN_EMAIL is None:
        _ALLOWED_IN_EMAIL = template_tags(email=True)
    scanner = _Scanner(_ALLOWED_IN_EMAIL)
    scanner.feed(html)
    scanner.close()
    return scanner.findings


def admin_tags() -> frozenset[str]:
    """The elements of our templates and of Django's admin and form-widget templates (the admin pages)."""
    import django

    names = set(template_tags())
    base = Path(django.__file__).resolve().parent
    for folder in (base / "contrib" / "admin" / "templates", base / "contrib" / "auth", base / "forms" / "templates"):
        for path in folder.rglob("*.html"):
            names.update(name.lower() for name in _TAG.findall(path.read_text()))
    return frozenset(names)


# The admin's one style element (a changelist without actions); any other one came from input.
_ADMIN_STYLE = re.compile(r"<style>\s*#changelist table thead th:first-child \{width: inherit\}\s*</style>")


def injected_admin(html: str) -> list[str]:
    """What in a Django admin page neither our templates nor the admin's could have written."""
    global _ALLOWED_IN_ADMIN
    if _ALLOWED_IN_ADMIN is None:
        _ALLOWED_IN_ADMIN = admin_tags() - {"style"}
    scanner = _Scanner(_ALLOWED_IN_ADMIN, ("/static/", "/admin/jsi18n/"))
    scanner.feed(_ADMIN_STYLE.sub("", html))
    scanner.close()
    return scanner.findings


class _Text(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data):
        self.parts.append(data)


def visible_text(html: str) -> str:
    """The text a reader sees in ``html`` (entities decoded), with every run of white space one space."""
    parser = _Text()
    parser.feed(html)
    parser.close()
    return " ".join(" ".join(parser.parts).split())
