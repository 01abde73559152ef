"""A cache of whole anonymous pages with per-visitor holes. Knows no project model: the apps
above it tell it what changed (``invalidate``), what fills a hole and when a page's content
changes by the clock (``register``)."""
