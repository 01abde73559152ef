from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommentsConfig(AppConfig):
    name = "comments"
    verbose_name = _("Comments")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from comments import services
        from pagecache import store as pages

        # The comment form's stamp is per response; a reader with a comment waiting for
        # moderation sees it on the page, so their pages are their own.
        pages.register(hole=("stamp", lambda request: services.form_stamp_value()))
        pages.register(bypass_session_key=services.SESSION_MINE)
