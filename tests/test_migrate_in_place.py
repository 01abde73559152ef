"""A database made before the app split, and an export_site archive made then, still work.

The fixtures in tests/samples/main-6e51148/ were made by the code of commit 6e51148, the
last one with a single ``papers`` app (its README says how). The split moves models into
the apps ``comments``, ``reading`` and ``editorial`` without touching their tables: only
Django's state and ``django_content_type.app_label`` change. These tests run this checkout's
``manage.py`` in a child process, on a copy of the fixture in a scratch database of the
backend under test (an SQLite file, or a new PostgreSQL database on the same server), never
on pytest-django's test database.
"""

import collections
import datetime
import decimal
import gzip
import ipaddress
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import uuid
import zipfile
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "tests" / "samples" / "main-6e51148"

# Where each moved model lives after the split (model name -> app label); every other
# content type keeps its app label.
MOVED = {
    **dict.fromkeys(
        [
            "comment",
            "commentflag",
            "blockedterm",
            "commentclosure",
            "moderationrecord",
            "droppedsubmissioncount",
        ],
        "comments",
    ),
    **dict.fromkeys(["entrysearch", "entryfacets"], "reading"),
    **dict.fromkeys(["auditrecord", "revision", "sharelink", "editpresence"], "editorial"),
}
# Columns the new code may drop on purpose, derived values rather than content (table ->
# columns), with their indexes and constraints: papers/migrations/0015_drop_cache_counters.py
# drops the two cache counters.
DROPPED_COLUMNS = {"papers_digest": {"tags_version"}, "papers_entry": {"block_version"}}
# Columns later releases add to old tables (table -> columns): comments 0002's "tell me". The
# old rows are compared without them (SQLite rebuilds the table, so the order may change too).
ADDED_COLUMNS = {
    "papers_comment": {"notify"},
    # Issue 18: code and project links; issue 21: the digest's "…" kept on a paper, the
    # footer as Markdown with an image; issue 18: the source link of an item not on arXiv.
    "papers_paper": {"code_url", "project_url", "authors_shortened", "source_url"},
    "papers_digest": {"working_copy_of_id"},  # issue 17: a working copy's live digest
    "papers_revision": {"saved_at", "saves"},  # issue 17: autosaves merged into a revision
    "papers_sitesettings": {
        "footer_html",
        "footer_image",
        "footer_image_alt",
        "footer_image_height",
        "footer_image_width",
    },
    # reading 0003: the facet names of each search row (and their PostgreSQL copy).
    "papers_entrysearch": {"facet_names"},
    "papers_entryfacets": {"facet_names"},
}
# Derived columns a migration rebuilds from the content (table -> columns), compared apart:
# reading 0003 moves the one-line summary from the title terms to the body terms.
# On PostgreSQL, with the vectors generated from them.
REBUILT_COLUMNS = {
    "papers_entrysearch": {"title_terms", "body_terms", "search_vector", "title_vector"}
}
# SQLite's FTS5 table of those terms and its index, rewritten with them (its size is
# checked below).
REBUILT_TABLES = {"papers_entrysearch_fts"} | {
    f"papers_entrysearch_fts_{part}" for part in ("data", "idx", "docsize")
}
# Tables where migrate may add rows but must keep every old one: the migration records, and
# content types and permissions of new models (check_content_types says which may be new).
GROWING_TABLES = {"django_migrations", "django_content_type", "auth_permission"}
# Permissions later releases grant existing groups (subscriptions 0002: editors see the
# subscribers and send reports, export the list, erase an address; readership 0002: the
# analytics), so their table grows too.
GRANTED_SINCE = {
    "Editor": {
        ("subscriptions", model, f"{action}_{model}")
        for model, actions in {
            "subscriber": ("view", "delete"),
            "mailing": ("view",),
            "delivery": ("view",),
            "subscriptionrecord": ("view",),
        }.items()
        for action in actions
    }
    # readership 0002: editors see the analytics page.
    | {("readership", "digestday", "view_analytics")}
}
GROWING_TABLES |= {"auth_group_permissions"}
# Their sequences (rows of SQLite's sqlite_sequence, PostgreSQL's sequences) may move on.
GROWING_SEQUENCES = GROWING_TABLES | {f"{table}_id_seq" for table in GROWING_TABLES}
# Environment the child must not inherit: it gets its own database, files and settings.
CHILD_ENV_DROPPED = (
    "DJANGO_SETTINGS_MODULE",
    "DATABASE_URL",
    "REDIS_URL",
    "MEDIA_STORAGE",
    "MEDIA_ROOT",
    "STATIC_ROOT",
    "VAR_DIR",
)

