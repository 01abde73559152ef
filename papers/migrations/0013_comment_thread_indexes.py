"""Comment threads read in their order from one index (digest or entry, status, created_at):
without statistics SQLite walked every approved comment in the queue index's order instead."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('papers', '0012_sort_index_covers_state'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='comment',
            name='comment_digest_status_idx',
        ),
        migrations.RemoveIndex(
            model_name='comment',
            name='comment_entry_status_idx',
        ),
        migrations.AddIndex(
            model_name='comment',
            index=models.Index(fields=['digest', 'status', 'created_at'], name='comment_digest_thread_idx'),
        ),
        migrations.AddIndex(
            model_name='comment',
            index=models.Index(fields=['entry', 'status', 'created_at'], name='comment_entry_thread_idx'),
        ),
    ]
