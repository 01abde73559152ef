"""A paste at the 2 MB limit, as one line or as many, with pathological runs (colons,
brackets, dashes, URL-like fragments, asterisks, hashes), is parsed in linear time: under
2 s each on the 2-core test machine, or, when the machine is loaded, in about four times the
time of a quarter of it. No pattern may backtrack over the same text."""

import gc
import time

import pytest
from django.conf import settings

from editorial.importing import DigestImportError, parse_digest

pytestmark = pytest.mark.django_db

HEAD = "# 压力测试\n\n时间:2024-03-14\n\n### 1、[LG] A Title\n\n> URL：https://arxiv.org/abs/2403.01234\n\n"
TEXT_HEAD = "压力测试(3.14)\n时间:2024-03-14\n\n1、[LG] A Title\nA Author\nhttps://arxiv.org/abs/2403.01234\n要点：\n"

RUNS = {
    "colons": "要点：主旨：：:::动机：",
    "brackets": "[[[(（【[LG] ",
    "dashes": "。- – --- —— -",
    "urls": "https://arxiv.org/abs/2403.0 http://x.y/",
    "arxiv": "https://arxiv.org/abs/2403.01234 ",
    "bold": "**动机**：**a** ",
    "hashes": "### 1、 # ",
    "images": "![a](b ![<img src=",
    "spaces": "      ",
    "authors": "A B, C D, E F[",
}


LINE_BYTES = 64  # "many lines": lines of 64 bytes or more, ~33,000 lines in 2 MB


def _paste(head: str, unit: str, *, lines: bool, share: int = 1) -> str:
    """A paste of ``unit`` runs filling the 2 MB limit (or ``1/share`` of it)."""
    budget = (settings.IMPORT_MAX_BYTES - len(head.encode()) - 16) // share
    if lines:
        unit = unit * max(1, -(-LINE_BYTES // len(unit.encode())))
    count = budget // len((unit + ("\n" if lines else "")).encode())
    body = ("\n" if lines else "").join([unit] * count)
    return head + body + "\n"


def _time(text: str) -> float:
    """CPU seconds of the parse: the machine is shared (2 cores, other test runs), so the
    wall clock measures the neighbours; the work itself is what must stay linear. The cyclic
    garbage collector is off while timing (as timeit does): its passes over a test process's
    heap grow with everything else alive, not with the parse."""
    gc.collect()
    gc.disable()
    start = time.process_time()
    try:
        parse_digest(text)
    except DigestImportError:
        pass  # a refusal is fine; the time it takes is what is measured
    finally:
        elapsed = time.process_time() - start
        gc.enable()
    return elapsed


@pytest.mark.parametrize("lines", [False, True], ids=["one line", "many lines"])
@pytest.mark.parametrize("run", sorted(RUNS))
def test_a_two_megabyte_paste_with_pathological_runs_parses_in_under_two_seconds(run, lines):
    for head in (HEAD, TEXT_HEAD):
        text = _paste(head, RUNS[run], lines=lines)
        assert len(text.encode()) <= settings.IMPORT_MAX_BYTES
        # The best of up to three parses: a neighbour on the shared cores slows the CPU too
        # (caches, clock), never speeds it.
        elapsed = _best(text)
        if elapsed >= 2.0:
            # A loaded machine: linear work takes about four times a quarter of the paste's
            # time (quadratic work sixteen times; noise on a loaded machine reached 7.4×),
            # and never several seconds.
            quarter = _best(_paste(head, RUNS[run], lines=lines, share=4))
            what = f"{run}, {'lines' if lines else 'one line'}: {elapsed:.2f} s"
            assert elapsed < 4 * quarter * 2.5, f"{what}, a quarter of it {quarter:.2f} s"
            assert elapsed < 5.0, what


def _best(text: str, tries: int = 3) -> float:
    elapsed = _time(text)
    for _retry in range(tries - 1):
        if elapsed < 2.0:
            break
        elapsed = min(elapsed, _time(text))
    return elapsed


def test_a_long_line_ending_in_an_arxiv_link_is_checked_in_linear_time():
    # The old check took 13 s on a 64 KB line; a 1 MB one now takes milliseconds.
    from editorial.importing.common import ARXIV_URL

    line = "https://arxiv.org/abs/2403.01234" + "x" * 1_000_000 + " ."
    start = time.process_time()
    assert ARXIV_URL.match(line).group("url").startswith("https://arxiv.org/abs/2403.01234")
    assert ARXIV_URL.match("https://arxiv.org/abs/2403.01234 and more") is None
    assert time.process_time() - start < 0.2
