"""Atom and RSS 2.0 feeds: the whole site (digests, with every paper's full critique) and
one per list preset (tag, category, affiliation, month: entries, with their full critique).

Items carry their go-live time (published) and last change (updated), the tags and arXiv
categories as categories, and a ``tag:`` URI id that never changes when a digest is renamed:
``tag:<host>,2025:digest/<pk>`` and ``tag:<host>,2025:entry/<pk>`` (readers' feed readers
remember these, so they must never change).

Every feed has its own feed-level id (Django's ``feed_guid`` hook, Atom's ``<feed><id>``), a
``tag:`` URI too, built from what identifies the list and not from anything shown that can be
renamed:

- the site: ``tag:<host>,2025:feed/site``;
- a tag: ``feed/tag/<tag pk>`` (the same id after the tag is renamed or its slug changes);
- a category: ``feed/category/<category pk>`` (``cs.LG`` and ``LG`` are the same feed); a
  short code that several archives share lists them all, and its id names them all
  (``NA``: ``feed/category/<pk>,<pk>``, the pks in ascending order);
- an affiliation: ``feed/affiliation/<name>``, the name percent-encoded (UTF-8), so spaces,
  slashes and non-ASCII characters make a valid IRI;
- a month: ``feed/month/<yyyy>-<mm>``.

The Atom and RSS twins of a list share its id: they are the same list in two formats. RSS 2.0
has no feed-level id element, so the RSS documents do not show it (the generator only writes
it for Atom); only items carry a ``<guid>`` there.

Everything read here goes through the ``published()``/``listed()`` queryset methods.

Every field is either plain text or the sanitised HTML the page shows, never an editor's text
taken as HTML. Fields that hold HTML (Atom's ``<summary type="html">`` and ``<content
type="html">``, RSS's ``<description>`` of the channel and of each item, ``<content:encoded>``)
get escaped text (the digest's summary with its line breaks, as the page shows it; the
tagline; a list's heading) or the sections' ``body_html``, sanitised at save. Titles, names and
categories are plain text, escaped once as XML: Atom says so (``type="text"``, the default),
and RSS 2.0 allows HTML in descriptions only (tests/test_feed_safety.py reads them all).
"""

from __future__ import annotations

from urllib.parse import quote

from django.contrib.syndication.views import Feed
from django.http import Http404, QueryDict
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed, Rss201rev2Feed
from django.utils.html import escape, linebreaks
from django.utils.translation import gettext as _

from papers.models import SECTIONS_WITH_KIND, Digest, Entry, SiteSettings
from reading.filters import EntryFilter, categories_for_code, published_tags_named
from reading.views.lists import month_bounds

FEED_SIZE = 20


class FullContentAtomFeed(Atom1Feed):
    """Atom with the full HTML in <content> next to the short <summary>."""

    def add_item_elements(self, handler, item):
        super().add_item_elements(handler, item)
        if item.get("content"):
            handler.addQuickElement("content", item["content"], {"type": "html"})


class FullContentRssFeed(Rss201rev2Feed):
    """RSS 2.0 with the full HTML in <content:encoded>."""

    def rss_attributes(self):
        attrs = super().rss_attributes()
        attrs["xmlns:content"] = "http://purl.org/rss/1.0/modules/content/"
        return attrs

    def add_item_elements(self, handler, item):
        super().add_item_elements(handler, item)
        if item.get("content"):
            handler.addQuickElement("content:encoded", item["content"])


class BaseFeed(Feed):
    feed_type = FullContentAtomFeed

    def __call__(self, request, *args, **kwargs):
        self.request = request
        self.base_url = f"{request.scheme}://{request.get_host()}"
        self.site = SiteSettings.load()
        response = super().__call__(request, *args, **kwargs)
        response["Cache-Control"] = "public, max-age=600"
        return response

    def author_name(self):
        return self.site.site_name

    def tag_uri(self, kind: str, *parts) -> str:
        """A ``tag:`` URI of this site: ``tag:<host>,2025:<kind>/<part>/<part>...``.

        Not called ``feed_guid``: Django's ``Feed`` looks that name up for the feed-level id.
        """
        host = self.request.get_host().split(":")[0]
        return f"tag:{host},2025:{kind}/" + "/".join(str(p) for p in parts)

    def item_guid_is_permalink(self, item):
        return False


class DigestFeed(BaseFeed):
    """The whole site: the latest listed digests, each with all its papers in full."""

    def title(self):
        return self.site.site_name

    def subtitle(self):
        # Atom's <subtitle> is text.
        return self.site.tagline

    def description(self):
        # RSS's channel <description> is read as HTML: the tagline, escaped.
        return escape(self.site.tagline)

    def link(self):
        return reverse("reading:home")

    def feed_url(self):
        return reverse("reading:feed-atom")

    def feed_guid(self):
        return self.tag_uri("feed", "site")

    def items(self):
        return Digest.objects.listed().with_content().order_by("-published_at", "-id")[:FEED_SIZE]

    def item_title(self, item):
        return item.title

    def item_description(self, item):
        # The summary is plain text: escaped, with its line breaks, as the page shows it.
        return linebreaks(item.summary, autoescape=True) if item.summary else ""

    def item_link(self, item):
        return item.get_absolute_url()

    def item_guid(self, item):
        return self.tag_uri("digest", item.pk)

    def item_pubdate(self, item):
        return item.published_at

    def item_updateddate(self, item):
        return max(item.updated_at, item.published_at)

    def item_categories(self, item):
        names = [tag.name for tag in item.tags.all()]
        for entry in item.entries.all():
            names.append(entry.paper.primary_category.code)
            names.extend(tag.name for tag in entry.tags.all())
        return list(dict.fromkeys(names))

    def item_extra_kwargs(self, item):
        content = render_to_string(
            "papers/feeds/digest_content.html",
            {"digest": item, "base_url": self.base_url},
        )
        return {"content": content}