PERMISSIONS_SCRIPT = """
import json, os
from django.contrib.auth import get_user_model
wanted = json.loads(os.environ["CHECK_PERMISSIONS"])
users = get_user_model().objects.in_bulk(list(wanted), field_name="username")
print("PERMISSIONS " + json.dumps(
    {name: {perm: users[name].has_perm(perm) for perm in perms} for name, perms in wanted.items()}
))
"""
GROUP_PERMISSIONS_SQL = """
SELECT g.name, ct.app_label, ct.model, p.codename
FROM auth_group_permissions gp
JOIN auth_group g ON g.id = gp.group_id
JOIN auth_permission p ON p.id = gp.permission_id
JOIN django_content_type ct ON ct.id = p.content_type_id
"""
USER_PERMISSIONS_SQL = """
SELECT u.username, ct.app_label, ct.model, p.codename
FROM auth_user_user_permissions up
JOIN auth_user u ON u.id = up.user_id
JOIN auth_permission p ON p.id = up.permission_id
JOIN django_content_type ct ON ct.id = p.content_type_id
"""
MEMBERS_SQL = """
SELECT g.name, u.username
FROM auth_user_groups ug
JOIN auth_group g ON g.id = ug.group_id
JOIN auth_user u ON u.id = ug.user_id
WHERE u.is_active AND NOT u.is_superuser
"""


# --- values ------------------------------------------------------------------------------


def normal(value):
    """A column value as a plain Python value, whichever driver read it: psycopg's datetimes
    become the UTC text Django stores in SQLite, booleans 0/1, JSON sorted text, inet str."""
    if value is None or isinstance(value, int | float | str):
        return int(value) if isinstance(value, bool) else value
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(datetime.UTC).replace(tzinfo=None)
        return value.isoformat(sep=" ", timespec="microseconds")
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return "0x" + bytes(value).hex()
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    if isinstance(value, uuid.UUID):
        return value.hex
    if isinstance(value, decimal.Decimal | datetime.timedelta):
        return str(value)
    if isinstance(value, ipaddress.IPv4Address | ipaddress.IPv6Address):
        return str(value)
    return repr(value)


def sort_key(row):
    return tuple(
        (0, 0) if v is None else (1, v) if isinstance(v, int | float) else (2, str(v)) for v in row
    )


def ordered(rows) -> list[tuple]:
    """Rows normalised and sorted by all their columns: equal lists are equal tables."""
    return sorted((tuple(normal(v) for v in row) for row in rows), key=sort_key)


def difference(before: list[tuple], after: list[tuple], limit: int = 5) -> str:
    lost = list((collections.Counter(before) - collections.Counter(after)).elements())
    new = list((collections.Counter(after) - collections.Counter(before)).elements())
    return f"lost {len(lost)}: {lost[:limit]}; new {len(new)}: {new[:limit]}"


# --- scratch databases -------------------------------------------------------------------


class SqliteScratch:
    def __init__(self, path: Path):
        self.path = path
        self.url = f"sqlite:///{path}"

    def query(self, sql: str) -> list[tuple]:
        db = sqlite3.connect(self.path)
        try:
            return db.execute(sql).fetchall()
        finally:
            db.close()

    def table_names(self) -> set[str]:
        return {n for (n,) in self.query("SELECT name FROM sqlite_master WHERE type = 'table'")}

    def tables(self) -> dict[str, tuple[list[str], list[tuple]]]:
        """Every table (FTS shadow tables and sqlite_sequence too): its columns and rows."""
        db = sqlite3.connect(self.path)
        try:
            snapshot = {}
            for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
                cursor = db.execute(f'SELECT * FROM "{name}"')
                snapshot[name] = ([c[0] for c in cursor.description], ordered(cursor.fetchall()))
            return snapshot
        finally:
            db.close()

    def schema_objects(self) -> set[tuple]:
        """Indexes, triggers and views by name (SQLite's automatic indexes left out)."""
        return set(
            self.query(
                "SELECT type, name, tbl_name FROM sqlite_master "
                "WHERE type IN ('index', 'trigger', 'view') AND sql IS NOT NULL"
            )
        )


