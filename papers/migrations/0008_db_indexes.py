"""Indexes for every filter and order of the public pages and the back office, checked
with EXPLAIN on PostgreSQL at 100,000 papers (docs/architecture.md, "Database indexes").

The model indexes work on both databases. On PostgreSQL only, the admin's search boxes
(Django's ``icontains``: ``UPPER(col) LIKE UPPER('%term%')``) and the reading lists'
affiliation and author filters get trigram GIN indexes on exactly that expression
(extension pg_trgm, trusted since PostgreSQL 13: the database owner may create it);
SQLite skips them.
"""

from django.conf import settings
from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations, models

# (table, index name, expression) for UPPER(...) LIKE UPPER('%...%') lookups.
TRIGRAM_INDEXES = [
    ("papers_paper", "paper_arxiv_id_trgm", 'UPPER("arxiv_id"::text)'),
    ("papers_paper", "paper_title_trgm", 'UPPER("title"::text)'),
    ("papers_paper", "paper_authors_trgm", 'UPPER("authors"::text)'),
    ("papers_paper", "paper_affiliations_trgm", 'UPPER("affiliations"::text)'),
    ("papers_digest", "digest_title_trgm", 'UPPER("title"::text)'),
    ("papers_digest", "digest_slug_trgm", 'UPPER("slug"::text)'),
    ("papers_digest", "digest_summary_trgm", 'UPPER("summary"::text)'),
    ("papers_entry", "entry_title_zh_trgm", 'UPPER("title_zh"::text)'),
    ("papers_comment", "comment_body_trgm", 'UPPER("body"::text)'),
    ("papers_comment", "comment_author_name_trgm", 'UPPER("author_name"::text)'),
    ("papers_comment", "comment_email_trgm", 'UPPER("email"::text)'),
    ("papers_comment", "comment_ip_trgm", 'UPPER(HOST("ip_address"))'),
]


def trigram_forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, name, expression in TRIGRAM_INDEXES:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin (({expression}) gin_trgm_ops)"
        )


def trigram_backward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for _table, name, _expression in TRIGRAM_INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):

    dependencies = [
        ('papers', '0007_merge_reading'),
        ('taggit', '0006_rename_taggeditem_content_type_object_id_taggit_tagg_content_8fc721_idx'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        TrigramExtension(),
        migrations.RunPython(trigram_forward, trigram_backward),
        migrations.AddIndex(
            model_name='comment',
            index=models.Index(models.Case(models.When(status='pending', then=models.Value(0)), default=models.Value(1), output_field=models.IntegerField()), models.OrderBy(models.F('created_at'), descending=True), models.OrderBy(models.F('id'), descending=True), name='comment_queue_order_idx'),
        ),
        migrations.AddIndex(
            model_name='comment',
            index=models.Index(models.F('status'), models.Case(models.When(status='pending', then=models.Value(0)), default=models.Value(1), output_field=models.IntegerField()), models.OrderBy(models.F('created_at'), descending=True), models.OrderBy(models.F('id'), descending=True), name='comment_status_order_idx'),
        ),
        migrations.AddIndex(
            model_name='comment',
            index=models.Index(fields=['status', 'moderated_at'], name='comment_moderated_idx'),
        ),
        migrations.AddIndex(
            model_name='comment',
            index=models.Index(condition=models.Q(('is_pinned', True)), fields=['created_at'], name='comment_pinned_idx'),
        ),
        migrations.AddIndex(
            model_name='digest',
            index=models.Index(fields=['issue_date', 'id'], name='digest_date_id_idx'),
        ),
        migrations.AddIndex(
            model_name='digest',
            index=models.Index(condition=models.Q(('status', 'published')), fields=['issue_date', 'published_at', 'id', 'expires_at'], name='digest_listed_order_idx'),
        ),
        migrations.AddIndex(
            model_name='digest',
            index=models.Index(condition=models.Q(('status__in', ['published', 'archived'])), fields=['published_at'], name='digest_readable_live_idx'),
        ),
        migrations.AddIndex(
            model_name='digest',
            index=models.Index(condition=models.Q(('expires_at__isnull', False)), fields=['expires_at'], name='digest_expiry_idx'),
        ),
        migrations.AddIndex(
            model_name='paper',
            index=models.Index(fields=['-published_on', 'arxiv_id'], name='paper_newest_idx'),
        ),
        migrations.AddIndex(
            model_name='paper',
            index=models.Index(fields=['title'], name='paper_title_idx'),
        ),
        migrations.AddIndex(
            model_name='paper',
            index=models.Index(fields=['primary_category', '-published_on', 'arxiv_id'], name='paper_category_newest_idx'),
        ),
        migrations.AddIndex(
            model_name='section',
            index=models.Index(fields=['kind', 'entry'], name='section_kind_entry_idx'),
        ),
    ]
