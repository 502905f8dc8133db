"""Generated hostile input for every URL of the project: routes, field names, payloads and a seeded workshop.

Nothing here is written per view. The routes come from the URL resolver, the field names from the
project's own forms and ``request.POST.get(...)`` calls and from the forms on the seeded pages, and the
path ids from the seeded workshop, so a new view is fuzzed without anyone adding it here.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import quote_from_bytes, urlsplit

from django import forms
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[2]
PROJECT_APPS = ("accounts", "config", "facilitation", "reports", "workshops")
ROLES = ("facilitator", "contact_person", "participant", "presenter", "anonymous")


# --- routes -----------------------------------------------------------------------
@dataclass(frozen=True)
class Route:
    name: str
    pattern: str  # the full pattern, for messages
    parts: tuple  # the pattern split into literal text and (kwarg, converter) pairs
    module: str

    def path(self, kwargs: dict) -> str:
        out = []
        for part in self.parts:
            out.append(part if isinstance(part, str) else _quote(kwargs[part[0]]))
        return "/" + "".join(out)

    @property
    def kwargs(self) -> list[tuple[str, str]]:
        return [part for part in self.parts if not isinstance(part, str)]


def _quote(value) -> str:
    return quote_from_bytes(str(value).encode("utf-8", "surrogatepass"), safe="")


_ROUTE_PART = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>")
_REGEX_PART = re.compile(r"\(\?P<(?P<name>\w+)>[^)]*\)")


def _split(pattern: str) -> tuple:
    """Literal text and placeholders of a ``path()`` or ``re_path()`` pattern."""
    regex = pattern.startswith("^") or "(?P<" in pattern
    pattern = pattern.replace("^", "").replace("$", "")
    finder = _REGEX_PART if regex else _ROUTE_PART
    parts: list = []
    position = 0
    for match in finder.finditer(pattern):
        parts.append(pattern[position : match.start()])
        converter = "str" if regex else (match.group("converter") if "converter" in match.groupdict() else "str")
        parts.append((match.group("name"), converter or "str"))
        position = match.end()
    parts.append(pattern[position:])
    return tuple(part for part in parts if part != "")


def all_routes(*, admin: bool = False) -> list[Route]:
    """Every URL pattern of the project (recursively), except Django's own admin; with ``admin`` only the admin's
    (tests/security/test_fuzz_admin.py fuzzes those as a superuser)."""
    found = []

    def walk(patterns, prefix: str, namespace: str, inside_admin: bool = False):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                if entry.app_name == "admin" and not admin:
                    continue
                name_space = namespace + (f"{entry.namespace}:" if entry.namespace else "")
                walk(
                    entry.url_patterns,
                    prefix + str(entry.pattern),
                    name_space,
                    inside_admin or entry.app_name == "admin",
                )
            elif isinstance(entry, URLPattern):
                if admin and not inside_admin:
                    continue
                pattern = prefix + str(entry.pattern)
                name = namespace + (entry.name or pattern)
                found.append(Route(name, pattern, _split(pattern), entry.callback.__module__))

    walk(get_resolver().url_patterns, "", "")
    return found


# --- field names --------------------------------------------------------------------
_READ = re.compile(
    r"""(?:POST|GET|FILES|data|cleaned_data|payload|body)(?:\.get|\.getlist|\.pop)?[\(\[]\s*["']([\w-]+)["']"""
)


def _project_form_classes():
    seen, pending = set(), [forms.Form, forms.ModelForm]
    while pending:
        for cls in pending.pop().__subclasses__():
            if cls not in seen:
                seen.add(cls)
                pending.append(cls)
    return [cls for cls in seen if cls.__module__.split(".")[0] in PROJECT_APPS]


def field_vocabulary() -> list[str]:
    """Every input name the project reads: its forms' fields and the names its views take from a request."""
    names = set()
    for app in PROJECT_APPS:
        for source in (ROOT / app).rglob("*.py"):
            names.update(_READ.findall(source.read_text(encoding="utf-8")))
    for cls in _project_form_classes():
        names.update(getattr(cls, "base_fields", {}))
    names.update({"csrfmiddlewaretoken", "next", "return_to", "confirm", "file", "upload", "ids", "select"})
    return sorted(names)


# --- forms on the seeded pages -------------------------------------------------------------
class _FormParser(HTMLParser):
    """Collects each form's action and the names and values of its fields."""

    def __init__(self):
        super().__init__()
        self.forms: list[tuple[str, dict[str, list[str]]]] = []
        self._current: dict[str, list[str]] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._current = {}
            self.forms.append((attrs.get("action") or "", self._current))
        elif tag in {"input", "select", "textarea", "button"} and self._current is not None and attrs.get("name"):
            self._current.setdefault(attrs["name"], []).append(attrs.get("value") or "")
        elif tag == "option" and self._current is not None and attrs.get("value"):
            last = next(reversed(self._current), None)
            if last is not None:
                self._current[last].append(attrs["value"])

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None


def forms_on(html: str, page_path: str) -> dict[str, dict[str, list[str]]]:
    """Form action path -> field name -> values seen, for one page."""
    parser = _FormParser()
    parser.feed(html)
    found: dict[str, dict[str, list[str]]] = {}
    for action, fields in parser.forms:
        path = urlsplit(action).path or page_path
        merged = found.setdefault(path, {})
        for name, values in fields.items():
            merged.setdefault(name, []).extend(values)
    return found


# --- values -------------------------------------------------------------------------
NASTY_TEXT = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\ud800",
    "\udfff x",
    "💥" * 50,
    "null",
    "None",
    "-1",
    "0",
    "1e309",
    "NaN",
    "Infinity",
    "9" * 40,
    "-9223372036854775809",
    "2147483648",
    "../../etc/passwd",
    "<script>alert(1)</script>",
    '=HYPERLINK("x")',
    "%00",
    "\u202e",
    "x" * 5000,
    "ä" * 70_000,
    "\r\n\r\n",
    "[]",
    "{}",
    "true",
    str(uuid.uuid4()),
    "not-a-uuid",
    "on",
]


def text_values():
    return st.one_of(
        st.sampled_from(NASTY_TEXT),
        st.text(max_size=40),
        st.text(alphabet=st.characters(codec=None), max_size=300),  # surrogates and control characters too
        st.integers(min_value=1, max_value=300_000).map(lambda n: "x" * n),
        st.integers().map(str),
        st.floats(allow_nan=True, allow_infinity=True).map(repr),
    )


def scalar_values(known: list[str]):
    """One form value: a value seen on the page or a seeded id (often), or anything at all."""
    known_values = st.sampled_from(known) if known else st.nothing()
    return st.one_of(known_values, known_values, text_values())


def json_values(known: list[str]):
    leaf = st.one_of(
        scalar_values(known),
        st.integers(),
        st.floats(allow_nan=False),
        st.booleans(),
        st.none(),
    )
    return st.recursive(
        leaf,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
        max_leaves=6,
    )


@dataclass
class Payload:
    """One generated request: how it is sent and what it carries."""

    method: str
    role: str
    kwargs: dict
    fields: list[tuple[str, object]]  # repeated names allowed; values may be files (bytes, name, type)
    encoding: str  # form, multipart, json, malformed, raw
    content_type: str | None
    accept: str
    extra_headers: dict = field(default_factory=dict)
    raw: bytes = b""


def _form_body(fields) -> bytes:
    pairs = []
    for name, value in fields:
        if isinstance(value, tuple):
            value = value[1]
        pairs.append(_quote(name) + "=" + _quote(value))
    return "&".join(pairs).encode("ascii")


BOUNDARY = "fuzzBoundaryA1b2C3"


def _multipart_body(fields) -> bytes:
    chunks = []
    for name, value in fields:
        disposition = f'form-data; name="{name}"'
        head_type = b""
        if isinstance(value, tuple):  # a file
            content, filename, content_type = value
            disposition += f'; filename="{filename}"'
            head_type = f"Content-Type: {content_type}\r\n".encode("utf-8", "surrogatepass")
            body = content
        else:
            body = str(value).encode("utf-8", "surrogatepass")
        chunks.append(
            f"--{BOUNDARY}\r\nContent-Disposition: ".encode()
            + disposition.encode("utf-8", "surrogatepass")
            + b"\r\n"
            + head_type
            + b"\r\n"
            + body
            + b"\r\n"
        )
    chunks.append(f"--{BOUNDARY}--\r\n".encode())
    return b"".join(chunks)


def files():
    return st.tuples(
        st.one_of(
            st.binary(max_size=200),
            st.just(b"PK\x03\x04" + b"\x00" * 60),  # the start of a zip (an .xlsx) and nothing more
            st.just("nimi;sähköposti\nAino;aino@example.fi\n".encode()),
            st.just(b"\xff\xfe" + "a,b\n".encode("utf-16-le")),
            st.just(b"x" * 300_000),
        ),
        st.text(max_size=30).map(lambda name: name.replace('"', "").replace("\r", "").replace("\n", "") or "f"),
        st.sampled_from(
            [
                "text/csv",
                "application/octet-stream",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "application/json",
                "image/png",
            ]
        ),
    )


def request_args(payload: Payload) -> tuple[str, bytes, dict]:
    """The query string, body and headers the test client sends for a payload."""
    headers = {"HTTP_ACCEPT": payload.accept, **payload.extra_headers}
    if payload.method == "GET":
        return "?" + _form_body(payload.fields).decode(), b"", headers
    if payload.encoding == "form":
        body = _form_body(payload.fields)
    elif payload.encoding == "multipart":
        body = _multipart_body(payload.fields)
    elif payload.encoding == "json":
        body = json.dumps(dict(payload.fields), default=repr).encode("utf-8", "surrogatepass")
    else:
        body = payload.raw
    if payload.content_type is not None:
        headers["CONTENT_TYPE"] = payload.content_type
    return "", body, headers


CONTENT_TYPES = {
    "form": ["application/x-www-form-urlencoded", "application/x-www-form-urlencoded; charset=latin-1"],
    "multipart": [
        f"multipart/form-data; boundary={BOUNDARY}",
        "multipart/form-data",
        "multipart/form-data; boundary=x",
    ],
    "json": ["application/json", "application/x-www-form-urlencoded", "text/plain"],
    "malformed": ["application/json", "application/x-www-form-urlencoded", f"multipart/form-data; boundary={BOUNDARY}"],
    "raw": ["text/plain", "application/xml", "", "x/y; charset=bogus-9"],
}


@st.composite
def payloads(draw, route: Route, seed, *, methods=("POST", "GET"), roles=ROLES):
    """A request for ``route``: its path ids, method, role, fields and encoding, all generated."""
    role = draw(st.sampled_from(roles))
    kwargs = {}
    for name, converter in route.kwargs:
        known = seed.path_values(name)
        if converter == "int":
            value = draw(st.one_of(st.sampled_from(known or [1]), st.sampled_from(known or [1]), st.integers(0, 2**70)))
        else:
            value = draw(st.one_of(st.sampled_from(known or ["x"]), st.text(min_size=1, max_size=60)))
            if converter == "slug":
                value = re.sub(r"[^-a-zA-Z0-9_]", "", str(value)) or "x"
            value = str(value).replace("/", "") or "x"
        kwargs[name] = value
    method = draw(st.sampled_from(methods))
    form = seed.forms.get(route.name, {})
    names = list(form) or []
    vocabulary = st.sampled_from(seed.vocabulary)
    fields: list[tuple[str, object]] = []
    # Most of the page's own form, each field kept, changed or left out; then extra names.
    for name in names:
        action = draw(st.sampled_from(["keep", "fuzz", "drop", "twice"]))
        known = [*form[name], *seed.id_values]
        if action == "keep":
            fields.append((name, draw(st.sampled_from(form[name] or [""]))))
        elif action == "fuzz":
            fields.append((name, draw(scalar_values(known))))
        elif action == "twice":
            fields.extend([(name, draw(scalar_values(known))), (name, draw(scalar_values(known)))])
    extra = draw(
        st.lists(
            st.tuples(st.one_of(vocabulary, vocabulary, st.text(max_size=20)), scalar_values(seed.id_values)),
            max_size=6,
        )
    )
    fields.extend(extra)
    encoding = draw(st.sampled_from(["form", "form", "form", "multipart", "json", "malformed", "raw"]))
    if encoding == "multipart":
        fields.extend(
            draw(st.lists(st.tuples(st.one_of(vocabulary, st.sampled_from(names or ["file"])), files()), max_size=2))
        )
    content_type = draw(st.one_of(st.sampled_from(CONTENT_TYPES[encoding]), st.none()))
    raw = b""
    if encoding == "malformed":
        raw = draw(st.one_of(st.binary(max_size=200), st.just(b'{"text": "kesken'), st.just(b"\xed\xa0\x80=1")))
    elif encoding == "raw":
        raw = draw(st.binary(max_size=100))
    if encoding == "json" and draw(st.booleans()):
        fields = [(name, draw(json_values(seed.id_values))) for name, _value in fields]
    accept = draw(st.sampled_from(["application/json", "text/html", "*/*", "", "application/json, text/html"]))
    extra_headers = {}
    if draw(st.booleans()):
        extra_headers["HTTP_REFERER"] = draw(
            st.one_of(
                st.text(max_size=50),
                st.sampled_from(["http://testserver/w/1/live/", "javascript:alert(1)", "//evil.example/"]),
            )
        )
    if draw(st.booleans()):
        extra_headers["HTTP_ACCEPT_LANGUAGE"] = draw(st.sampled_from(["sv", "en", "fi", "xx", "*", "sv;q=abc", "\x00"]))
    if draw(st.booleans()):
        extra_headers["HTTP_HX_REQUEST"] = "true"
    return Payload(method, role, kwargs, fields, encoding, content_type, accept, extra_headers, raw)


# --- clients ------------------------------------------------------------------------
def snapshot(client: Client) -> str:
    return client.cookies.output(header="", sep="\n")


def restore(client: Client, saved: str) -> None:
    client.cookies = SimpleCookie(saved)


class ErrorLog(logging.Handler):
    """Collects every record at ERROR or above: an exception that a view swallowed but logged counts too."""

    def __init__(self):
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)

    def __enter__(self):
        logging.getLogger().addHandler(self)
        return self

    def __exit__(self, *exc):
        logging.getLogger().removeHandler(self)