class PostgresScratch:
    def __init__(self, name: str, settings: dict):
        self.name = name
        self.settings = settings
        auth = quote(settings["USER"] or "", safe="")
        if settings["PASSWORD"]:
            auth += ":" + quote(settings["PASSWORD"], safe="")
        host = quote(settings["HOST"] or "localhost", safe="")
        self.url = f"postgres://{auth}@{host}:{settings['PORT'] or 5432}/{name}"

    def conninfo(self, dbname: str = "") -> str:
        from psycopg.conninfo import make_conninfo

        s = self.settings
        params = {"host": s["HOST"], "port": s["PORT"], "user": s["USER"]}
        params["password"] = s["PASSWORD"]
        params = {key: value for key, value in params.items() if value}
        return make_conninfo(dbname=dbname or self.name, **params)

    def query(self, sql: str) -> list[tuple]:
        import psycopg

        with psycopg.connect(self.conninfo()) as db:
            return db.execute(sql).fetchall()

    def table_names(self) -> set[str]:
        return {
            n
            for (n,) in self.query(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = current_schema()"
            )
        }

    def tables(self) -> dict[str, tuple[list[str], list[tuple]]]:
        """Every table, and the sequences as one more (``pg_sequences``: name, last value)."""
        import psycopg

        with psycopg.connect(self.conninfo()) as db:
            names = db.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
            ).fetchall()
            snapshot = {}
            for (name,) in names:
                cursor = db.execute(f'SELECT * FROM "{name}"')
                snapshot[name] = ([c.name for c in cursor.description], ordered(cursor.fetchall()))
            cursor = db.execute(
                "SELECT sequencename, last_value FROM pg_sequences "
                "WHERE schemaname = current_schema()"
            )
            snapshot["pg_sequences"] = (["name", "last_value"], ordered(cursor.fetchall()))
            return snapshot

    def schema_objects(self) -> set[tuple]:
        """Indexes, triggers, constraints and functions by name."""
        return set(
            self.query(
                "SELECT 'index', indexname, tablename FROM pg_indexes "
                "WHERE schemaname = current_schema() "
                "UNION SELECT 'trigger', tgname, tgrelid::regclass::text FROM pg_trigger "
                "WHERE NOT tgisinternal "
                "UNION SELECT 'constraint', conname, conrelid::regclass::text FROM pg_constraint c "
                "JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = current_schema() "
                "UNION SELECT 'function', proname, '' FROM pg_proc p "
                "JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = current_schema()"
            )
        )


@pytest.fixture
def scratch(tmp_path):
    """Makes scratch databases of the backend under test: ``scratch("fixture")`` holds a
    copy of the database commit 6e51148 made, ``scratch("empty")`` nothing at all. The
    PostgreSQL ones are dropped afterwards (the SQLite files are in tmp_path)."""
    made: list[PostgresScratch] = []

    def make(kind: str):
        if connection.vendor != "postgresql":
            path = tmp_path / f"{kind}.sqlite3"
            if kind == "fixture":
                with gzip.open(SAMPLES / "site.sqlite3.gz") as src, path.open("wb") as out:
                    shutil.copyfileobj(src, out)
            return SqliteScratch(path)
        import psycopg

        name = f"migrate_in_place_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        db = PostgresScratch(name, connection.settings_dict)
        with psycopg.connect(db.conninfo("postgres"), autocommit=True) as server:
            server.execute(f'CREATE DATABASE "{db.name}"')
        made.append(db)
        if kind == "fixture":
            restore = subprocess.run(
                ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", db.conninfo()],
                input=gzip.decompress((SAMPLES / "site.pg.sql.gz").read_bytes()),
                capture_output=True,
                env=dict(os.environ, PGOPTIONS="-c client_min_messages=warning"),
                timeout=120,
            )
            assert restore.returncode == 0, restore.stderr.decode()[-3000:]
        return db

    yield make
    if made:
        import psycopg

        with psycopg.connect(made[0].conninfo("postgres"), autocommit=True) as server:
            for db in made:
                server.execute(f'DROP DATABASE IF EXISTS "{db.name}" WITH (FORCE)')


