from django.db.models import QuerySet
from django.http import Http404

from .models import CommunityFund, Cooperative


def fund_list_published() -> QuerySet[CommunityFund]:
    """Published community funds with their managing cooperative (1 query)."""
    return CommunityFund.objects.filter(is_published=True).select_related("cooperative").order_by("name")


def cooperative_get_published(*, slug: str) -> Cooperative:
    """A published cooperative with its certifications (2 queries)."""
    cooperative = Cooperative.objects.filter(is_published=True, slug=slug).prefetch_related("certifications").first()
    if cooperative is None:
        raise Http404("No such cooperative")
    return cooperative


def fund_list_for_cooperative(*, cooperative: Cooperative) -> QuerySet[CommunityFund]:
    return CommunityFund.objects.filter(is_published=True, cooperative=cooperative).order_by("name")
