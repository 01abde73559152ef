import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from papers.models import Category, Digest, Entry, Paper, Section, SectionKind
from tests import factories

pytestmark = pytest.mark.django_db


def test_the_eight_section_kinds_are_seeded_in_the_digest_order():
    kinds = list(SectionKind.objects.values_list("name_zh", flat=True))
    assert kinds == ["要点", "主旨", "创新", "贡献", "提升", "不足", "心得", "一句话总结"]
    assert not SectionKind.objects.get(slug="gist").is_list
    assert SectionKind.objects.get(slug="key-points").is_list


def test_categories_are_seeded_and_show_their_short_tag():
    assert Category.objects.get(code="cs.LG").short_code == "LG"
    assert Category.objects.get(code="stat.ML").short_code == "ML"
    assert Category.objects.get(code="eess.AS").short_code == "AS"
    assert Category.objects.filter(code__startswith="cs.").count() >= 40


def test_digest_date_and_slug_are_unique_together():
    factories.digest(issue_date=datetime.date(2025, 9, 30), slug="daily")
    factories.digest(issue_date=datetime.date(2025, 10, 1), slug="daily")
    with pytest.raises(IntegrityError), transaction.atomic():
        factories.digest(issue_date=datetime.date(2025, 9, 30), slug="daily")


def test_a_published_digest_must_have_a_go_live_time():
    with pytest.raises(IntegrityError), transaction.atomic():
        Digest.objects.create(
            title="t", slug="t", issue_date=datetime.date(2025, 9, 30), status="published"
        )


def test_expiry_must_come_after_go_live():
    now = timezone.now()
    with pytest.raises(IntegrityError), transaction.atomic():
        factories.digest(published_at=now, expires_at=now - datetime.timedelta(minutes=1))


def test_two_entries_cannot_share_a_position_in_one_digest():
    digest = factories.digest()
    factories.entry(digest=digest, position=1, with_sections=False)
    with pytest.raises(IntegrityError), transaction.atomic():
        factories.entry(digest=digest, position=1, with_sections=False)


def test_the_same_paper_cannot_appear_twice_in_one_digest():
    digest = factories.digest()
    paper = factories.paper()
    factories.entry(digest=digest, position=1, paper=paper, with_sections=False)
    with pytest.raises(IntegrityError), transaction.atomic():
        factories.entry(digest=digest, position=2, paper=paper, with_sections=False)


def test_an_entry_has_one_section_per_kind():
    entry = factories.entry(digest=factories.digest(), with_sections=False)
    kind = SectionKind.objects.get(slug="gist")
    Section.objects.create(entry=entry, kind=kind, body="一")
    with pytest.raises(IntegrityError), transaction.atomic():
        Section.objects.create(entry=entry, kind=kind, body="二")


def test_paper_form_cleaning_stores_a_pasted_link_versionless():
    paper = factories.paper()
    paper.arxiv_id = "https://arxiv.org/abs/2509.22445v3"
    paper.full_clean()
    assert paper.arxiv_id == "2509.22445"


def test_paper_with_a_bad_arxiv_id_does_not_validate():
    paper = factories.paper()
    paper.arxiv_id = "not-an-id"
    with pytest.raises(ValidationError) as caught:
        paper.full_clean()
    assert "arxiv_id" in caught.value.message_dict


def test_list_sections_turn_pasted_bullets_and_plain_lines_into_a_list():
    entry = factories.entry(digest=factories.digest(), with_sections=False)
    kind = SectionKind.objects.get(slug="key-points")
    pasted = Section.objects.create(entry=entry, kind=kind, body="  • 第一点\n  • 第二点")
    assert pasted.body_html == "<ul>\n<li>第一点</li>\n<li>第二点</li>\n</ul>"
    other = SectionKind.objects.get(slug="innovation")
    plain = Section.objects.create(entry=entry, kind=other, body="甲\n\n乙")
    assert plain.body_html.count("<li>") == 2


def test_section_html_never_carries_script_or_javascript_links():
    entry = factories.entry(digest=factories.digest(), with_sections=False)
    kind = SectionKind.objects.get(slug="gist")
    section = Section.objects.create(
        entry=entry,
        kind=kind,
        body="<script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=alert(1)>",
    )
    assert "<script" not in section.body_html
    assert 'href="javascript' not in section.body_html
    assert "<img" not in section.body_html
    assert "&lt;script&gt;" in section.body_html


def test_published_means_live_and_not_expired():
    now = timezone.now()
    live = factories.digest()
    factories.digest(status="draft")
    factories.digest(status="review")
    factories.digest(published_at=now + datetime.timedelta(hours=1))  # scheduled
    factories.digest(
        published_at=now - datetime.timedelta(days=2), expires_at=now - datetime.timedelta(days=1)
    )
    archived = factories.digest(status="archived")
    assert set(Digest.objects.published()) == {live, archived}
    assert list(Digest.objects.listed()) == [live]


def test_entries_and_papers_follow_their_digest_visibility():
    visible = factories.digest(entries=1)
    hidden = factories.digest(entries=1, status="draft")
    assert set(Entry.objects.published()) == set(visible.entries.all())
    papers = set(Paper.objects.published())
    assert papers == {visible.entries.get().paper}
    assert hidden.entries.get().paper not in papers
