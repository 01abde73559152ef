"""Batch commands show a progress bar on a terminal and plain lines otherwise."""

from django.core.management.base import OutputWrapper

from editorial.management.commands._progress import Progress


class _Terminal:
    def __init__(self):
        self.text = ""

    def write(self, text):
        self.text += text

    def flush(self):
        pass

    def isatty(self):
        return True


class _Log(_Terminal):
    def isatty(self):
        return False


def test_a_terminal_gets_one_bar_redrawn_in_place():
    stream = _Terminal()
    progress = Progress(OutputWrapper(stream), "arXiv", width=10)
    progress(50, 100)
    progress(100, 100)
    assert "\rarXiv [#####-----] 50/100" in stream.text
    assert stream.text.endswith("\rarXiv [##########] 100/100\n")


def test_a_log_gets_plain_lines():
    stream = _Log()
    progress = Progress(OutputWrapper(stream), "arXiv")
    progress(50, 100)
    progress(100, 100)
    assert stream.text == "arXiv: 50/100\narXiv: 100/100\n"
