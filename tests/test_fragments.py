"""The papers' blocks (templates/includes/_paper_block.html), the digest's tags
(templates/papers/digest_detail.html) and the list rows (templates/includes/_entry_row.html)
are ``{% cache %}`` fragments keyed by what they show. These tests edit the way editors do
(admin pages posted by a logged-in editor, the editorial services, an arXiv refresh) and
check what the next reader gets: the edit shows at once, only the blocks it changes are
rendered again, and the others come from the cache.

Which fragments a visit rendered is read off the cache: the fragments it added, each told
by the entry it links to. Whether the view found the blocks the template cached (and so
loaded sections only for the others, reading/views/pages.py: ``load_blocks``) is read off
the page's queries. The page cache (pagecache/) is off, so that every visit runs the view.
"""

import io
import re
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser

import pytest
from django.conf import settings as django_settings
from django.core.cache import caches
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from PIL import Image as PILImage
from taggit.models import Tag

from editorial import services, workflow
from papers.changes import names_version
from papers.models import Category, Digest, Entry, Figure, Paper, Section, SectionKind
from reading.views.pages import DIGEST_PAGE, ENTRY_PAGE, block_fragment_key, load_blocks
from tests import factories
from tests.workflow_support import client_for, role_user

pytestmark = pytest.mark.django_db


def _png() -> bytes:
    buffer = io.BytesIO()
    PILImage.new("RGB", (8, 6)).save(buffer, format="PNG")
    return buffer.getvalue()


def _stored_image() -> str:
    """The stored name of a new 8x6 PNG (anonymous readers see uploaded figures only)."""
    return default_storage.save("figures/blocks-test.png", ContentFile(_png()))


# --- reading pages: what the next reader gets, and which blocks were rendered ------------


def _fragment_cache():
    return caches[getattr(django_settings, "FRAGMENT_CACHE_ALIAS", "default")]


_FRAGMENT_KEY = re.compile(r"template\.cache\..*$")


def _fragment_keys() -> set[str]:
    """The keys of the template fragments in the (local memory) cache."""
    made = list(_fragment_cache()._cache)
    return {found[0] for key in made if (found := _FRAGMENT_KEY.search(key))}


_SECTION_TABLE = Section._meta.db_table
_LOADED_FOR = re.compile(r'"entry_id" (?:IN \(([^)]*)\)|= (\d+))')


def _sections_loaded_for(queries) -> set[int]:
    """The entries whose sections a page loaded (the summary subquery of the entry page
    reads the table too, but inside the entries' query)."""
    ids = set()
    for query in queries:
        sql = query["sql"]
        if not sql.startswith(f'SELECT "{_SECTION_TABLE}".'):
            continue
        for listed, single in _LOADED_FOR.findall(sql):
            ids.update(int(pk) for pk in (listed or single).split(",") if pk.strip())
    return ids


@dataclass
class Visit:
    html: str
    rendered: set[int] = field(default_factory=set)  # entries whose block was rendered
    rows: set[int] = field(default_factory=set)  # entries whose list row was rendered
    issues: set[int] = field(default_factory=set)  # entries whose row's issue line was
    tags: int = 0  # digest tag lists rendered
    loaded: set[int] = field(default_factory=set)  # entries whose sections the view loaded


def visit(url: str, client: Client | None = None, **headers) -> Visit:
    """What a reader gets at ``url`` now, and which fragments were rendered for it (not
    taken from the cache): the fragments cached by this visit, each told by what it shows
    (a block or a row links to its entry's page)."""
    before = _fragment_keys()
    with CaptureQueriesContext(connection) as captured:
        response = (client or Client()).get(url, **headers)
    assert response.status_code == 200, url
    result = Visit(response.content.decode(), loaded=_sections_loaded_for(captured))
    new = _fragment_keys() - before
    if not new:
        return result
    every = list(Entry.objects.select_related("digest", "paper"))
    links = {f'href="{entry.get_absolute_url()}"': entry.pk for entry in every}
    issue_links = {
        f'href="{entry.digest.get_absolute_url()}#{entry.anchor}"': entry.pk for entry in every
    }
    for key in new:
        html = _fragment_cache().get(key) or ""
        entries = {pk for link, pk in links.items() if link in html}
        if 'class="row-issue"' in html:
            result.issues |= {pk for link, pk in issue_links.items() if link in html}
        elif '<article class="entry"' in html:
            result.rendered |= entries
        elif 'class="entry-row-title"' in html:
            result.rows |= entries
        else:
            result.tags += 1
    return result


def block(html: str, position: int) -> str:
    """The block of the paper at ``position`` on a digest page."""
    found = re.search(rf'<article class="entry" id="paper-{position}".*?</article>', html, re.S)
    assert found, f"no block at position {position}"
    return found[0]


