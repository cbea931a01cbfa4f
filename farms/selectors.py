from django.db.models import Prefetch, QuerySet
from django.http import Http404

from .models import Farm, FarmPhoto


def farm_get_published(*, slug: str) -> Farm:
    """A published farm with its cooperative and photos (2 queries)."""
    farm = (
        Farm.objects.filter(is_published=True, slug=slug)
        .select_related("cooperative")
        .prefetch_related(Prefetch("photos", queryset=FarmPhoto.objects.order_by("order", "id")))
        .first()
    )
    if farm is None:
        raise Http404("No such farm")
    return farm


def farm_list_for_cooperative(*, cooperative) -> QuerySet[Farm]:
    """A cooperative's published farms with their photos (2 queries)."""
    return (
        Farm.objects.filter(is_published=True, cooperative=cooperative)
        .order_by("name")
        .prefetch_related(Prefetch("photos", queryset=FarmPhoto.objects.order_by("order", "id")))
    )
