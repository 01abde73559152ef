"""Reading: the derived search row of each entry (and entry view counts).

On PostgreSQL the search row also gets a stored, generated tsvector column over its two term
texts (title terms weight A, body terms B, config ``simple``: no stemming, so Chinese bigrams
and Latin words are kept as they are) with a GIN index, and a small generated tsvector of the
title terms alone, used for ranking. Django never writes that column,
so the model does not declare it; on SQLite these statements are skipped and search uses
substring matching (papers/search.py).
"""

from collections import defaultdict

import django.db.models.deletion
from django.db import migrations, models

POSTGRES_FORWARD = [
    """
    ALTER TABLE papers_entrysearch ADD COLUMN search_vector tsvector
    GENERATED ALWAYS AS (
        setweight(to_tsvector('simple', title_terms), 'A')
        || setweight(to_tsvector('simple', body_terms), 'B')
    ) STORED
    """,
    "CREATE INDEX papers_entrysearch_vector_gin ON papers_entrysearch USING gin (search_vector)",
    # The title terms alone, small enough to stay inline: ranking "title or summary matches"
    # above "body matches" reads this instead of detoasting every matching search_vector.
    """
    ALTER TABLE papers_entrysearch ADD COLUMN title_vector tsvector
    GENERATED ALWAYS AS (to_tsvector('simple', title_terms)) STORED
    """,
    # Tags and categories as terms (t12, c7): tag and category filters, alone or with words,
    # become one GIN lookup instead of semi-joins over the tag and paper tables.
    """
    ALTER TABLE papers_entrysearch ADD COLUMN facet_vector tsvector
    GENERATED ALWAYS AS (to_tsvector('simple', facets)) STORED
    """,
    "CREATE INDEX papers_entrysearch_facet_gin ON papers_entrysearch USING gin (facet_vector)",
]
POSTGRES_BACKWARD = [
    "DROP INDEX IF EXISTS papers_entrysearch_facet_gin",
    "ALTER TABLE papers_entrysearch DROP COLUMN IF EXISTS facet_vector",
    "ALTER TABLE papers_entrysearch DROP COLUMN IF EXISTS title_vector",
    "DROP INDEX IF EXISTS papers_entrysearch_vector_gin",
    "ALTER TABLE papers_entrysearch DROP COLUMN IF EXISTS search_vector",
]


def postgres_forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in POSTGRES_FORWARD:
            schema_editor.execute(statement)


def postgres_backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in POSTGRES_BACKWARD:
            schema_editor.execute(statement)


def build_search_rows(apps, schema_editor):
    """Search rows for the entries that exist already (idempotent: replaces rows)."""
    from reading.search import document_for, facet_token

    Entry = apps.get_model("papers", "Entry")
    EntrySearch = apps.get_model("papers", "EntrySearch")
    Section = apps.get_model("papers", "Section")
    TaggedEntry = apps.get_model("papers", "TaggedEntry")
    sections = defaultdict(list)
    for section in Section.objects.select_related("kind").order_by("kind__order", "kind_id"):
        sections[section.entry_id].append((section.kind.slug, section.kind.name_zh, section.body))
    tags = defaultdict(list)
    facets = defaultdict(list)
    for object_id, tag_id, name in TaggedEntry.objects.values_list(
        "content_object_id", "tag_id", "tag__name"
    ):
        tags[object_id].append(name)
        facets[object_id].append(facet_token("t", tag_id))
    for entry in Entry.objects.select_related("paper__primary_category").iterator():
        paper = entry.paper
        categories = [paper.primary_category.code, paper.primary_category.name]
        cross = list(paper.categories.values_list("pk", "code"))
        categories += [code for _pk, code in cross]
        entry_facets = facets[entry.pk] + [facet_token("c", paper.primary_category_id)]
        entry_facets += [facet_token("c", pk) for pk, _code in cross]
        document = document_for(
            paper=paper,
            title_zh=entry.title_zh,
            sections=sections[entry.pk],
            tag_names=tags[entry.pk],
            categories=categories,
            facets=entry_facets,
        )
        EntrySearch.objects.update_or_create(entry_id=entry.pk, defaults=document)


class Migration(migrations.Migration):

    dependencies = [
        ('papers', '0002_seed_reference_data'),
    ]

    operations = [
        migrations.CreateModel(
            name='EntrySearch',
            fields=[
                ('entry', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='search', serialize=False, to='papers.entry')),
                ('title_terms', models.TextField(blank=True)),
                ('body_terms', models.TextField(blank=True)),
                ('summary', models.TextField(blank=True, help_text='The one-line summary as plain text (lists, descriptions).')),
                ('plain', models.TextField(blank=True, help_text='Plain critique and abstract, for snippets.')),
                ('facets', models.TextField(blank=True, help_text='Facet terms: t<id> per tag, c<id> per category (primary, cross).')),
            ],
            options={
                'verbose_name': 'entry search text',
                'verbose_name_plural': 'entry search texts',
            },
        ),
        migrations.AddField(
            model_name='entry',
            name='view_count',
            field=models.PositiveIntegerField(default=0, editable=False, verbose_name='views'),
        ),
        migrations.RunPython(postgres_forward, postgres_backward, elidable=False),
        migrations.RunPython(build_search_rows, migrations.RunPython.noop),
    ]
