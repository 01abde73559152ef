"""Whole-site export and import: all content in one zip archive, restorable into an empty
database (``manage.py export_site`` / ``import_site``; docs/operations.md).

Generic on purpose: every model of the ``papers`` app is included, in dependency order, so
models added later (revisions, comments, ...) are backed up without touching this module.
Around them: auth groups and users (password hashes only when asked), taggit's tags, and
the files of every FileField. References to permissions and content types are written as
natural keys, so the archive does not depend on the ids a database happened to give them.

The archive::

    manifest.json           format, version, time, the model files in load order, counts
    data/NN-app.model.json  one Django-serialised JSON array per model, in load order
    media/<name>            every stored file a FileField refers to, under its stored name

Times are written to the microsecond (``ExactJSONEncoder``), so a restored site has the same
``updated_at`` and so the same feeds, ETags and Last-Modified. Archives of older versions,
whose times Django's encoder cut to milliseconds, import as they are: the reader takes both.
"""

from __future__ import annotations

import datetime
import io
import json
import logging
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core import serializers
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.core.management.color import no_style
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction
from django.utils import timezone

from papers.changes import content_changed
from reading.search import sync_entry_state

logger = logging.getLogger(__name__)

FORMAT = "paper-digest-site"
VERSION = 1
# The apps whose models make the site's content, and models of other apps that belong to it.
CONTENT_APPS = ["papers", "comments", "reading", "editorial"]
# Archives made before the comment, reading and editorial models had apps of their own name
# them (and their permissions) with the papers app's label.
LEGACY_LABELS = {
    **{
        f"papers.{m}": f"comments.{m}"
        for m in (
            "comment",
            "commentflag",
            "blockedterm",
            "commentclosure",
            "moderationrecord",
            "droppedsubmissioncount",
        )
    },
    **{f"papers.{m}": "reading.entrysearch" for m in ("entrysearch",)},
    **{
        f"papers.{m}": f"editorial.{m}"
        for m in ("auditrecord", "revision", "sharelink", "editpresence")
    },
}
# Models outside the content apps that belong to the content. Append here, e.g. a third-party
# app another area adds (its models need natural keys or plain foreign keys).
EXTRA_MODELS = ["auth.Group", "auth.User", "taggit.Tag", "taggit.TaggedItem"]
# A database that holds any row of these is not empty: import_site refuses to merge into it.
CONTENT_MODELS = ["papers.Paper", "papers.Digest", "auth.User"]

# Called after each model is loaded (model label, rows); the fault check uses it to kill an
# import half-way (docs/operations.md).
after_model_loaded: list[Callable[[str, int], None]] = []


class ExactJSONEncoder(DjangoJSONEncoder):
    """Django's encoder, without its cut of times to milliseconds (the ECMA-262 format it
    follows for JavaScript): an archive keeps every time as the database holds it."""

    def default(self, o):
        if isinstance(o, datetime.datetime):
            text = o.isoformat()
            return text.removesuffix("+00:00") + "Z" if text.endswith("+00:00") else text
        if isinstance(o, datetime.time) and o.utcoffset() is None:
            return o.isoformat()
        return super().default(o)  # dates, aware times (an error), decimals, ...


class BackupError(Exception):
    """An archive that cannot be written or restored; the message says why."""


@dataclass
class ImportReport:
    counts: dict[str, int] = field(default_factory=dict)
    files: int = 0
    with_passwords: bool = False


def backup_models() -> list[type[models.Model]]:
    """Every model in the archive, in an order where each comes after what it refers to."""
    user_label = get_user_model()._meta.label
    labels = [user_label if label == "auth.User" else label for label in EXTRA_MODELS]
    extra: dict = {}
    for label in labels:
        try:
            model = apps.get_model(label)
        except LookupError:
            continue
        extra.setdefault(model._meta.app_config, []).append(model)
    candidates = [m for list_ in extra.values() for m in list_]
    for app_label in CONTENT_APPS:
        candidates += list(apps.get_app_config(app_label).get_models())
    return _dependency_order([m for m in candidates if m._meta.managed and not m._meta.proxy])


