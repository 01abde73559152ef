"""Template helpers of the reading pages."""

from django import template

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
