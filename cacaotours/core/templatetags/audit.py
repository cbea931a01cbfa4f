"""``{% audit_trail original %}``: the object's latest audit entries (see cacaotours/core/audit.py)."""

from django import template
from django.urls import NoReverseMatch, reverse

from cacaotours.core.audit import AUDIT_TRAIL_LIMIT, audit_entries_for

register = template.Library()


@register.inclusion_tag("admin/includes/audit_trail.html")
def audit_trail(obj):
    opts = obj._meta
    try:
        history_url = reverse(f"admin:{opts.app_label}_{opts.model_name}_history", args=[obj.pk])
    except NoReverseMatch:
        history_url = ""
    return {"entries": audit_entries_for(obj), "history_url": history_url, "limit": AUDIT_TRAIL_LIMIT}
