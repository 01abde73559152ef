"""The arXiv lookup of the paper admin runs on the worker: the editor's request answers at once,
and a page that follows the fetch opens the filled paper (issue 17, item 5)."""

import pytest
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from papers.models import Paper
from tests import factories
from tests.arxiv_server import Reply, recorded
from tests.test_arxiv_admin import FETCH, _client, _post

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def on_the_worker(transactional_db, settings):
    """The database backend, the worker run in this process (it commits, as in production)."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def editor(name="editor"):
    perms = ["papers.add_paper", "papers.change_paper", "papers.view_paper"]
    return factories.user(name, staff=True, perms=perms)


def run_worker():
    call_command("worker", batch=True, reload=False, verbosity=0)


def test_the_lookup_answers_at_once_and_opens_the_paper_once_the_worker_fetched_it(
    on_the_worker, fake_arxiv
):
    fake_arxiv.add(Reply(recorded("two-papers.xml")))
    client = _client(editor())
    response = _post(client, FETCH, {"arxiv_lookup": "https://arxiv.org/abs/2509.22445v2"})
    assert response.status_code == 302
    status_url = response["Location"]
    assert status_url.startswith(FETCH) and status_url != FETCH
    assert fake_arxiv.requests == [] and not Paper.objects.exists()  # arXiv not asked yet

    waiting = client.get(status_url)
    page = waiting.content.decode()
    assert waiting.status_code == 200
    assert "Asking arXiv for https://arxiv.org/abs/2509.22445v2" in page
    assert '<meta http-equiv="refresh" content="1">' in page  # follows without a script

    run_worker()
    done = client.get(status_url)
    paper = Paper.objects.get(arxiv_id="2509.22445")
    assert done.status_code == 302
    assert done["Location"] == f"/admin/papers/paper/{paper.pk}/change/"
    assert "1 created" in client.get(done["Location"]).content.decode()
    assert paper.author_list[0] == "Peter Shaw"


def test_an_arxiv_failure_reaches_the_editor_through_the_waiting_page(on_the_worker, fake_arxiv):
    fake_arxiv.add(Reply(recorded("empty.xml")))
    client = _client(editor())
    status_url = _post(client, FETCH, {"arxiv_lookup": "2509.99999"})["Location"]
    run_worker()
    back = client.get(status_url)
    assert back.status_code == 302
    page = client.get(back["Location"]).content.decode()
    assert "rXiv has no paper 2509.99999" in page and "Nothing was changed" in page
    assert not Paper.objects.exists()


def test_another_editor_cannot_follow_someone_elses_lookup(on_the_worker, fake_arxiv):
    fake_arxiv.add(Reply(recorded("two-papers.xml")))
    status_url = _post(_client(editor()), FETCH, {"arxiv_lookup": "2509.22445"})["Location"]
    other = _client(editor("other"))
    assert other.get(status_url).status_code == 404


def test_a_mistyped_id_is_answered_at_once_without_a_task(on_the_worker, fake_arxiv):
    client = _client(editor())
    response = _post(client, FETCH, {"arxiv_lookup": "2509.2244x"})
    assert response.status_code == 302
    assert "Nothing was changed" in client.get(response["Location"]).content.decode()
    assert not DBTaskResult.objects.exists() and fake_arxiv.requests == []