def manage(*args: str, db, var_dir: Path, extra_env=None) -> str:
    """Run this checkout's ``manage.py`` on ``db`` in a child process; return its output."""
    env = {k: v for k, v in os.environ.items() if k not in CHILD_ENV_DROPPED}
    env.update(
        DEBUG="1",
        DJANGO_SETTINGS_MODULE="digestsite.settings",
        DATABASE_URL=db.url,
        VAR_DIR=str(var_dir),
        **(extra_env or {}),
    )
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, (
        f"manage.py {' '.join(args)} failed ({result.returncode}):\n"
        f"{result.stdout[-3000:]}\n{result.stderr[-5000:]}"
    )
    return result.stdout


def refused_permissions(wanted: dict[str, set[str]], *, db, var_dir: Path) -> dict:
    """The permissions of ``wanted`` (username -> "app.codename") that ``user.has_perm``
    refuses, asked of a child process on ``db``."""
    output = manage(
        "shell",
        "-v",
        "0",
        "-c",
        PERMISSIONS_SCRIPT,
        db=db,
        var_dir=var_dir,
        extra_env={"CHECK_PERMISSIONS": json.dumps({u: sorted(p) for u, p in wanted.items()})},
    )
    line = next(line for line in output.splitlines() if line.startswith("PERMISSIONS "))
    answers = json.loads(line.removeprefix("PERMISSIONS "))
    assert answers.keys() == wanted.keys()
    refused = {
        user: sorted(p for p, ok in perms.items() if not ok) for user, perms in answers.items()
    }
    return {user: perms for user, perms in refused.items() if perms}


def label_after_split(app_label: str, model: str) -> str:
    return MOVED.get(model, app_label) if app_label == "papers" else app_label


def after_split(perms) -> set[tuple[str, str, str]]:
    """(app label, model, codename) triples as they read after the split."""
    return {(label_after_split(app, model), model, codename) for app, model, codename in perms}


def dotted(perms) -> set[str]:
    return {f"{app}.{codename}" for app, _model, codename in perms}


def permissions_by_holder(db, sql: str) -> dict[str, set[tuple[str, str, str]]]:
    held = collections.defaultdict(set)
    for holder, app_label, model, codename in db.query(sql):
        held[holder].add((app_label, model, codename))
    return dict(held)


# --- the database, migrated in place ------------------------------------------------------


def _without(columns, rows, names):
    """``columns`` and ``rows`` without the columns ``names``."""
    kept = [i for i, c in enumerate(columns) if c not in names]
    return [columns[i] for i in kept], ordered(tuple(row[i] for i in kept) for row in rows)


def check_rows_kept(before: dict, after: dict) -> None:
    """Every table of ``before`` is in ``after`` with the same rows (less the columns the
    new code may drop); the tables that may grow keep every row they had."""
    lost = sorted(set(before) - set(after))
    assert not lost, f"tables lost by the migration: {lost}"
    for table, (columns, rows) in before.items():
        if table in REBUILT_TABLES:
            continue
        columns_after, rows_after = after[table]
        rebuilt = REBUILT_COLUMNS.get(table, set())
        if rebuilt:
            columns, rows = _without(columns, rows, rebuilt)
            columns_after, rows_after = _without(columns_after, rows_after, rebuilt)
        kept = [c for c in columns if c in columns_after or c not in DROPPED_COLUMNS.get(table, ())]
        added = ADDED_COLUMNS.get(table, set())
        if added:
            assert added <= set(columns_after), f"{table}: {added} not added"
            rows_after = ordered(
                tuple(row[columns_after.index(c)] for c in kept if c in columns_after)
                for row in rows_after
            )
            columns_after = [c for c in kept if c in columns_after]
        assert columns_after == kept, f"{table}: columns {columns} became {columns_after}"
        if kept != columns:
            rows = ordered(tuple(row[columns.index(c)] for c in kept) for row in rows)
        if table in ("sqlite_sequence", "pg_sequences"):
            old, new = dict(rows), dict(rows_after)
            for name in GROWING_SEQUENCES & old.keys():
                assert (new.pop(name) or 0) >= (old.pop(name) or 0), f"{table}: {name} went back"
            # The sequences of tables new apps created (none of them existed before).
            new = {name: n for name, n in new.items() if name.removesuffix("_id_seq") in before}
            assert new == old, f"{table}: {difference(sorted(old.items()), sorted(new.items()))}"
        elif table == "django_content_type":
            continue  # its app labels change: check_content_types
        elif table in GROWING_TABLES:
            gone = collections.Counter(rows) - collections.Counter(rows_after)
            assert not gone, f"{table}: rows lost: {sorted(gone.elements())[:10]}"
        else:
            assert rows_after == rows, f"{table}: {difference(rows, rows_after)}"


