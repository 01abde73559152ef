"""Public pages, one module per area; urls.py imports the views from here."""

from .core import DigestDetailView, EntryDetailView, HomeView
from .workflow import SharePreviewView

__all__ = ["DigestDetailView", "EntryDetailView", "HomeView", "SharePreviewView"]
