"""The staff audit trail: Django admin's LogEntry, read back for an object's page.

Every staff change is one LogEntry (who, when, what changed): the admin writes them for its
add/change/delete forms, and our admin actions and operation views call
``ModelAdmin.log_change(request, obj, message)`` with a sentence that says what changed.
``templates/admin/change_form.html`` shows an object's latest entries on its change page, for
every admin class (one mechanism, no mixin to forget).
"""

from __future__ import annotations

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType

AUDIT_TRAIL_LIMIT = 15


def audit_entries_for(obj, *, limit: int = AUDIT_TRAIL_LIMIT) -> list[LogEntry]:
    """The latest admin log entries of ``obj``, newest first (1 query; content types are cached)."""
    content_type = ContentType.objects.get_for_model(obj, for_concrete_model=False)
    return list(
        LogEntry.objects.filter(content_type=content_type, object_id=str(obj.pk))
        .select_related("user")
        .order_by("-action_time", "-id")[:limit]
    )
