from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SubscriptionsConfig(AppConfig):
    """The digest by mail: double opt-in sign-up, sending when a digest goes live, bounces
    and complaints (docs/architecture.md, "Subscriptions")."""

    name = "subscriptions"
    verbose_name = _("Subscriptions")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from anymail.signals import tracking

        from background.tasks import worker_ready
        from subscriptions import bounces, services

        # A provider's webhook reports a bounce, a complaint or an unsubscribe.
        tracking.connect(bounces.on_tracking_event, dispatch_uid="subscriptions-tracking")
        # The daily sweep of sign-ups never confirmed starts with the worker.
        worker_ready.connect(services.start_forgetting, dispatch_uid="subscriptions.forget")
