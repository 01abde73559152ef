"""The date drill-down of the large changelists (papers/admin/scale.py, ``SeekingDates``)."""

import copy

from django import template
from django.contrib.admin.templatetags import admin_list
from django.contrib.admin.templatetags.base import InclusionAdminNode

register = template.Library()


def seeking_date_hierarchy(cl):
    """Django's date drill-down, the same links, over the dates a ``LeanChangeList`` finds by
    index seeks; other changelists get Django's own."""
    dates = getattr(cl, "date_hierarchy_dates", None)
    if dates is None:
        return admin_list.date_hierarchy(cl)
    seeking = copy.copy(cl)
    seeking.queryset = dates
    return admin_list.date_hierarchy(seeking)


@register.tag(name="seeking_date_hierarchy")
def seeking_date_hierarchy_tag(parser, token):
    return InclusionAdminNode(
        parser,
        token,
        func=seeking_date_hierarchy,
        template_name="date_hierarchy.html",
        takes_context=False,
    )