def check_content_types(before: dict, after: dict) -> None:
    """The content types keep their ids, the moved models' under their new app label; a new
    row is only for a model that had none (never a second row for a moved model), and new
    permissions only for new content types."""

    def content_types(snapshot):
        columns, rows = snapshot["django_content_type"]
        id_, app, model = (columns.index(c) for c in ("id", "app_label", "model"))
        return {row[id_]: (row[app], row[model]) for row in rows}

    expected = {
        i: (label_after_split(*label), label[1]) for i, label in content_types(before).items()
    }
    got = content_types(after)
    changed = {i: (want, got.get(i)) for i, want in expected.items() if got.get(i) != want}
    assert not changed, f"content types (id: wanted, found): {changed}"
    new = {i: label for i, label in got.items() if i not in expected}
    known = {model for _app, model in expected.values()}
    again = {i: label for i, label in new.items() if label[1] in known}
    assert not again, f"content types made again for models that had one: {again}"
    columns, rows = after["auth_permission"]
    type_ = columns.index("content_type_id")
    added = collections.Counter(rows) - collections.Counter(before["auth_permission"][1])
    stray = [row for row in added.elements() if row[type_] not in new]
    assert not stray, f"new permissions on content types that existed before: {stray[:10]}"


def test_a_database_made_before_the_split_migrates_in_place_with_every_row_kept(scratch, tmp_path):
    db = scratch("fixture")
    before = db.tables()
    objects_before = db.schema_objects()
    group_perms = permissions_by_holder(db, GROUP_PERMISSIONS_SQL)
    user_perms = permissions_by_holder(db, USER_PERMISSIONS_SQL)
    members = db.query(MEMBERS_SQL)
    assert {"Author", "Editor", "Moderator"} <= {group for group, _user in members}
    assert len(before["papers_comment"][1]) > 10 and len(before["papers_revision"][1]) > 2

    manage("migrate", "--noinput", db=db, var_dir=tmp_path / "var")

    after = db.tables()
    check_rows_kept(before, after)
    check_content_types(before, after)
    objects_lost = sorted(
        (kind, name, table)
        for kind, name, table in objects_before - db.schema_objects()
        if not any(column in name for column in DROPPED_COLUMNS.get(table, ()))
        # papers 0020: the address rule became partial (working copies share an address),
        # which PostgreSQL keeps as a unique index of the same name, not a table constraint.
        and (kind, name) != ("constraint", "digest_unique_date_slug")
    )
    assert not objects_lost, f"indexes, triggers, constraints or functions lost: {objects_lost}"

    # Groups and users hold the same permissions, under the models' new app labels...
    assert permissions_by_holder(db, GROUP_PERMISSIONS_SQL) == {
        group: after_split(perms) | GRANTED_SINCE.get(group, set())
        for group, perms in group_perms.items()
    }
    assert permissions_by_holder(db, USER_PERMISSIONS_SQL) == {
        user: after_split(perms) for user, perms in user_perms.items()
    }
    # ... and Django grants them: each group's members have each of its permissions (a
    # moderator has ``comments.moderate_comment``), each user their own.
    wanted = collections.defaultdict(set)
    for group, username in members:
        wanted[username] |= dotted(after_split(group_perms[group]))
    for username, perms in user_perms.items():
        wanted[username] |= dotted(after_split(perms))
    moderator = next(username for group, username in members if group == "Moderator")
    assert f"{MOVED['comment']}.moderate_comment" in wanted[moderator]
    refused = refused_permissions(wanted, db=db, var_dir=tmp_path / "var")
    assert not refused, f"permissions no longer granted: {refused}"


