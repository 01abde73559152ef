"""The one-page digest editor (admin): every field, entry, section and figure of a digest on
one page, a live preview rendered by the public templates, a checks panel, and autosave.
Every write goes through ``editorial.services.digest_save_content``."""