def row(html: str, entry) -> str:
    """The row of ``entry`` on a list page."""
    pattern = rf'<article class="entry-row" aria-labelledby="row-{entry.pk}-title">.*?</article>'
    found = re.search(pattern, html, re.S)
    assert found, f"no row of entry {entry.pk}"
    return found[0]


def digest_header(html: str) -> str:
    return html.split('<header class="digest-header">', 1)[1].split("</header>", 1)[0]


def url_of(obj) -> str:
    """The current address of a digest or an entry (read again: an edit may move it)."""
    return type(obj).objects.get(pk=obj.pk).get_absolute_url()


ENTRY_LIST = "/papers/"


# --- the admin as an editor uses it: open the change page, change fields, save ----------


class _FormFields(HTMLParser):
    """The fields of the form ``form_id`` as a browser posts them (files left out)."""

    def __init__(self, form_id: str):
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.inside = False
        self.fields: list[tuple[str, str]] = []
        self._textarea: list | None = None
        self._select: dict | None = None
        self._option: dict | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.inside = attrs.get("id") == self.form_id
            return
        if not self.inside:
            return
        name = attrs.get("name") or ""
        if "__prefix__" in name:  # the template of a new inline row
            return
        if tag == "input" and name:
            kind = (attrs.get("type") or "text").lower()
            if kind in ("submit", "button", "image", "reset", "file"):
                return
            if kind in ("checkbox", "radio"):
                if "checked" in attrs:
                    self.fields.append((name, attrs.get("value") or "on"))
                return
            self.fields.append((name, attrs.get("value") or ""))
        elif tag == "textarea" and name:
            self._textarea = [name, ""]
        elif tag == "select" and name:
            self._select = {"name": name, "multiple": "multiple" in attrs, "first": None}
            self._select["chosen"] = []
        elif tag == "option" and self._select is not None:
            self._option = {"value": attrs.get("value"), "text": ""}
            if "selected" in attrs:
                self._option["selected"] = True

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data
        elif self._option is not None:
            self._option["text"] += data

    def handle_endtag(self, tag):
        if tag == "form" and self.inside:
            self.inside = False
        elif tag == "textarea" and self._textarea is not None:
            name, text = self._textarea
            if text.startswith("\r\n"):  # a browser drops the newline after <textarea>
                text = text[2:]
            elif text.startswith("\n"):
                text = text[1:]
            self.fields.append((name, text))
            self._textarea = None
        elif tag == "option" and self._option is not None:
            self._close_option()
        elif tag == "select" and self._select is not None:
            if self._option is not None:
                self._close_option()
            select = self._select
            values = select["chosen"]
            if not values and not select["multiple"] and select["first"] is not None:
                values = [select["first"]]
            self.fields += [(select["name"], value) for value in values]
            self._select = None

    def _close_option(self):
        option, self._option = self._option, None
        value = option["value"] if option["value"] is not None else option["text"].strip()
        if self._select["first"] is None:
            self._select["first"] = value
        if option.get("selected"):
            self._select["chosen"].append(value)


def form_data(client: Client, url: str, form_id: str) -> dict:
    """The change form at ``url`` as the editor finds it (hidden tokens included)."""
    response = client.get(url)
    assert response.status_code == 200, url
    reader = _FormFields(form_id)
    reader.feed(response.content.decode())
    assert reader.fields, f"no form {form_id} at {url}"
    data: dict = {}
    for name, value in reader.fields:
        if name in data:
            data[name] = (
                [*data[name], value] if isinstance(data[name], list) else [data[name], value]
            )
        else:
            data[name] = value
    return data


def admin_save(client: Client, url: str, form_id: str, changes: dict) -> dict:
    """Open the change page at ``url``, change ``changes`` (None: leave out) and save;
    returns the data posted."""
    data = form_data(client, url, form_id)
    for name, value in changes.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    response = client.post(url, data)
    if response.status_code != 302:
        context = response.context or {}
        form = context.get("adminform")
        errors = [form.form.errors] if form else []
        for inline in context.get("inline_admin_formsets") or []:
            errors += [inline.formset.non_form_errors(), inline.formset.errors]
        raise AssertionError(f"{url} not saved ({response.status_code}): {errors}")
    return data


def entry_url(entry) -> str:
    return reverse("admin:papers_entry_change", args=[entry.pk])


def digest_admin_url(digest) -> str:
    return reverse("admin:papers_digest_change", args=[digest.pk])


def paper_url(paper) -> str:
    return reverse("admin:papers_paper_change", args=[paper.pk])


def figure_index(data: dict, caption: str) -> int:
    """The row of the entry form's figure inline whose caption is ``caption``."""
    total = int(data["figures-TOTAL_FORMS"])
    return next(i for i in range(total) if data.get(f"figures-{i}-caption") == caption)


# --- the site: two digests, three papers, every block and row cached ---------------------


