"""The papers' cached blocks are keyed per entry (papers/block_versions.py): an edit re-renders
the block it changes on the next request, the other papers of the digest come from the cache,
a rename shared by many blocks re-renders them all, and no interleaving of a reader and a
writer leaves an old block in the cache."""

import io
import re

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.test import Client
from PIL import Image as PILImage
from taggit.models import Tag

from papers import fragments, services
from papers.models import Category, Digest, Entry, Figure, Section, SectionKind
from tests import factories

pytestmark = pytest.mark.django_db


def _image() -> str:
    """The stored name of a new 8x6 PNG."""
    buffer = io.BytesIO()
    PILImage.new("RGB", (8, 6)).save(buffer, format="PNG")
    return default_storage.save("figures/blocks-test.png", ContentFile(buffer.getvalue()))


@pytest.fixture
def boss():
    return factories.user("boss", superuser=True)


@pytest.fixture
def rendered(monkeypatch):
    """The ids of the entries whose blocks were rendered (not taken from the cache)."""
    calls = []
    real = fragments._render

    def spy(entry, content, **kwargs):
        calls.append(entry.pk)
        return real(entry, content, **kwargs)

    monkeypatch.setattr(fragments, "_render", spy)
    return calls


@pytest.fixture
def site(rendered, settings, tmp_path):
    """Digest ``one`` with papers A and B, digest ``two`` with paper C, every block cached
    (digest and entry pages); ``page(url)`` is what the next reader gets, and empties
    ``rendered`` first."""
    settings.MEDIA_ROOT = tmp_path
    one = factories.digest(entries=2, title="第一期")
    two = factories.digest(entries=1, title="第二期")
    a, b = one.entries.order_by("position")
    c = two.entries.get()
    a.tags.add("蒸馏")
    b.tags.add("强化学习")
    # Uploaded images (placeholders show in previews only).
    Figure.objects.filter(entry__in=[a, b]).update(image=_image(), width=8, height=6)
    client = Client()

    def page(url):
        rendered.clear()
        response = client.get(url)
        assert response.status_code == 200
        return response.content.decode()

    for url in (one.get_absolute_url(), two.get_absolute_url(), a.get_absolute_url()):
        page(url)
        page(b.get_absolute_url())
    return {"one": one, "two": two, "a": a, "b": b, "c": c, "page": page, "rendered": rendered}


def _digest_page(site):
    return site["page"](Digest.objects.get(pk=site["one"].pk).get_absolute_url())


def test_the_blocks_stay_cached_when_only_the_content_version_changes(site):
    """The control: a change elsewhere on the site (a new content version: the page cache
    misses) renders no block again; the blocks were cached by the first visits."""
    factories.digest(entries=1, title="别的一期")
    page = _digest_page(site)
    assert "第一期" in page
    assert site["rendered"] == []


def test_an_edited_section_re_renders_its_paper_only(site):
    section = site["a"].sections.get(kind__slug="limitations")
    section.body = "新写的不足之处"
    section.save()
    assert "新写的不足之处" in _digest_page(site)
    assert site["rendered"] == [site["a"].pk]
    assert "新写的不足之处" in site["page"](site["a"].get_absolute_url())
    site["page"](site["b"].get_absolute_url())
    assert site["rendered"] == []


def test_a_deleted_section_and_a_new_one_re_render_their_paper_only(site):
    site["a"].sections.get(kind__slug="limitations").delete()
    page = _digest_page(site)
    assert site["rendered"] == [site["a"].pk]
    assert page.count("critique-limitations") == 1  # B's
    Section.objects.create(
        entry=site["a"], kind=SectionKind.objects.get(slug="limitations"), body="回来了"
    )
    assert "回来了" in _digest_page(site)
    assert site["rendered"] == [site["a"].pk]


def test_an_edited_or_added_figure_re_renders_its_paper_only(site):
    figure = site["a"].figures.get()
    figure.caption = "换了图注"
    figure.save()
    assert "换了图注" in _digest_page(site)
    assert site["rendered"] == [site["a"].pk]
    Figure.objects.create(
        entry=site["b"], position=2, caption="新加的图", image=_image(), width=8, height=6
    )
    assert "新加的图" in _digest_page(site)
    assert site["rendered"] == [site["b"].pk]
    site["b"].figures.get(position=2).delete()
    assert "新加的图" not in _digest_page(site)
    assert site["rendered"] == [site["b"].pk]


def test_added_removed_and_replaced_tags_re_render_their_paper_only(site):
    site["a"].tags.add("新标签")
    assert "<li>新标签</li>" in _digest_page(site)
    assert site["rendered"] == [site["a"].pk]
    site["a"].tags.remove("蒸馏")
    assert "<li>蒸馏</li>" not in _digest_page(site)
    assert site["rendered"] == [site["a"].pk]
    site["b"].tags.set(["换成这个"])
    page = _digest_page(site)
    assert "<li>换成这个</li>" in page and "<li>强化学习</li>" not in page
    assert site["rendered"] == [site["b"].pk]
    site["b"].tags.clear()
    assert "<li>换成这个</li>" not in _digest_page(site)
    assert site["rendered"] == [site["b"].pk]


