"""Template helpers of the reading pages."""

import json
from urllib.parse import urlencode

from django import template
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.utils.safestring import mark_safe

from reading import search, structured_data

register = template.Library()

# What json_script escapes: inside <script> the JSON can neither end the element nor open
# a comment, whatever text an editor typed.
_SCRIPT_ESCAPES = {ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"}


@register.inclusion_tag("includes/_reading_share_meta.html", takes_context=True)
def share_meta(context, title, description, path, image_path="", kind="article"):
    """Open Graph and Twitter card tags with absolute URLs."""
    request = context["request"]
    return {
        "site": context.get("site"),
        "share_title": title,
        "share_description": description,
        "share_url": request.build_absolute_uri(path),
        "share_image": request.build_absolute_uri(image_path) if image_path else "",
        "share_type": kind,
    }


@register.filter
def ld_json(value) -> str:
    """``value`` as JSON safe to place inside ``<script type="application/ld+json">``
    (json_script's escaping; json_script itself only writes ``application/json``)."""
    text = json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False, sort_keys=True)
    return mark_safe(text.translate(_SCRIPT_ESCAPES))


def chosen_language(request) -> str | None:
    """The interface language the address names (``?lang=``, digestsite/middleware.py)."""
    codes = request.GET.getlist("lang") if request is not None else []
    return codes[0] if len(codes) == 1 and codes[0] in dict(settings.LANGUAGES) else None


@register.simple_tag(takes_context=True)
def canonical_query(context, page=1) -> str:
    """The query of a page's canonical address: the page number past the first, and the
    language when the address names one (each hreflang alternate is its own canonical)."""
    params = {}
    if page and int(page) > 1:
        params["page"] = page
    if language := chosen_language(context.get("request")):
        params["lang"] = language
    return f"?{urlencode(params)}" if params else ""


def hreflang(code: str) -> str:
    """A Django language code as BCP 47 writes it: ``zh-hans`` -> ``zh-Hans``."""
    language, _sep, rest = code.partition("-")
    if not rest:
        return language
    return f"{language}-{rest.title() if len(rest) == 4 else rest.upper()}"


@register.inclusion_tag("includes/_language_alternates.html", takes_context=True)
def language_alternates(context):
    """This page in each interface language (``?lang=``, digestsite/middleware.py), and
    the address without it (the reader's own choice) as ``x-default``."""
    request = context.get("request")
    if request is None or request.method not in ("GET", "HEAD"):
        return {"alternates": []}
    query = request.GET.copy()
    query.pop("lang", None)
    plain = request.build_absolute_uri(request.path + (f"?{query.urlencode()}" if query else ""))
    alternates = []
    for code, _name in settings.LANGUAGES:
        query["lang"] = code
        url = request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
        alternates.append((hreflang(code), url))
    return {"alternates": [*alternates, ("x-default", plain)]}


def _absolute(context):
    request = context["request"]
    return request.build_absolute_uri


@register.simple_tag(takes_context=True)
def home_structured_data(context, digests):
    """The home page's JSON-LD: the site's Blog and the digests it lists."""
    data = structured_data.site_blog(digests, site=context["site"], absolute=_absolute(context))
    return ld_json(data)


@register.simple_tag(takes_context=True)
def digest_structured_data(context, digest, entries, image_path=""):
    """The digest page's JSON-LD (reading/structured_data.py), ready for a script element."""
    absolute = _absolute(context)
    image = absolute(image_path) if image_path else ""
    data = structured_data.digest_posting(
        digest, entries, site=context["site"], absolute=absolute, image=image
    )
    return ld_json(data)


@register.simple_tag(takes_context=True)
def entry_structured_data(context, entry, summary="", image_path=""):
    """The paper page's JSON-LD (reading/structured_data.py), ready for a script element."""
    absolute = _absolute(context)
    image = absolute(image_path) if image_path else ""
    data = structured_data.entry_article(
        entry, site=context["site"], absolute=absolute, summary=summary, image=image
    )
    return ld_json(data)


@register.filter
def highlight(text, query_terms):
    """``text`` as pieces with the matches of ``query_terms`` (a search's parsed terms)
    marked, for templates/includes/_highlighted.html, which escapes each and wraps the
    matches in <mark>::

        {% include "includes/_highlighted.html" with pieces=title|highlight:query_terms %}
    """
    return search.highlight(str(text or ""), list(query_terms or []))