# --- the archive, imported -----------------------------------------------------------------


def test_an_archive_exported_before_the_split_imports_into_a_new_database(scratch, tmp_path):
    """The archive names models by their old labels (``data/15-papers.comment.json``) and
    permissions by natural keys with the old app label (``["moderate_comment", "papers",
    "comment"]``): the new code restores all of it, into the same tables."""
    archive_path = SAMPLES / "site-export.zip"
    with zipfile.ZipFile(archive_path) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        data = {
            name.rsplit("/", 1)[-1].split("-", 1)[1].removesuffix(".json"): json.loads(
                archive.read(name)
            )
            for name in manifest["models"]
        }
    assert {label: len(objects) for label, objects in data.items()} == manifest["counts"]
    db = scratch("empty")
    var_dir = tmp_path / "var"
    manage("migrate", "--noinput", "-v", "0", db=db, var_dir=var_dir)
    output = manage("import_site", str(archive_path), db=db, var_dir=var_dir)
    assert "Restored" in output

    # Each model's rows, and those of its many-to-many tables, are in its table (the split
    # keeps the tables: papers.comment's is still papers_comment).
    tables = db.table_names()
    expected = {}
    for label, objects in data.items():
        table = label.replace(".", "_")
        expected[table] = len(objects)
        for obj in objects:
            for field, value in obj["fields"].items():
                if isinstance(value, list) and f"{table}_{field}" in tables:
                    expected[f"{table}_{field}"] = expected.get(f"{table}_{field}", 0) + len(value)
    restored = {table: db.query(f'SELECT COUNT(*) FROM "{table}"')[0][0] for table in expected}
    assert restored == expected
    # The same rows, by id, for the main content; the comments in the same states.
    for label in ("papers.digest", "papers.entry", "papers.comment", "papers.auditrecord"):
        ids = sorted(obj["pk"] for obj in data[label])
        assert ids, label
        assert sorted(i for (i,) in db.query(f"SELECT id FROM {label.replace('.', '_')}")) == ids
    comments = sorted(
        (obj["pk"], obj["fields"]["status"], obj["fields"]["parent"])
        for obj in data["papers.comment"]
    )
    assert sorted(db.query("SELECT id, status, parent_id FROM papers_comment")) == comments
    # The search rows are indexed as the site reads them.
    if connection.vendor == "postgresql":
        indexed = db.query("SELECT COUNT(*) FROM papers_entryfacets")[0][0]
    else:
        indexed = db.query("SELECT COUNT(*) FROM papers_entrysearch_fts_docsize")[0][0]
    assert indexed == expected["papers_entrysearch"]
    media = [p for p in (var_dir / "media").rglob("*") if p.is_file()]
    assert len(media) == manifest["files"] > 0

    # Groups and users hold the archive's permissions, under the models' new app labels,
    # and Django grants them.
    def natural(keys):
        return {(app, model, codename) for codename, app, model in keys}

    groups = {g["fields"]["name"]: natural(g["fields"]["permissions"]) for g in data["auth.group"]}
    users = [obj["fields"] for obj in data["auth.user"]]
    direct = {u["username"]: natural(u["user_permissions"]) for u in users if u["user_permissions"]}
    assert permissions_by_holder(db, GROUP_PERMISSIONS_SQL) == {
        group: after_split(perms) for group, perms in groups.items()
    }
    assert permissions_by_holder(db, USER_PERMISSIONS_SQL) == {
        user: after_split(perms) for user, perms in direct.items()
    }
    wanted = collections.defaultdict(set)
    for user in users:
        if user["is_active"] and not user["is_superuser"]:
            for (group,) in user["groups"]:
                wanted[user["username"]] |= dotted(after_split(groups[group]))
            wanted[user["username"]] |= dotted(after_split(direct.get(user["username"], ())))
    assert any(f"{MOVED['comment']}.moderate_comment" in perms for perms in wanted.values())
    refused = refused_permissions(wanted, db=db, var_dir=var_dir)
    assert not refused, f"permissions not granted after the import: {refused}"