def test_an_edited_paper_re_renders_the_blocks_presenting_it_only(site):
    paper = site["a"].paper
    paper.title = "A Retitled Paper"
    paper.save()
    assert "A Retitled Paper" in _digest_page(site)
    assert site["rendered"] == [site["a"].pk]
    paper.categories.add(factories.category("cs.RO", "Robotics"))
    assert 'title="Robotics">cs.RO' in site["page"](site["a"].get_absolute_url())
    assert site["rendered"] == [site["a"].pk]


def test_the_entry_itself_edited_re_renders_its_block_only(site):
    entry = Entry.objects.get(pk=site["a"].pk)
    entry.title_zh = "改过的中文标题"
    entry.save()
    assert "改过的中文标题" in _digest_page(site)
    assert site["rendered"] == [site["a"].pk]


def test_an_edited_digest_re_renders_its_papers_and_no_others(site):
    one = site["one"]
    one.title = "改名的一期"
    one.slug = "renamed"
    one.save()
    page = _digest_page(site)
    assert "改名的一期" in page
    assert f'href="/digests/{one.issue_date:%Y-%m-%d}/renamed/' in page
    assert sorted(site["rendered"]) == sorted([site["a"].pk, site["b"].pk])
    site["page"](site["two"].get_absolute_url())
    assert site["rendered"] == []


def test_a_status_change_of_the_digest_re_renders_no_block(site, boss):
    services.digest_unpublish(digest=site["two"], by=boss)
    services.digest_publish(digest=site["two"], by=boss)
    site["page"](Digest.objects.get(pk=site["two"].pk).get_absolute_url())
    assert site["rendered"] == []


def test_the_digests_own_tags_show_at_once_without_re_rendering_blocks(site):
    site["one"].tags.add("周刊")
    assert "周刊" in _digest_page(site)
    assert site["rendered"] == []
    site["one"].tags.clear()
    assert "周刊" not in _digest_page(site)


@pytest.mark.parametrize("rename", ["tag", "category", "section kind"])
def test_a_rename_shared_by_many_blocks_re_renders_them_all(site, rename):
    if rename == "tag":
        tag = Tag.objects.get(name="蒸馏")
        tag.name = "知识蒸馏"
        tag.save()
        shown = "<li>知识蒸馏</li>"
    elif rename == "category":
        category = Category.objects.get(pk=site["a"].paper.primary_category_id)
        category.code = "cs.XX"
        category.save()
        shown = "[XX]"
    else:
        kind = SectionKind.objects.get(slug="limitations")
        kind.name_zh = "局限"
        kind.save()
        shown = ">局限</a>"
    assert shown in _digest_page(site)
    assert sorted(site["rendered"]) == sorted([site["a"].pk, site["b"].pk])
    site["page"](site["two"].get_absolute_url())
    assert site["rendered"] == [site["c"].pk]


def test_a_later_save_of_an_object_loaded_before_an_edit_keeps_the_new_counter(site):
    """An object loaded before its section was edited holds the old counter; saving it
    must not write that number back (blocks cached under it would be served again)."""
    entry = Entry.objects.get(pk=site["a"].pk)
    section = entry.sections.get(kind__slug="limitations")
    section.body = "第一次修改"
    section.save()
    assert "第一次修改" in _digest_page(site)  # cached under the raised counter
    entry.title_zh = "之后改的标题"
    entry.save()
    page = _digest_page(site)
    assert "之后改的标题" in page and "第一次修改" in page


