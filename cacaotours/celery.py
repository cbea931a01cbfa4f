"""Celery application, configured from Django settings (namespace ``CELERY``)."""

import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cacaotours.settings.local")

app = Celery("cacaotours")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.task_prerun.connect
@signals.task_postrun.connect
def _database_connections_checked(sender=None, **kwargs):
    """Around every task, what Django does around every request: close connections that are
    broken or older than DB_CONN_MAX_AGE (with CELERY_DB_REUSE_MAX the fixup no longer closes
    them after each task); the next query checks the connection (CONN_HEALTH_CHECKS)."""
    if getattr(getattr(sender, "request", None), "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()
