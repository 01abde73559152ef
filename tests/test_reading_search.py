"""Bilingual search: Chinese two-character words and English words, ranked, highlighted,
kept current, drafts never found. Runs on SQLite and PostgreSQL (make test with DATABASE_URL)."""

import pytest
from django.db import connection
from django.template.loader import render_to_string

from papers.models import Entry, Section, SectionKind
from reading import search
from reading.models import EntrySearch
from tests import factories

pytestmark = pytest.mark.django_db


def _entry(digest=None, *, title="A Plain Title", limitations="", summary="", tags=(), **paper):
    digest = digest or factories.digest()
    position = digest.entries.count() + 1
    entry = factories.entry(
        digest=digest,
        position=position,
        with_sections=False,
        paper=factories.paper(title=title, **paper),
    )
    kinds = {kind.slug: kind for kind in SectionKind.objects.all()}
    if limitations:
        Section.objects.create(entry=entry, kind=kinds["limitations"], body=limitations)
    if summary:
        Section.objects.create(entry=entry, kind=kinds["summary"], body=summary)
    if tags:
        entry.tags.add(*tags)
    return entry


def _found(query):
    queryset, _terms = search.apply_search(Entry.objects.published(), query)
    return set(queryset.values_list("pk", flat=True))


def test_chinese_runs_become_bigrams_and_english_words_lower_case():
    assert search.terms("强化学习 for LLM-Reasoning") == [
        "强化",
        "化学",
        "学习",
        "for",
        "llm",
        "reasoning",
    ]
    assert search.term_text("推理") == " 推理 "


def test_a_two_character_chinese_word_finds_the_entries_whose_critique_contains_it():
    with_word = _entry(limitations="- 模型的推理能力依赖大量标注数据。")
    other = _entry(limitations="- 实验规模有限。")
    assert _found("推理") == {with_word.pk}
    assert other.pk not in _found("推理")


def test_a_longer_chinese_query_must_appear_as_a_phrase():
    hit = _entry(limitations="- 知识蒸馏后精度下降明显。")
    near_miss = _entry(limitations="- 知识的获取与蒸汽机无关。")
    assert _found("知识蒸馏") == {hit.pk}
    assert near_miss.pk not in _found("知识蒸馏")


def test_english_words_match_titles_abstracts_and_authors_by_prefix():
    titled = _entry(title="Dual-Head Reasoning Distillation")
    authored = _entry(authors="P Shaw\nK Toutanova")
    abstract = _entry(abstract="We study planning with reinforcement learning.")
    assert _found("distillation") == {titled.pk}
    assert _found("distil") == {titled.pk}
    assert _found("Toutanova") == {authored.pk}
    assert _found("reinforcement planning") == {abstract.pk}
    assert _found("reinforcement nonexistentword") == set()


def test_mixed_chinese_and_english_queries_need_every_term():
    both = _entry(title="Transformer Scaling", limitations="- 推理成本高。")
    only_chinese = _entry(limitations="- 推理速度慢。")
    assert _found("transformer 推理") == {both.pk}
    assert only_chinese.pk in _found("推理")


def test_a_match_in_the_english_or_chinese_title_ranks_above_one_in_the_summary_or_body():
    body = _entry(limitations="- 提到了蒸馏方法但不是主题。")
    summary = _entry(summary="本文研究蒸馏。")
    title = _entry(title="Distillation")
    title.title_zh = "知识蒸馏的新方法"
    title.save()
    queryset, _terms = search.apply_search(Entry.objects.published(), "蒸馏")
    ranks = dict(queryset.values_list("pk", "rank"))
    assert ranks[title.pk] > ranks[summary.pk] == ranks[body.pk]


def test_drafts_are_never_found():
    draft = factories.digest(status="draft")
    _entry(draft, limitations="- 独一无二的草稿词汇甲乙。")
    assert _found("甲乙") == set()


def test_search_text_follows_edits_to_sections_tags_and_the_paper():
    entry = _entry(limitations="- 原来的说法。")
    assert _found("幻觉") == set()
    section = entry.sections.get()
    section.body = "- 模型存在幻觉问题。"
    section.save()
    assert _found("幻觉") == {entry.pk}
    section.delete()
    assert _found("幻觉") == set()
    entry.tags.add("强化学习")
    assert _found("强化学习") == {entry.pk}
    entry.tags.remove("强化学习")
    assert _found("强化学习") == set()
    paper = entry.paper
    paper.title = "Kolmogorov Complexity"
    paper.save()
    assert _found("kolmogorov") == {entry.pk}