def _dependency_order(candidates: list[type[models.Model]]) -> list[type[models.Model]]:
    """Each model after the models its foreign keys (and plain many-to-many fields) point to,
    otherwise in the given order. A cycle, which needs nullable keys anyway, keeps the given
    order for its members (the database checks keys at commit)."""
    included = set(candidates)

    def needs(model) -> set:
        targets = {
            f.related_model
            for f in model._meta.concrete_fields
            if f.is_relation and f.related_model in included
        }
        targets |= {
            f.related_model
            for f in model._meta.many_to_many
            if f.remote_field.through._meta.auto_created and f.related_model in included
        }
        targets.discard(model)
        return targets

    pending = {model: needs(model) for model in candidates}
    ordered: list[type[models.Model]] = []
    while pending:
        ready = [m for m in candidates if m in pending and not (pending[m] - set(ordered))]
        if not ready:  # a cycle: take the first remaining model as it is
            ready = [next(m for m in candidates if m in pending)]
        for model in ready[:1]:
            ordered.append(model)
            del pending[model]
    return ordered


def _file_fields(model) -> list[models.FileField]:
    return [f for f in model._meta.concrete_fields if isinstance(f, models.FileField)]


def _rows(model, *, with_passwords: bool) -> Iterable[models.Model]:
    queryset = model._base_manager.order_by("pk")
    if model is get_user_model() and not with_passwords:
        for user in queryset.iterator(chunk_size=500):
            user.password = "!"  # unusable: the restored account sets a new password
            yield user
        return
    yield from queryset.iterator(chunk_size=500)


def export_site(path: str | Path, *, with_passwords: bool = False) -> dict[str, int]:
    """Write the whole site to a zip archive at ``path``; returns the row count per model."""
    path = Path(path)
    counts: dict[str, int] = {}
    files_written: set[str] = set()
    order: list[str] = []
    tmp = path.with_name(path.name + ".partial")
    if not path.parent.is_dir():
        raise BackupError(f"The folder {path.parent} does not exist.")
    # Readable by the owner only: the archive holds e-mail addresses (and maybe hashes).
    tmp.unlink(missing_ok=True)
    tmp.touch(mode=0o600)
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            # One snapshot for everything (REPEATABLE READ on PostgreSQL, when this is the
            # outermost transaction; SQLite's transactions are serialisable anyway).
            snapshot = connection.vendor == "postgresql" and not connection.in_atomic_block
            with transaction.atomic():
                if snapshot:
                    with connection.cursor() as cursor:
                        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                for index, model in enumerate(backup_models(), start=1):
                    label = model._meta.label_lower
                    name = f"data/{index:02d}-{label}.json"
                    rows = list(_rows(model, with_passwords=with_passwords))
                    with archive.open(name, "w") as raw, io.TextIOWrapper(raw, "utf-8") as out:
                        serializers.serialize(
                            "json",
                            rows,
                            stream=out,
                            use_natural_foreign_keys=True,
                            use_natural_primary_keys=False,
                            ensure_ascii=False,
                            cls=ExactJSONEncoder,
                        )
                    counts[label] = len(rows)
                    order.append(name)
                    for row in rows:
                        for file_field in _file_fields(model):
                            stored = getattr(row, file_field.attname)
                            if stored and stored.name not in files_written:
                                _copy_into(archive, stored)
                                files_written.add(stored.name)
            manifest = {
                "format": FORMAT,
                "version": VERSION,
                "created_at": timezone.now().isoformat(),
                "database": connection.vendor,
                "with_passwords": with_passwords,
                "models": order,
                "counts": counts,
                "files": len(files_written),
            }
            archive.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2))
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return counts


def _copy_into(archive: zipfile.ZipFile, stored) -> None:
    try:
        with stored.open("rb") as source, archive.open(f"media/{stored.name}", "w") as target:
            while chunk := source.read(1 << 20):
                target.write(chunk)
    except FileNotFoundError:
        logger.warning("export_site: file %s is missing from storage; skipped", stored.name)
    finally:
        stored.close()


def _read_manifest(archive: zipfile.ZipFile) -> dict:
    try:
        manifest = json.loads(archive.read("manifest.json"))
    except KeyError as exc:
        raise BackupError("This is not a site archive (no manifest.json).") from exc
    except ValueError as exc:
        raise BackupError("The archive's manifest.json is not valid JSON.") from exc
    if manifest.get("format") != FORMAT:
        raise BackupError("This is not a site archive made by export_site.")
    if manifest.get("version") != VERSION:
        raise BackupError(f"Archive version {manifest.get('version')} is not supported.")
    return manifest


