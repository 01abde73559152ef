"""Mistyped or hostile list addresses in the back office get Django's answer to a bad filter
(a redirect to the unfiltered list with ``?e=1``), never a 500.

Django's changelist turns most bad lookups into that redirect already; these slipped past its
checks and failed later:

- a NUL byte in a filter value or an autocomplete term, which PostgreSQL's driver refuses
  when the query is sent (SQLite finds nothing): refused here before the list is built, and
  dropped from the term;
- a year or month no date can hold (``99999999999``: OverflowError, in the drill-down or when
  a ``__year`` filter is compiled) and an address filter that is no address
  (``?ip_address=not-an-ip``: ValueError from PostgreSQL's inet adapter, when compiled):
  caught while the list is built, before its queries leave, so no transaction is aborted.

``guard_every_admin`` mixes ``LookupGuardMixin`` into every ModelAdmin of the site, the
libraries' (auth, taggit, axes) included.
"""

from django.apps import apps
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ERROR_FLAG, SEARCH_VAR
from django.core.exceptions import ValidationError


class LookupGuardMixin:
    """For a ModelAdmin: filter values the database cannot take make the list's ``?e=1``."""

    def get_changelist_instance(self, request):
        # (The search box's own form refuses a NUL byte with a message.)
        if any(
            "\x00" in key + value
            for key, values in request.GET.lists()
            if key != SEARCH_VAR
            for value in values
        ):
            raise IncorrectLookupParameters("a NUL byte in the query string")
        try:
            return super().get_changelist_instance(request)
        except (ValueError, OverflowError, ValidationError) as exc:
            if not request.GET.keys() - {ERROR_FLAG}:
                raise  # the plain list failed: a bug, not a bad address
            raise IncorrectLookupParameters(exc) from exc

    def get_search_results(self, request, queryset, search_term):
        # The changelist's search form refuses a NUL byte itself; the autocomplete view
        # passes its ``term`` as typed.
        return super().get_search_results(request, queryset, search_term.replace("\x00", ""))


def guard_every_admin(site):
    """Register every ModelAdmin of ``site`` again with ``LookupGuardMixin`` first in its
    order, so it wraps the admin's own methods (EntryAdmin's search, LeanChangeList)."""
    for model in apps.get_models():
        if not site.is_registered(model):
            continue
        admin_class = type(site.get_model_admin(model))
        if issubclass(admin_class, LookupGuardMixin):
            continue
        guarded = type(admin_class.__name__, (LookupGuardMixin, admin_class), {})
        site.unregister(model)
        site.register(model, guarded)