class Site:
    def __init__(self):
        self.one = factories.digest(entries=2, title="第一期")
        self.two = factories.digest(entries=1, title="第二期")
        self.a, self.b = self.one.entries.order_by("position")
        self.c = self.two.entries.get()
        self.a.tags.add("蒸馏")
        self.b.tags.add("强化学习")
        Figure.objects.filter(entry__in=[self.a, self.b]).update(
            image=_stored_image(), width=8, height=6
        )
        self.editor = role_user("editor")
        self.admin = client_for(self.editor)  # CSRF checks on: the form's token is posted
        self.warm()

    def pages(self):
        return [url_of(x) for x in (self.one, self.two, self.a, self.b, self.c)] + [ENTRY_LIST]

    def warm(self):
        for url in self.pages():
            visit(url)

    def edit_url(self, obj) -> str:
        """Where ``obj`` (a live digest or one of its entries) is edited: the change page
        of its working copy (made now if need be), never of the live rows."""
        live = Digest.objects.get(pk=obj.pk if isinstance(obj, Digest) else obj.digest_id)
        copy = services.working_copy_start(digest=live, by=self.editor)
        if isinstance(obj, Digest):
            return digest_admin_url(copy)
        return entry_url(copy.entries.get(paper_id=obj.paper_id))

    def publish_changes(self, digest) -> None:
        """The editor's "Save and publish the changes" on the working copy's page."""
        copy = Digest.objects.get(working_copy_of=digest.pk)
        admin_save(self.admin, digest_admin_url(copy), "digest_form", {"_publish": "1"})
        assert not Digest.objects.filter(pk=copy.pk).exists()

    def save_entry(self, entry, changes: dict) -> dict:
        data = admin_save(self.admin, self.edit_url(entry), "entry_form", changes)
        self.publish_changes(entry.digest)
        return data

    def save_digest(self, digest, changes: dict) -> dict:
        data = admin_save(self.admin, self.edit_url(digest), "digest_form", changes)
        self.publish_changes(digest)
        return data

    def save_paper(self, paper, changes: dict) -> dict:
        return admin_save(self.admin, paper_url(paper), "paper_form", changes)


@pytest.fixture
def site(settings, tmp_path):
    settings.PAGE_CACHE_ENABLED = False
    settings.MEDIA_ROOT = tmp_path
    return Site()


# --- the control --------------------------------------------------------------------------


def test_every_block_and_row_comes_from_the_cache_on_the_next_visit(site):
    for url in site.pages():
        again = visit(url)
        assert again.rendered == set() and again.rows == set() and not again.tags, url
        assert again.issues == set(), url


