from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from farms.models import Farm
from tests.factories import FarmFactory, FarmPhotoFactory

pytestmark = pytest.mark.django_db


def assert_refused(**fields):
    before = Farm.objects.count()
    with pytest.raises(IntegrityError), transaction.atomic():
        FarmFactory(**fields)
    assert Farm.objects.count() == before


def test_slug_is_unique():
    FarmFactory(slug="don-manuel")
    assert_refused(slug="don-manuel")


@pytest.mark.parametrize("hectares", [Decimal("0"), Decimal("-1.50")])
def test_hectares_must_be_positive(hectares):
    assert_refused(hectares=hectares)


@pytest.mark.parametrize(
    ("latitude", "longitude"),
    [
        (Decimal("90.000001"), Decimal("0")),
        (Decimal("-91"), Decimal("0")),
        (Decimal("0"), Decimal("180.5")),
        (Decimal("0"), Decimal("-181")),
    ],
)
def test_coordinates_must_be_on_earth(latitude, longitude):
    assert_refused(latitude=latitude, longitude=longitude)


def test_str_crops_and_practices():
    farm = FarmFactory(
        name_en="Don Manuel's Farm",
        host_family="Huamán family",
        grows_cacao=True,
        grows_coffee=False,
        grows_fruit=True,
        agroforestry=True,
        organic=True,
        reforestation=False,
        eco_lodge=True,
    )
    assert str(farm) == "Don Manuel's Farm (Huamán family)"
    assert farm.crops == ["Cacao", "Fruit"]
    assert farm.practices == ["Agroforestry", "Organic", "Eco-lodge"]
    assert farm.get_absolute_url() == f"/farms/{farm.slug}/"


def test_photo_str_is_its_alt_text(media):
    assert str(FarmPhotoFactory(alt_text_en="Cacao pods on the tree")) == "Cacao pods on the tree"


def test_deleting_a_farm_deletes_its_photo_rows(media):
    photo = FarmPhotoFactory()
    photo.farm.delete()
    assert not type(photo).objects.exists()