def test_an_edit_inside_a_transaction_shows_after_the_commit(
    site, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        section = site["a"].sections.get(kind__slug="limitations")
        section.body = "事务里改的"
        section.save()
        site["a"].tags.add("事务里加的")
    page = _digest_page(site)
    assert "事务里改的" in page and "<li>事务里加的</li>" in page
    assert site["rendered"] == [site["a"].pk]


def _block(page: str, position: int) -> str:
    """The block of the paper at ``position`` on a digest page."""
    return re.search(rf'<article class="entry" id="paper-{position}".*?</article>', page, re.S)[0]


def _commit_while_rendering(writer, on_table):
    """A connection wrapper that runs ``writer`` (a committed change) right after the
    page's first query reading ``on_table``: the page then renders rows read before it."""
    fired = []

    def wrapper(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if not fired and on_table in sql and sql.lstrip().upper().startswith("SELECT"):
            fired.append(sql)
            writer()
        return result

    return wrapper, fired


def test_a_section_edit_committed_while_a_page_renders_shows_next(
    site, django_capture_on_commit_callbacks
):
    """The reader read A's counter and sections before the edit, and caches the old text
    under the old counter; the next reader sees the raised one."""

    def edit():
        with django_capture_on_commit_callbacks(execute=True):
            section = site["a"].sections.get(kind__slug="limitations")
            section.body = "并发时改的"
            section.save()

    site["a"].tags.add("冷")  # A's block is rendered (sections read) on the next visit
    wrapper, fired = _commit_while_rendering(edit, Section._meta.db_table)
    with connection.execute_wrapper(wrapper):
        first = _digest_page(site)
    assert fired and "并发时改的" not in first
    assert "并发时改的" in _digest_page(site)


def test_a_rename_committed_after_the_rows_were_read_shows_next(
    site, django_capture_on_commit_callbacks
):
    """The page reads the category's code with the entries, then the blocks version: a
    rename committed in between must not leave the old code cached under the new
    version (the version is read first)."""

    def rename():
        with django_capture_on_commit_callbacks(execute=True):
            category = Category.objects.get(pk=site["a"].paper.primary_category_id)
            category.code = "cs.YY"
            category.save()

    factories.digest(title="别的一期")  # a new content version: the page cache misses
    wrapper, fired = _commit_while_rendering(rename, Entry._meta.db_table)
    with connection.execute_wrapper(wrapper):
        first = _block(_digest_page(site), 1)
    assert fired and "[LG]" in first  # read before the rename
    assert "[YY]" in _block(_digest_page(site), 1)


# --- the write paths that send no signal, and the admin --------------------------------------


def test_an_arxiv_refresh_re_renders_the_blocks_of_the_papers_it_changed(rendered):
    from papers.arxiv_client import parse_feed
    from papers.arxiv_sync import store_records
    from tests.arxiv_server import recorded

    digest = factories.digest()
    refreshed = factories.entry(
        digest=digest, position=1, paper=factories.paper(arxiv_id="2509.22445", abstract="")
    )
    other = factories.entry(digest=digest, position=2)
    client = Client()
    client.get(digest.get_absolute_url())
    records = [r for r in parse_feed(recorded("two-papers.xml")) if r.arxiv_id == "2509.22445"]
    rendered.clear()
    store_records(records)  # fills the empty abstract (bulk_update: no signal)
    page = client.get(digest.get_absolute_url()).content.decode()
    assert "The Minimum Description Length" in page
    assert rendered == [refreshed.pk]
    assert other.pk not in rendered


def test_restoring_a_revision_re_renders_its_figures(site, boss):
    one = site["one"]
    revision = services.revision_record(digest=one, by=boss, message="before")
    figure = site["a"].figures.get()
    figure.caption = "后来的图注"
    figure.save()
    assert "后来的图注" in _digest_page(site)
    services.digest_restore_revision(digest=one, revision=revision, by=boss)
    staff = Client()
    staff.force_login(boss)  # restored as a draft: a preview
    page = staff.get(Digest.objects.get(pk=one.pk).get_absolute_url()).content.decode()
    assert "后来的图注" not in page and "图1" in page


def test_an_entry_saved_twice_in_the_admin_shows_its_last_state(site, admin_client):
    from django.urls import reverse

    a = site["a"]
    url = reverse("admin:papers_entry_change", args=[a.pk])
    data = {
        "digest": a.digest_id,
        "position": a.position,
        "paper": a.paper_id,
        "tags": "蒸馏",
        "unplaced_text": "",
        "figures-TOTAL_FORMS": "0",
        "figures-INITIAL_FORMS": "0",
        "figures-MIN_NUM_FORMS": "0",
        "figures-MAX_NUM_FORMS": "1000",
    }
    for title, gist in (("第一次的标题", "第一次的主旨"), ("第二次的标题", "第二次的主旨")):
        response = admin_client.post(url, {**data, "title_zh": title, "section_gist": gist})
        assert response.status_code == 302, response.content.decode()[:2000]
        page = _digest_page(site)
        assert title in page and gist in page
        assert site["rendered"] == [a.pk]


def test_a_new_release_of_the_markup_never_serves_old_blocks(site, monkeypatch):
    """Blocks cached by a release whose markup (code, entry template, translations) differs
    are not served: after a deploy every block is rendered again."""
    _digest_page(site)
    assert site["rendered"] == []
    monkeypatch.setattr(fragments, "markup_revision", lambda: "a-new-release")
    factories.digest(entries=1, title="别的一期")  # the page cache misses too
    _digest_page(site)
    assert sorted(site["rendered"]) == sorted([site["a"].pk, site["b"].pk])


def test_the_markup_revision_follows_the_files_it_is_made_from(tmp_path, settings):
    fragments.markup_revision.cache_clear()
    before = fragments.markup_revision()
    locale = tmp_path / "xx" / "LC_MESSAGES"
    locale.mkdir(parents=True)
    (locale / "django.mo").write_bytes(b"translations of another release")
    settings.LOCALE_PATHS = [*settings.LOCALE_PATHS, tmp_path]
    fragments.markup_revision.cache_clear()
    try:
        assert fragments.markup_revision() != before
    finally:
        fragments.markup_revision.cache_clear()
