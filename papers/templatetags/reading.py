"""Template helpers of the reading pages."""

from django import template

register = template.Library()


@register.filter
def first_image_url(figures_source):
    """The URL of the first uploaded figure among ``figures_source`` (an entry, a digest, or
    an iterable of figures), or ''. Works on prefetched relations: no query."""
    entries = []
    if hasattr(figures_source, "entries"):
        entries = list(figures_source.entries.all())
    elif hasattr(figures_source, "figures"):
        entries = [figures_source]
    for entry in entries:
        for figure in entry.figures.all():
            if figure.image:
                return figure.image.url
    return ""


@register.filter
def one_line_summary(entry):
    """The entry's 一句话总结 (summary kind) text, from its prefetched sections."""
    for section in entry.sections.all():
        if section.kind.slug == "summary":
            return section.body
    return ""


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