def test_a_change_elsewhere_on_the_site_re_renders_no_block(
    site, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        site.save_digest(site.two, {"title": "第二期(改)"})
    page = visit(url_of(site.one))
    assert page.rendered == set()


# --- the entry admin: sections, figures, tags ---------------------------------------------


def test_an_edited_section_re_renders_its_paper_only_and_shows_at_once(site):
    site.save_entry(site.a, {"section_limitations": "新写的不足之处"})
    page = visit(url_of(site.one))
    assert "新写的不足之处" in block(page.html, 1)
    assert page.rendered == {site.a.pk}
    assert "新写的不足之处" in visit(url_of(site.a)).html
    for other in (site.b, site.c, site.two):
        assert visit(url_of(other)).rendered == set()


def test_a_removed_and_a_new_section_re_render_their_paper_only(site):
    site.save_entry(site.a, {"section_limitations": ""})
    page = visit(url_of(site.one))
    assert page.rendered == {site.a.pk}
    assert "critique-limitations" not in block(page.html, 1)
    assert "critique-limitations" in block(page.html, 2)
    assert "critique-limitations" not in visit(url_of(site.a)).html
    site.save_entry(site.a, {"section_limitations": "回来了"})
    page = visit(url_of(site.one))
    assert "回来了" in block(page.html, 1)
    assert page.rendered == {site.a.pk}


def test_an_edited_figure_caption_re_renders_its_paper_only(site):
    data = form_data(site.admin, site.edit_url(site.a), "entry_form")
    index = figure_index(data, "图1")
    site.save_entry(site.a, {f"figures-{index}-caption": "换了图注"})
    page = visit(url_of(site.one))
    assert "换了图注" in block(page.html, 1)
    assert page.rendered == {site.a.pk}
    assert "换了图注" in visit(url_of(site.a)).html


def test_an_added_and_a_removed_figure_re_render_their_paper_only(site):
    data = form_data(site.admin, site.edit_url(site.b), "entry_form")
    new = int(data["figures-TOTAL_FORMS"])
    site.save_entry(
        site.b,
        {
            "figures-TOTAL_FORMS": str(new + 1),
            f"figures-{new}-position": "2",
            f"figures-{new}-caption": "新加的图",
            f"figures-{new}-image": SimpleUploadedFile("new.png", _png(), "image/png"),
        },
    )
    page = visit(url_of(site.one))
    assert "新加的图" in block(page.html, 2)
    assert page.rendered == {site.b.pk}
    assert "新加的图" in visit(url_of(site.b)).html

    data = form_data(site.admin, site.edit_url(site.b), "entry_form")
    site.save_entry(site.b, {f"figures-{figure_index(data, '新加的图')}-DELETE": "on"})
    page = visit(url_of(site.one))
    assert "新加的图" not in page.html
    assert page.rendered == {site.b.pk}
    assert "新加的图" not in visit(url_of(site.b)).html


def test_added_removed_and_replaced_tags_re_render_their_paper_only(site):
    site.save_entry(site.a, {"tags": "蒸馏, 新标签"})
    page = visit(url_of(site.one))
    assert "<li>新标签</li>" in block(page.html, 1)
    assert page.rendered == {site.a.pk}

    site.save_entry(site.a, {"tags": "新标签"})
    page = visit(url_of(site.one))
    assert "<li>蒸馏</li>" not in page.html
    assert page.rendered == {site.a.pk}

    site.save_entry(site.b, {"tags": "换成这个"})
    page = visit(url_of(site.one))
    assert "<li>换成这个</li>" in block(page.html, 2)
    assert "<li>强化学习</li>" not in page.html
    assert page.rendered == {site.b.pk}
    assert "换成这个" in row(visit(ENTRY_LIST).html, site.b)

    site.save_entry(site.b, {"tags": ""})
    page = visit(url_of(site.one))
    assert "<li>换成这个</li>" not in page.html
    assert page.rendered == {site.b.pk}


def test_an_entry_saved_twice_shows_its_last_state(site):
    for title, gist in (("第一次的标题", "第一次的主旨"), ("第二次的标题", "第二次的主旨")):
        site.save_entry(site.a, {"title_zh": title, "section_gist": gist})
        page = visit(url_of(site.one))
        assert title in block(page.html, 1) and gist in block(page.html, 1)
        assert page.rendered == {site.a.pk}


# --- the paper admin ------------------------------------------------------------------------


def test_an_edited_paper_re_renders_the_blocks_presenting_it_only(site):
    three = factories.digest(title="第三期")
    again = factories.entry(digest=three, paper=site.a.paper)  # the same paper, twice
    visit(url_of(three))
    site.save_paper(site.a.paper, {"title": "A Retitled Paper"})
    page = visit(url_of(site.one))
    assert "A Retitled Paper" in block(page.html, 1)
    assert page.rendered == {site.a.pk}
    page = visit(url_of(three))
    assert "A Retitled Paper" in block(page.html, 1)
    assert page.rendered == {again.pk}
    assert visit(url_of(site.two)).rendered == set()
    assert visit(url_of(site.b)).rendered == set()


def test_a_new_cross_list_shows_on_the_entry_page(site):
    robotics = factories.category("cs.RO", "Robotics")
    site.save_paper(site.a.paper, {"categories": [str(robotics.pk)]})
    page = visit(url_of(site.a))
    assert 'title="Robotics">cs.RO' in page.html
    assert page.rendered == {site.a.pk}
    assert visit(url_of(site.b)).rendered == set()


# --- the digest admin ----------------------------------------------------------------------


def test_saving_a_digests_summary_re_renders_none_of_its_papers(site):
    site.save_digest(site.one, {"summary": "新写的本期摘要"})
    page = visit(url_of(site.one))
    assert "新写的本期摘要" in page.html
    assert page.rendered == set()
    for entry in (site.a, site.b):
        assert visit(url_of(entry)).rendered == set()
    assert visit(ENTRY_LIST).rows == set()


def test_the_digests_own_tags_show_at_once_without_re_rendering_blocks(site):
    site.save_digest(site.one, {"tags": "周刊"})
    page = visit(url_of(site.one))
    assert "<li>周刊</li>" in digest_header(page.html)
    assert page.rendered == set()
    site.save_digest(site.one, {"tags": ""})
    page = visit(url_of(site.one))
    assert "周刊" not in page.html
    assert page.rendered == set()


def test_the_digests_tags_are_labelled_in_the_readers_language(site):
    site.save_digest(site.one, {"tags": "周刊"})
    chinese = visit(url_of(site.one), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert 'aria-label="标签"' in digest_header(chinese.html)
    english = visit(url_of(site.one), HTTP_ACCEPT_LANGUAGE="en")
    assert 'aria-label="Tags"' in digest_header(english.html)


def test_a_new_title_and_address_of_a_digest_re_render_its_papers_and_rows_only(site):
    site.save_digest(site.one, {"title": "改名的一期", "slug": "renamed"})
    one = Digest.objects.get(pk=site.one.pk)
    page = visit(one.get_absolute_url())
    assert "改名的一期" in page.html
    assert f'href="/digests/{one.issue_date:%Y-%m-%d}/renamed/' in block(page.html, 1)
    assert page.rendered == {site.a.pk, site.b.pk}
    assert visit(url_of(site.two)).rendered == set()
    listing = visit(ENTRY_LIST)
    assert "改名的一期" in row(listing.html, site.a) and "改名的一期" in row(listing.html, site.b)
    assert listing.rows == {site.a.pk, site.b.pk}  # c's row from the cache
    assert listing.issues == {site.a.pk, site.b.pk}


def test_a_status_change_of_the_digest_re_renders_no_block(site):
    services.digest_unpublish(digest=site.two, by=site.editor)
    services.digest_publish(digest=Digest.objects.get(pk=site.two.pk), by=site.editor)
    assert visit(url_of(site.two)).rendered == set()
    assert visit(url_of(site.c)).rendered == set()


def test_reordered_papers_show_their_new_numbers(site):
    data = form_data(site.admin, site.edit_url(site.one), "digest_form")
    rows = {data[f"entries-{i}-paper"]: i for i in range(int(data["entries-TOTAL_FORMS"]))}
    site.save_digest(
        site.one,
        {
            f"entries-{rows[str(site.a.paper_id)]}-position": "2",
            f"entries-{rows[str(site.b.paper_id)]}-position": "1",
        },
    )
    page = visit(url_of(site.one))
    assert site.a.paper.title in block(page.html, 2)
    assert '<span class="entry-number">2、</span>' in block(page.html, 2)
    assert site.b.paper.title in block(page.html, 1)
    assert page.rendered == {site.a.pk, site.b.pk}
    assert '<span class="entry-number">2、</span>' in visit(url_of(site.a)).html
    assert '<span class="entry-number">1、</span>' in visit(url_of(site.b)).html
    listing = visit(ENTRY_LIST).html
    assert f'{url_of(site.one)}#paper-2"' in row(listing, site.a)
    assert f'{url_of(site.one)}#paper-1"' in row(listing, site.b)


def test_restoring_a_revision_re_renders_its_figures(site):
    revision = services.revision_record(digest=site.one, by=site.editor, message="before")
    data = form_data(site.admin, site.edit_url(site.a), "entry_form")
    site.save_entry(site.a, {f"figures-{figure_index(data, '图1')}-caption": "后来的图注"})
    assert "后来的图注" in visit(url_of(site.one)).html  # cached with the later caption

    restore = reverse("admin:papers_digest_restore", args=[site.one.pk, revision.number])
    response = site.admin.post(
        restore, {"message": "", "csrfmiddlewaretoken": site.admin.cookies["csrftoken"].value}
    )
    assert response.status_code == 302
    # Restored into the working copy: readers keep the live version meanwhile.
    assert "后来的图注" in visit(url_of(site.one)).html
    # The changes published: the public blocks cached before the restore are not served.
    site.publish_changes(site.one)
    page = visit(url_of(site.one))
    assert "后来的图注" not in page.html
    assert "<figcaption>图1" in block(page.html, 1)
    assert site.a.pk in page.rendered


# --- renames shared by many blocks ---------------------------------------------------------


def _rename(site, what):
    """Rename, in the admin, something the blocks of a, b and c all show."""
    if what == "tag":
        tag = Tag.objects.get(name="蒸馏")
        url = reverse("admin:taggit_tag_change", args=[tag.pk])
        admin_save(site.admin, url, "tag_form", {"name": "知识蒸馏"})
        return "<li>知识蒸馏</li>", "知识蒸馏</a></li>"
    if what == "category":
        category = Category.objects.get(pk=site.a.paper.primary_category_id)
        url = reverse("admin:papers_category_change", args=[category.pk])
        admin_save(site.admin, url, "category_form", {"code": "cs.XX"})
        return ">[XX]<", ">[XX]<"
    kind = SectionKind.objects.get(slug="limitations")
    url = reverse("admin:papers_sectionkind_change", args=[kind.pk])
    admin_save(site.admin, url, "sectionkind_form", {"name_zh": "局限"})
    return '-h">局限</h', None


@pytest.mark.parametrize("what", ["tag", "category", "section kind"])
def test_a_rename_shared_by_many_blocks_re_renders_them_all_and_shows(
    site, what, django_capture_on_commit_callbacks
):
    if what == "tag":  # c shows the tag too (an edit of c: its block is rendered again)
        site.c.tags.add("蒸馏")
        site.c.save()
        site.warm()
    with django_capture_on_commit_callbacks(execute=True):
        in_block, in_row = _rename(site, what)
    page = visit(url_of(site.one))
    assert in_block in block(page.html, 1)
    assert page.rendered == {site.a.pk, site.b.pk}
    page = visit(url_of(site.two))
    assert in_block in block(page.html, 1)
    assert page.rendered == {site.c.pk}
    assert in_block in visit(url_of(site.a)).html
    listing = visit(ENTRY_LIST)
    assert listing.rows == {site.a.pk, site.b.pk, site.c.pk}
    if in_row:
        assert in_row in row(listing.html, site.a) and in_row in row(listing.html, site.c)


# --- arXiv refreshes (a bulk update: no signal, no save) -----------------------------------


def _feed_papers():
    """Papers 2509.22445 and hep-th/9901001 as arXiv has them."""
    from editorial.arxiv_client import parse_feed
    from editorial.arxiv_sync import store_records
    from tests.arxiv_server import recorded

    store_records(parse_feed(recorded("two-papers.xml")), overwrite=True)
    return Paper.objects.get(arxiv_id="2509.22445"), Paper.objects.get(arxiv_id="hep-th/9901001")


def _refresh_from_arxiv(client, fake_arxiv, papers):
    from tests.arxiv_server import Reply, recorded

    fake_arxiv.add(Reply(recorded("two-papers.xml")))
    changelist = reverse("admin:papers_paper_changelist")
    client.get(changelist)  # the editor opens the list (and gets the CSRF cookie)
    response = client.post(
        changelist,
        {
            "action": "fetch_from_arxiv",
            "_selected_action": [p.pk for p in papers],
            "csrfmiddlewaretoken": client.cookies["csrftoken"].value,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]


def test_an_arxiv_refresh_re_renders_the_blocks_of_the_papers_it_changed(site, fake_arxiv):
    mdl, _strings = _feed_papers()
    Paper.objects.filter(pk=mdl.pk).update(abstract="")  # arXiv fills it in
    digest = factories.digest(title="arXiv 这一期")
    refreshed = factories.entry(digest=digest, position=1, paper=mdl)
    other = factories.entry(digest=digest, position=2)
    visit(url_of(digest))
    visit(url_of(refreshed))
    _refresh_from_arxiv(site.admin, fake_arxiv, [mdl])
    page = visit(url_of(digest))
    assert "The Minimum Description Length" in block(page.html, 1)
    assert page.rendered == {refreshed.pk}
    assert other.pk not in page.rendered
    assert "The Minimum Description Length" in visit(url_of(refreshed)).html
    assert visit(url_of(site.one)).rendered == set()


def test_an_arxiv_refresh_leaves_the_blocks_of_unchanged_papers_cached(site, fake_arxiv):
    """A nightly refresh of every paper changes few of them: the others' blocks stay."""
    mdl, strings = _feed_papers()
    Paper.objects.filter(pk=mdl.pk).update(abstract="")
    digest = factories.digest(title="arXiv 这一期")
    refreshed = factories.entry(digest=digest, position=1, paper=mdl)
    unchanged = factories.entry(digest=digest, position=2, paper=strings)
    visit(url_of(digest))
    _refresh_from_arxiv(site.admin, fake_arxiv, [mdl, strings])
    page = visit(url_of(digest))
    assert "The Minimum Description Length" in block(page.html, 1)
    assert unchanged.pk not in page.rendered
    assert page.rendered == {refreshed.pk}


# --- transactions, races and releases ------------------------------------------------------


class _RolledBack(Exception):
    pass


def test_an_edit_inside_a_transaction_that_rolls_back_changes_nothing_readers_see(
    site, django_capture_on_commit_callbacks
):
    before = visit(url_of(site.one)).html
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(_RolledBack), transaction.atomic():
            site.save_entry(site.a, {"section_limitations": "回滚的不足", "title_zh": "回滚的标题"})
            category = Category.objects.get(pk=site.a.paper.primary_category_id)
            url = reverse("admin:papers_category_change", args=[category.pk])
            admin_save(site.admin, url, "category_form", {"code": "cs.RB"})
            # A reader inside the transaction renders (and caches) the uncommitted edit.
            inside = visit(url_of(site.one))
            assert "回滚的不足" in inside.html and "[RB]" in inside.html
            raise _RolledBack
    page = visit(url_of(site.one))
    assert "回滚的不足" not in page.html and "回滚的标题" not in page.html
    assert "[RB]" not in page.html
    assert page.rendered == set()  # the blocks cached before the edit, still current
    assert block(page.html, 1) == block(before, 1)
    assert "回滚的标题" not in visit(url_of(site.a)).html
    assert "[RB]" not in visit(ENTRY_LIST).html


def _commit_while_rendering(writer, *tables):
    """A connection wrapper that runs ``writer`` (a committed change) right after the
    page's first query reading all of ``tables``: the page then renders rows read before
    it."""
    fired = []

    def wrapper(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        reads = all(f'"{table}"' in sql for table in tables)
        if not fired and reads and sql.lstrip().upper().startswith("SELECT"):
            fired.append(sql)
            writer()
        return result

    return wrapper, fired


def test_a_section_edit_committed_while_a_page_renders_shows_next(
    site, django_capture_on_commit_callbacks
):
    """The reader read A's key (its update time) before the edit and its sections after:
    whatever it caches under the old key, the next reader has the new one."""

    def edit():
        with django_capture_on_commit_callbacks(execute=True):
            site.save_entry(site.a, {"section_limitations": "并发时改的"})

    site.save_entry(site.a, {"title_zh": "先改一次"})  # A's block is rendered on the next visit
    wrapper, fired = _commit_while_rendering(edit, Entry._meta.db_table)
    with connection.execute_wrapper(wrapper):
        Client().get(url_of(site.one))
    assert fired
    assert "并发时改的" in block(visit(url_of(site.one)).html, 1)


@pytest.mark.parametrize("page", ["digest", "list"])
def test_a_rename_committed_after_the_rows_were_read_shows_next(
    site, page, django_capture_on_commit_callbacks
):
    """The page reads the category's code with its entries: a rename committed before it
    reads the names version must not leave the old code cached under the new version."""

    def rename():
        with django_capture_on_commit_callbacks(execute=True):
            category = Category.objects.get(pk=site.a.paper.primary_category_id)
            url = reverse("admin:papers_category_change", args=[category.pk])
            admin_save(site.admin, url, "category_form", {"code": "cs.YY"})

    site.save_entry(site.a, {"title_zh": "先改一次"})  # A's block and row are not cached
    url = url_of(site.one) if page == "digest" else ENTRY_LIST
    wrapper, fired = _commit_while_rendering(rename, Entry._meta.db_table, Category._meta.db_table)
    with connection.execute_wrapper(wrapper):
        first = Client().get(url).content.decode()
    assert fired
    shown = block(first, 1) if page == "digest" else row(first, site.a)
    assert ">[LG]<" in shown  # read before the rename
    html = visit(url).html
    shown = block(html, 1) if page == "digest" else row(html, site.a)
    assert ">[YY]<" in shown


def test_a_new_release_never_serves_the_blocks_of_the_previous_one(site, settings):
    """Every cache key carries the release (KEY_PREFIX): after a deploy every block and row
    is rendered again, although the cache still holds the previous release's."""
    base = dict(settings.CACHES["default"])
    settings.CACHES = {**settings.CACHES, "default": {**base, "KEY_PREFIX": "digest:old"}}
    site.warm()
    assert visit(url_of(site.one)).rendered == set()
    settings.CACHES = {**settings.CACHES, "default": {**base, "KEY_PREFIX": "digest:new"}}
    assert visit(url_of(site.one)).rendered == {site.a.pk, site.b.pk}
    assert visit(ENTRY_LIST).rows == {site.a.pk, site.b.pk, site.c.pk}


def test_the_production_caches_are_keyed_by_the_release():
    from digestsite import settings as production

    for alias in ("default", "pages"):
        if alias in production.CACHES:
            assert production.RELEASE in production.CACHES[alias]["KEY_PREFIX"], alias
    redis = production.redis_caches("redis://127.0.0.1:6379/0", production._KEY_PREFIX)
    assert production.RELEASE in redis["default"]["KEY_PREFIX"]


def test_the_release_follows_every_file_the_pages_are_made_from(tmp_path, monkeypatch):
    """A change to the code of any of the project's apps, a template or a compiled
    translation is a new release (its blocks and pages are never served by another)."""
    from django.apps import apps

    from digestsite import settings as production

    base = production.BASE_DIR
    folders = {"templates", "locale", "digestsite"}
    for config in apps.get_app_configs():
        path = production.Path(config.path)
        if path.is_relative_to(base) and ".venv" not in path.parts:
            folders.add(path.relative_to(base).parts[0])
    for folder in folders:
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "module.py").write_text("first")
    (tmp_path / "locale" / "xx" / "LC_MESSAGES").mkdir(parents=True)
    (tmp_path / "locale" / "xx" / "LC_MESSAGES" / "django.mo").write_bytes(b"first")
    monkeypatch.delenv("RELEASE", raising=False)
    monkeypatch.setattr(production, "BASE_DIR", tmp_path)
    not_following = []
    for changed in [
        *(tmp_path / f / "module.py" for f in sorted(folders)),
        tmp_path / "locale" / "xx" / "LC_MESSAGES" / "django.mo",
    ]:
        before = production.code_release()
        changed.write_bytes(b"second")
        if production.code_release() == before:
            not_following.append(changed.relative_to(tmp_path).as_posix())
    assert not not_following, f"the release does not change with {not_following}"


def test_blocks_do_not_outlive_signed_figure_urls(settings):
    """With S3 signed media URLs (querystring_auth), a cached block must not keep serving
    its figures' URLs after they expire (the storage's ``querystring_expire``, an hour by
    default)."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {"bucket_name": "figures", "querystring_auth": True},
        },
    }
    lifetime = load_blocks([], DIGEST_PAGE, names="-", is_preview=False)["block_seconds"]
    assert lifetime < 3600


# --- the key the view computes is the key the template caches under ----------------------


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_view_reads_the_key_the_template_writes(site, language):
    """For each page kind, public, preview and share link: after a visit, the key that
    ``block_fragment_key`` computes holds the block the template cached, and the next
    visit loads no sections (the view found every block)."""
    draft = factories.digest(entries=1, status="draft", title="草稿一期")
    draft_entry = draft.entries.get()
    link = services.share_link_create(digest=site.one, by=site.editor)
    share_url = reverse("editorial:share-preview", args=[workflow.share_token(link)])
    headers = {"HTTP_ACCEPT_LANGUAGE": language}
    staff = client_for(site.editor)
    cases = [
        (url_of(site.one), None, DIGEST_PAGE, False, False, [site.a, site.b]),
        (url_of(site.a), None, ENTRY_PAGE, False, False, [site.a]),
        (url_of(draft), staff, DIGEST_PAGE, True, False, [draft_entry]),
        (url_of(draft_entry), staff, ENTRY_PAGE, True, False, [draft_entry]),
        (share_url, None, DIGEST_PAGE, True, True, [site.a, site.b]),
    ]
    for url, client, page, is_preview, share, entries in cases:
        visit(url, client, **headers)
        with translation.override(language):
            names = names_version()
            for entry in Entry.objects.select_related("digest", "paper").filter(
                pk__in=[e.pk for e in entries]
            ):
                key = block_fragment_key(
                    page, entry, is_preview=is_preview, share=share, names=names
                )
                held = _fragment_cache().get(key)
                assert held is not None, f"{url}: no block of entry {entry.pk} under {key}"
                assert entry.paper.title in held
        again = visit(url, client, **headers)
        assert again.loaded == set(), f"{url}: sections loaded for blocks the cache holds"


def test_the_entry_page_and_the_digest_page_each_show_their_own_block(site):
    """The same paper is a block of the digest page (h2, anchors "paper-N-…") and of its
    own page (h1, the contents menu of its sections, the cross-lists): neither is served
    the other's."""
    robotics = factories.category("cs.RO", "Robotics")
    site.a.paper.categories.add(robotics)
    site.save_entry(site.a, {"title_zh": "两种页面"})  # nothing of A's is cached now
    digest_page = visit(url_of(site.one))
    assert '<h2 class="entry-title" id="paper-1-title">' in block(digest_page.html, 1)
    entry_page = visit(url_of(site.a))
    assert '<h1 class="entry-title"' in entry_page.html
    assert 'id="sections-list"' in entry_page.html and "cs.RO" in entry_page.html
    assert entry_page.rendered == {site.a.pk}
    # And the other way round: the entry page first.
    site.save_entry(site.a, {"title_zh": "两种页面,又改"})
    assert '<h1 class="entry-title"' in visit(url_of(site.a)).html
    digest_page = visit(url_of(site.one)).html
    assert '<h2 class="entry-title" id="paper-1-title">' in block(digest_page, 1)
    assert 'id="sections-list"' not in digest_page


# --- list rows ------------------------------------------------------------------------------


def test_an_edited_paper_title_shows_in_the_entry_list_at_once(site):
    site.save_paper(site.a.paper, {"title": "A Retitled Paper"})
    listing = visit(ENTRY_LIST)
    assert "A Retitled Paper" in row(listing.html, site.a)
    assert listing.rows == {site.a.pk}


def test_a_rows_view_count_is_not_frozen_in_the_cached_row(site):
    from readership import counting, writing

    with translation.override("zh-hans"):
        label = translation.gettext("Views")
    assert f"{label}: 0<" in row(visit(ENTRY_LIST).html, site.a)
    for n in range(3):
        response = Client().get(
            site.a.get_absolute_url(),
            HTTP_USER_AGENT="Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0",
            REMOTE_ADDR=f"198.51.100.{n + 1}",
        )
        assert response.status_code == 200
    writing.write_counts(moment=time.time() + counting.BATCH_SECONDS + counting.GRACE_SECONDS)
    assert Entry.objects.get(pk=site.a.pk).view_count == 3
    listing = visit(ENTRY_LIST)
    assert f"{label}: 3<" in row(listing.html, site.a)
    assert listing.rows == set()  # the row itself came from the cache


def test_a_search_snippet_is_not_frozen_in_the_cached_row(site):
    first = visit("/search/?q=蒸馏")
    assert "<mark>蒸馏</mark>" in row(first.html, site.a)
    second = visit("/search/?q=推理")
    shown = row(second.html, site.a)
    assert "<mark>推理</mark>" in shown and "<mark>蒸馏</mark>" not in shown
    assert second.rows == set()  # the rows of the first search, from the cache
    plain = row(visit(ENTRY_LIST).html, site.a)
    assert "<mark>" not in plain


def test_a_digest_title_change_shows_in_its_rows_at_once(site):
    site.save_digest(site.two, {"title": "第二期(新标题)"})
    listing = visit(ENTRY_LIST)
    assert "第二期(新标题)" in row(listing.html, site.c)
    assert "第二期(新标题)" not in row(listing.html, site.a)
    # Only the line naming the issue is rendered again; the row's heading and tags are kept.
    assert listing.issues == {site.c.pk} and listing.rows == set()
