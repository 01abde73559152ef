"""Signals other parts of the site may listen to (feeds pings, cache warming). They carry
facts, never decisions: the decision was made in editorial/services.py."""

from django.dispatch import Signal

# Sent once per go-live time by `manage.py publish_scheduled`, after the digest became
# readable (scheduled or published now). Arguments: digest.
digest_went_live = Signal()
