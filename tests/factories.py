"""factory_boy factories for the domain, plus small image helpers for upload tests.

Translated fields are filled in both languages (``name_en`` / ``name_es``); photo factories
go through ``photo_store`` with a small Pillow-generated JPEG, exactly like an upload.
"""

import io
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import factory
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from cacaotours.core.images import photo_store
from cooperatives.models import Certification, CommunityFund, Cooperative, Membership
from farms.models import Farm, FarmPhoto
from tours.models import Departure, ItineraryStop, Route, RoutePhoto, ShareRule, Tour, TourPhoto

# -- image helpers ----------------------------------------------------------------------


def image_bytes(fmt: str = "JPEG", size: tuple[int, int] = (320, 240), color=(120, 72, 40), **save_kwargs) -> bytes:
    """A real image file of ``size`` in ``fmt`` (JPEG, PNG, WEBP, GIF...)."""
    mode = "RGB" if fmt != "GIF" else "P"
    image = Image.new(mode, size, color if mode == "RGB" else 1)
    buffer = io.BytesIO()
    image.save(buffer, fmt, **save_kwargs)
    return buffer.getvalue()


def upload(data: bytes | None = None, name: str = "cacao.jpg", content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, image_bytes() if data is None else data, content_type=content_type)


def media_files(root) -> list[str]:
    """Relative paths of every file under ``root``, sorted."""
    root = Path(root)
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


# -- users and cooperatives -------------------------------------------------------------


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "users.User"

    email = factory.Sequence(lambda n: f"traveller{n}@example.com")
    first_name = "Rosa"
    last_name = "Quispe"

    @classmethod
    def _create(cls, model_class, *args, password="cacao-pass-123", **kwargs):  # noqa: S107
        return model_class.objects.create_user(*args, password=password, **kwargs)


class CertificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Certification
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"organic-{n}")
    name_en = factory.Sequence(lambda n: f"Organic {n}")
    name_es = factory.Sequence(lambda n: f"Orgánico {n}")


class CooperativeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Cooperative

    name_en = factory.Sequence(lambda n: f"Agrobosque Cooperative {n}")
    name_es = factory.Sequence(lambda n: f"Cooperativa Agrobosque {n}")
    slug = factory.Sequence(lambda n: f"agrobosque-{n}")
    community = "Infierno Native Community"
    region = "Tambopata, Madre de Dios"
    summary_en = "Families who grow cacao under the forest canopy."
    summary_es = "Familias que cultivan cacao bajo el dosel del bosque."
    story_en = "The association has 21 hectares of agroforestry systems dedicated to cacao."
    story_es = "La asociación tiene 21 hectáreas de sistemas agroforestales dedicados al cacao."
    founded = 2004
    members = 42
    is_published = True


class CommunityFundFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CommunityFund

    name_en = factory.Sequence(lambda n: f"Cloud-forest reforestation fund {n}")
    name_es = factory.Sequence(lambda n: f"Fondo de reforestación {n}")
    slug = factory.Sequence(lambda n: f"reforestation-fund-{n}")
    purpose = CommunityFund.Purpose.REFORESTATION
    summary_en = "Native trees planted along the Urubamba."
    summary_es = "Árboles nativos plantados a lo largo del Urubamba."
    description_en = "Every booking plants native trees."
    description_es = "Cada reserva planta árboles nativos."
    cooperative = factory.SubFactory(CooperativeFactory)
    is_published = True


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    cooperative = factory.SubFactory(CooperativeFactory)
    fund = None
    role = Membership.Role.LEADER


# -- farms ------------------------------------------------------------------------------


class FarmFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Farm

    name_en = factory.Sequence(lambda n: f"Don Manuel's Farm {n}")
    name_es = factory.Sequence(lambda n: f"Finca de Don Manuel {n}")
    slug = factory.Sequence(lambda n: f"don-manuel-{n}")
    host_family = "Huamán family"
    cooperative = factory.SubFactory(CooperativeFactory)
    region = "Quillabamba, La Convención, Cusco"
    summary_en = "A family cacao plot above the Urubamba river."
    summary_es = "Una parcela familiar de cacao sobre el río Urubamba."
    story_en = "Don Manuel ferments his beans in wooden boxes for six days."
    story_es = "Don Manuel fermenta sus granos en cajones de madera durante seis días."
    altitude_m = 1050
    hectares = Decimal("3.50")
    grows_cacao = True
    grows_coffee = True
    agroforestry = True
    latitude = Decimal("-12.863000")
    longitude = Decimal("-72.692000")
    is_published = True


# -- routes and tours -------------------------------------------------------------------


class RouteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Route

    name_en = factory.Sequence(lambda n: f"Convención Valley Route {n}")
    name_es = factory.Sequence(lambda n: f"Ruta del Valle de La Convención {n}")
    slug = factory.Sequence(lambda n: f"convencion-valley-{n}")
    region = "La Convención, Cusco"
    summary_en = "From the Andes down to the cacao valleys of Quillabamba."
    summary_es = "De los Andes a los valles cacaoteros de Quillabamba."
    description_en = "Cacao, coffee and fruit farms in the high jungle."
    description_es = "Fincas de cacao, café y frutas en la selva alta."
    order = factory.Sequence(lambda n: n)
    is_published = True


class TourFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tour

    route = factory.SubFactory(RouteFactory)
    title_en = factory.Sequence(lambda n: f"Quillabamba Cacao Day {n}")
    title_es = factory.Sequence(lambda n: f"Día del Cacao en Quillabamba {n}")
    slug = factory.Sequence(lambda n: f"quillabamba-cacao-day-{n}")
    summary_en = "Harvest, ferment and roast cacao with a host family."
    summary_es = "Cosecha, fermenta y tuesta cacao con una familia anfitriona."
    description_en = "A day on a family cacao farm: from pod to bar."
    description_es = "Un día en una finca familiar de cacao: de la mazorca a la tableta."
    duration_days = 1
    duration_hours = 8
    meeting_point_en = "Plaza de Armas, Quillabamba"
    meeting_point_es = "Plaza de Armas, Quillabamba"
    includes_en = "Guide\nLunch\nChocolate tasting"
    includes_es = "Guía\nAlmuerzo\nDegustación de chocolate"
    excludes_en = "Tips"
    excludes_es = "Propinas"
    what_to_bring_en = "Hat\nSunscreen"
    what_to_bring_es = "Sombrero\nBloqueador solar"
    min_group = 1
    max_group = 12
    currency = "PEN"
    adult_price = 35000
    child_price = 17500
    is_published = True
    is_featured = False


class ItineraryStopFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ItineraryStop

    tour = factory.SubFactory(TourFactory)
    day = 1
    order = factory.Sequence(lambda n: n + 1)
    farm = factory.SubFactory(FarmFactory)
    activity = ItineraryStop.Activity.HARVEST
    title_en = factory.Sequence(lambda n: f"Harvest ripe pods {n}")
    title_es = factory.Sequence(lambda n: f"Cosecha de mazorcas maduras {n}")
    description_en = "Cut ripe pods with a machete under the shade trees."
    description_es = "Corta mazorcas maduras con machete bajo los árboles de sombra."


class DepartureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Departure

    tour = factory.SubFactory(TourFactory)
    starts_at = factory.Sequence(lambda n: timezone.now().replace(microsecond=0) + timedelta(days=7, hours=n))
    capacity = 10
    guide = "Domingo"
    status = Departure.Status.OPEN


class ShareRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ShareRule

    tour = factory.SubFactory(TourFactory)
    cooperative = factory.SubFactory(CooperativeFactory)
    fund = None
    farm = None
    basis_points = 1500
    purpose_en = "Fair price for the cacao"
    purpose_es = "Precio justo por el cacao"


# -- photos (through photo_store) -------------------------------------------------------


class _PhotoFactory(factory.django.DjangoModelFactory):
    class Meta:
        abstract = True

    alt_text_en = factory.Sequence(lambda n: f"Ripe cacao pods on the tree {n}")
    alt_text_es = factory.Sequence(lambda n: f"Mazorcas de cacao maduras en el árbol {n}")
    caption_en = "Harvest season"
    caption_es = "Temporada de cosecha"
    order = factory.Sequence(lambda n: n)

    @classmethod
    def _create(cls, model_class, *args, upload_file=None, **kwargs):
        photo = model_class(**kwargs)
        photo_store(photo=photo, upload=upload_file or upload())
        return photo


class FarmPhotoFactory(_PhotoFactory):
    class Meta:
        model = FarmPhoto

    farm = factory.SubFactory(FarmFactory)


class TourPhotoFactory(_PhotoFactory):
    class Meta:
        model = TourPhoto

    tour = factory.SubFactory(TourFactory)


class RoutePhotoFactory(_PhotoFactory):
    class Meta:
        model = RoutePhoto

    route = factory.SubFactory(RouteFactory)


def fake_photo_kwargs(stem: str, order: int = 0) -> dict:
    """Fields of a photo row without files (for bulk_create in query-count tests)."""
    renditions = {
        name: {
            "width": width,
            "height": width * 3 // 4,
            "jpeg": f"photos/x/{stem}-{name}.jpg",
            "webp": f"photos/x/{stem}-{name}.webp",
        }
        for name, width in (("thumb", 320), ("card", 800), ("hero", 1600))
    }
    return {
        "image": f"photos/x/{stem}.jpg",
        "width": 2400,
        "height": 1800,
        "renditions": renditions,
        "alt_text_en": f"Cacao pods {stem}",
        "alt_text_es": f"Mazorcas {stem}",
        "order": order,
    }
