"""Template helpers of the reading pages."""

from django import template

from reading import search

register = template.Library()


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
def highlight(text, query_terms):
    """``text`` as pieces with the matches of ``query_terms`` (a search's parsed terms)
    marked, for templates/includes/_highlighted.html, which escapes each and wraps the
    matches in <mark>::

        {% include "includes/_highlighted.html" with pieces=title|highlight:query_terms %}
    """
    return search.highlight(str(text or ""), list(query_terms or []))