def database_is_empty() -> bool:
    for label in CONTENT_MODELS:
        model = get_user_model() if label == "auth.User" else apps.get_model(label)
        if model._default_manager.exists():
            return False
    return True


def import_site(path: str | Path) -> ImportReport:
    """Restore an archive into an empty database, in one transaction: either everything is
    restored or nothing is (a failure or a killed process leaves the database as it was)."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"No archive at {path}.")
    if not zipfile.is_zipfile(path):
        raise BackupError(f"{path} is not a zip archive.")
    report = ImportReport()
    with zipfile.ZipFile(path) as archive:
        manifest = _read_manifest(archive)
        report.with_passwords = bool(manifest.get("with_passwords"))
        known = {m._meta.label_lower: m for m in backup_models()}
        with transaction.atomic():
            if not database_is_empty():
                raise BackupError(
                    "The database already has content (papers, digests or users): import_site "
                    "restores into an empty database only. Create a new database, run "
                    "`manage.py migrate`, then import."
                )
            legacy = any(_label_of(name) in LEGACY_LABELS for name in manifest["models"])
            loading = [_current(_label_of(name)) for name in manifest["models"]]
            unknown = [label for label in loading if label not in known]
            if unknown:
                raise BackupError(f"The archive has models this site does not know: {unknown}.")
            # Reference rows the migrations seeded (section kinds, categories, groups) are
            # replaced by the archive's, so edits made on the old site survive exactly.
            for label in reversed(loading):
                known[label]._base_manager.all().delete()
            deferred = []
            for name in manifest["models"]:
                label = _current(_label_of(name))
                rows = 0
                with archive.open(name) as stream:
                    for obj in _deserialize(stream, legacy=legacy):
                        obj.save()
                        if obj.deferred_fields:
                            deferred.append(obj)
                        rows += 1
                report.counts[label] = rows
                for hook in after_model_loaded:
                    hook(label, rows)
            for obj in deferred:
                obj.save_deferred_fields()
            # Rows are loaded raw (no signals): copy each entry's sort key and publication
            # state into its search row, which an archive from before they existed lacks.
            sync_entry_state()
            content_changed(names=True)
            _reset_sequences([known[label] for label in loading])
            report.files = _restore_files(archive)
    return report


def _current(label: str) -> str:
    return LEGACY_LABELS.get(label, label)


def _deserialize(stream, *, legacy: bool):
    """The objects of one model's file; an archive from before the apps' split has its
    model and permission labels translated first (read whole: such archives are small).
    Fields this release no longer has (cache counters of older ones) are left out."""
    if not legacy:
        return serializers.deserialize(
            "json", stream, handle_forward_references=True, ignorenonexistent=True
        )
    rows = json.load(stream)
    for row in rows:
        row["model"] = _current(row["model"])
        fields = row["fields"]
        for name in ("permissions", "user_permissions"):
            if name in fields:
                fields[name] = [_legacy_permission(key) for key in fields[name]]
    return serializers.deserialize(
        "python", rows, handle_forward_references=True, ignorenonexistent=True
    )


def _legacy_permission(key):
    if isinstance(key, list) and len(key) == 3:
        codename, app_label, model = key
        app_label = _current(f"{app_label}.{model}").split(".")[0]
        return [codename, app_label, model]
    return key


def _label_of(name: str) -> str:
    return name.rsplit("/", 1)[-1].split("-", 1)[1].removesuffix(".json")


def _reset_sequences(models_: list[type[models.Model]]) -> None:
    statements = connection.ops.sequence_reset_sql(no_style(), models_)
    if statements:
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)


def _restore_files(archive: zipfile.ZipFile) -> int:
    from django.core.files.storage import default_storage

    restored = 0
    for info in archive.infolist():
        if not info.filename.startswith("media/") or info.is_dir():
            continue
        name = info.filename.removeprefix("media/")
        if name.startswith("/") or ".." in Path(name).parts:
            raise BackupError(f"Refusing a file outside the media directory: {name!r}.")
        if default_storage.exists(name):
            default_storage.delete(name)
        saved = default_storage.save(name, ContentFile(archive.read(info)))
        if saved != name:
            raise ImproperlyConfigured(f"Storage renamed {name} to {saved}.")
        restored += 1
    return restored