class DigestRssFeed(DigestFeed):
    feed_type = FullContentRssFeed

    def feed_url(self):
        return reverse("reading:feed-rss")


class EntryFeed(BaseFeed):
    """Entries of one list preset (a tag, a category, an affiliation, a month)."""

    url_name = ""

    def get_object(self, request, **kwargs):
        return kwargs

    def preset(self, obj) -> dict:
        raise NotImplementedError

    def heading(self, obj) -> str:
        raise NotImplementedError

    def feed_id_parts(self, obj) -> tuple:
        """What identifies the list in the feed-level id (see the module docstring)."""
        raise NotImplementedError

    def feed_guid(self, obj):
        return self.tag_uri("feed", *self.feed_id_parts(obj))

    def title(self, obj):
        return f"{self.heading(obj)} · {self.site.site_name}"

    def description(self, obj):
        # RSS's channel <description> is read as HTML; the heading holds names editors wrote.
        return escape(self.heading(obj))

    def link(self, obj):
        return reverse(self.url_name, kwargs=obj)

    def feed_url(self, obj):
        return self.request.path

    def items(self, obj):
        queryset = (
            Entry.objects.published()
            .select_related("paper__primary_category", "digest")
            .prefetch_related("tags", "figures", SECTIONS_WITH_KIND)
        )
        filterset = EntryFilter(QueryDict(), queryset=queryset, preset=self.preset(obj))
        return list(filterset.qs.order_by("-digest__published_at", "-digest_id", "position")[:20])

    def item_title(self, item):
        return f"[{item.paper.primary_category.short_code}] {item.paper.title}"

    def item_description(self, item):
        # 一句话总结 as the page shows it: its sanitised HTML, never the Markdown source.
        summary = [s for s in item.sections.all() if s.kind.slug == "summary"]
        return summary[0].body_html if summary else escape(item.title_zh)

    def item_link(self, item):
        return item.get_absolute_url()

    def item_guid(self, item):
        return self.tag_uri("entry", item.pk)

    def item_pubdate(self, item):
        return item.digest.published_at

    def item_updateddate(self, item):
        return max(item.updated_at, item.digest.published_at)

    def item_author_name(self, item):
        return item.paper.authors_line

    def item_categories(self, item):
        names = [item.paper.primary_category.code]
        names.extend(tag.name for tag in item.tags.all())
        return names

    def item_extra_kwargs(self, item):
        content = render_to_string(
            "papers/feeds/entry_content.html", {"entry": item, "base_url": self.base_url}
        )
        return {"content": content}


class TagFeed(EntryFeed):
    url_name = "reading:tag-entries"

    def get_object(self, request, slug):
        # As the tag's page finds it: slug or name, in any case (reading/filters.py).
        tag = min(published_tags_named([slug]), key=lambda t: t.pk, default=None)
        if tag is None:
            raise Http404(_("There is no tag “%(tag)s”.") % {"tag": slug})
        return {"slug": tag.slug, "_tag": tag}

    def link(self, obj):
        return reverse(self.url_name, kwargs={"slug": obj["slug"]})

    def preset(self, obj):
        return {"tag": obj["slug"]}

    def feed_id_parts(self, obj):
        return ("tag", obj["_tag"].pk)

    def heading(self, obj):
        return _("Tag: %(tag)s") % {"tag": obj["_tag"].name}


class CategoryFeed(EntryFeed):
    url_name = "reading:category-entries"

    def get_object(self, request, code):
        # The categories the list holds, found as its filter finds them.
        matches = categories_for_code(code.strip().lower())
        if not matches:
            raise Http404(_("There is no category “%(category)s”.") % {"category": code})
        return {"code": code, "_category": matches[0], "_categories": matches}

    def link(self, obj):
        return reverse(self.url_name, kwargs={"code": obj["code"]})

    def preset(self, obj):
        return {"category": obj["code"]}

    def feed_id_parts(self, obj):
        pks = sorted(category.pk for category in obj["_categories"])
        return ("category", ",".join(str(pk) for pk in pks))

    def heading(self, obj):
        category = obj["_category"]
        return f"{category.code} · {category.name_zh or category.name}"


class AffiliationFeed(EntryFeed):
    url_name = "reading:affiliation-entries"

    def get_object(self, request, name):
        if not Entry.objects.published().filter(paper__affiliations__icontains=name).exists():
            raise Http404(_("There is no affiliation “%(name)s”.") % {"name": name})
        return {"name": name}

    def preset(self, obj):
        return {"affiliation": obj["name"]}

    def feed_id_parts(self, obj):
        return ("affiliation", quote(obj["name"], safe=""))

    def heading(self, obj):
        return _("Affiliation: %(name)s") % {"name": obj["name"]}


class MonthFeed(EntryFeed):
    url_name = "reading:month-entries"

    def get_object(self, request, year, month):
        month_bounds(year, month)  # 404 for impossible months
        return {"year": year, "month": month}

    def preset(self, obj):
        start, end = month_bounds(obj["year"], obj["month"])
        return {"date_from": start.isoformat(), "date_to": end.isoformat()}

    def feed_id_parts(self, obj):
        return ("month", f"{obj['year']:04d}-{obj['month']:02d}")

    def heading(self, obj):
        return _("Archive: %(year)d-%(month)02d") % obj


def rss(feed_class):
    """The RSS 2.0 twin of an Atom feed class."""
    return type(f"{feed_class.__name__}Rss", (feed_class,), {"feed_type": FullContentRssFeed})