def test_search_text_follows_a_tag_deleted_or_untagged_and_a_cross_list_renamed():
    """Deleting a tag (its through rows go by cascade, without taggit's signals), by itself
    or in a queryset, deleting a through row by itself, and renaming a category an entry is
    only cross-listed in, each reach the search rows."""
    from taggit.models import Tag

    from papers.models import TaggedEntry

    first = _entry(tags=["量子纠缠", "光子芯片"])
    second = _entry(tags=["量子纠缠", "拓扑绝缘"])
    assert _found("量子纠缠") == {first.pk, second.pk}
    Tag.objects.get(name="量子纠缠").delete()
    assert _found("量子纠缠") == set()
    assert "量子纠缠" not in EntrySearch.objects.get(entry=first).body_terms.replace(" ", "")
    TaggedEntry.objects.filter(tag__name="光子芯片").delete()
    assert _found("光子芯片") == set()
    Tag.objects.filter(name="拓扑绝缘").delete()  # a queryset's delete: the same signals
    assert _found("拓扑绝缘") == set()
    cross = factories.category("cs.ZZ", "Zeta")
    first.paper.categories.add(cross)
    assert _found("zz") == {first.pk}
    cross.code = "cs.QQ"
    cross.save()
    assert _found("zz") == set()
    assert _found("qq") == {first.pk}


def test_rebuild_command_restores_missing_search_rows():
    from django.core.management import call_command

    entry = _entry(limitations="- 需要重建的索引文字。")
    EntrySearch.objects.all().delete()
    assert _found("重建") == set()
    call_command("rebuild_search", verbosity=0)
    assert _found("重建") == {entry.pk}


def test_snippets_highlight_matches_and_escape_html():
    terms = search.parse_query("推理 <b>")
    pieces = search.snippet("前文" * 80 + "关于推理的<b>讨论</b>" + "后文" * 80, terms)
    html = render_to_string("includes/_highlighted.html", {"pieces": pieces})
    assert "<mark>推理</mark>" in html
    assert "<mark>b</mark>" in html  # a Latin word matches inside the text, escaped around
    assert "&lt;" in html and "<b>" not in html
    assert html.startswith("…") and html.endswith("…")


def test_queries_without_any_word_change_nothing():
    entry = _entry()
    queryset, terms = search.apply_search(Entry.objects.published(), " ,,, ")
    assert terms == [] and entry in queryset


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only")
def test_postgres_search_uses_the_gin_index():
    _entry(limitations="- 推理。")
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        cursor.execute(
            "EXPLAIN SELECT entry_id FROM papers_entrysearch "
            "WHERE search_vector @@ to_tsquery('simple', %s)",
            ["'推理'"],
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("SET enable_seqscan = on")
    assert "papers_entrysearch_vector_gin" in plan


def test_deleting_an_entry_leaves_no_search_row_behind():
    digest = factories.digest(entries=2)
    doomed = digest.entries.get(position=1)
    doomed_pk = doomed.pk
    doomed.delete()
    assert not EntrySearch.objects.filter(entry_id=doomed_pk).exists()
    digest.delete()
    assert not EntrySearch.objects.exists()


def test_tags_and_categories_refresh_their_entries_only_when_searched_text_changes(
    monkeypatch,
):
    """A save that changes nothing searched (the admin saves unchanged rows; a Chinese
    name) refreshes nothing; a rename refreshes every entry, in chunks, as does a new slug
    (the facet links name it)."""
    from taggit.models import Tag

    from reading import signals as reading

    entries = [_entry(tags=["强化学习"]) for _ in range(3)]
    category = entries[0].paper.primary_category
    calls = []
    real = reading._refresh
    monkeypatch.setattr(reading, "_REFRESH_CHUNK", 2)
    monkeypatch.setattr(reading, "_refresh", lambda ids: calls.append(list(ids)) or real(ids))
    tag = Tag.objects.get(name="强化学习")
    tag.save()
    category.name_zh = "机器学习（新）"
    category.save()
    assert calls == []
    tag.name = "增强学习"
    tag.save()
    assert sorted(len(chunk) for chunk in calls) == [1, 2]  # three entries, chunks of two
    assert _found("增强学习") == {e.pk for e in entries} and _found("强化学习") == set()
    calls.clear()
    category.name = "Learning Machines"
    category.save()
    assert sum(len(chunk) for chunk in calls) == 3
    assert _found("machines") == {e.pk for e in entries}
    calls.clear()
    tag.slug = "rl"
    tag.save()
    assert sum(len(chunk) for chunk in calls) == 3
    names = EntrySearch.objects.filter(entry__in=entries).values_list("facet_names", flat=True)
    assert all("\trl\t增强学习" in text for text in names)
