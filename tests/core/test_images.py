import io
import struct
import zlib

import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from cacaotours.core.images import photo_store, validate_photo
from farms.models import FarmPhoto
from tests.factories import FarmFactory, FarmPhotoFactory, image_bytes, media_files, upload
from tests.helpers import form_values

RENDITION_NAMES = ["card", "hero", "thumb"]


def open_stored(path: str) -> Image.Image:
    with default_storage.open(path, "rb") as handle:
        image = Image.open(io.BytesIO(handle.read()))
        image.load()
    return image


def png_claiming(width: int, height: int) -> bytes:
    """A tiny, well-formed PNG whose header claims ``width``×``height`` pixels."""
    data = bytearray(image_bytes("PNG", size=(1, 1)))
    # signature (8) + IHDR length (4) + b"IHDR" (4), then width, height and 5 more bytes, then the CRC
    struct.pack_into(">II", data, 16, width, height)
    struct.pack_into(">I", data, 29, zlib.crc32(bytes(data[12:29])))
    return bytes(data)


def jpeg_with_exif(size=(400, 300), orientation=None) -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "Canon"  # Make
    exif[0x0110] = "EOS 5D"  # Model
    exif[0x0131] = "Secret Editor 1.0"  # Software
    if orientation:
        exif[0x0112] = orientation
    buffer = io.BytesIO()
    Image.new("RGB", size, (90, 50, 30)).save(buffer, "JPEG", exif=exif.tobytes())
    return buffer.getvalue()


# -- valid uploads ----------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fmt", "name", "mode"),
    [("JPEG", "pods.jpg", "RGB"), ("PNG", "pods.png", "RGBA"), ("WEBP", "pods.webp", "RGB"), ("PNG", "p.png", "P")],
)
def test_valid_upload_is_stored_as_jpeg_with_webp_and_jpeg_renditions(media, fmt, name, mode):
    source = Image.new(mode, (1000, 750))
    buffer = io.BytesIO()
    source.save(buffer, fmt)
    farm = FarmFactory()
    photo = FarmPhoto(farm=farm, alt_text_en="Cacao pods drying in the sun", alt_text_es="Granos secándose al sol")

    photo_store(photo=photo, upload=SimpleUploadedFile(name, buffer.getvalue()))

    photo.refresh_from_db()
    stem = photo.image.name.removeprefix("photos/farmphoto/").removesuffix(".jpg")
    assert photo.image.name == f"photos/farmphoto/{stem}.jpg"
    assert (photo.width, photo.height) == (1000, 750)
    assert media_files(media) == sorted(
        [f"photos/farmphoto/{stem}.jpg"]
        + [f"photos/farmphoto/{stem}-{rendition}.{ext}" for rendition in RENDITION_NAMES for ext in ("jpg", "webp")]
    )
    master = open_stored(photo.image.name)
    assert (master.format, master.mode, master.size) == ("JPEG", "RGB", (1000, 750))
    assert photo.renditions == {
        "thumb": {
            "width": 320,
            "height": 240,
            "jpeg": f"photos/farmphoto/{stem}-thumb.jpg",
            "webp": f"photos/farmphoto/{stem}-thumb.webp",
        },
        "card": {
            "width": 800,
            "height": 600,
            "jpeg": f"photos/farmphoto/{stem}-card.jpg",
            "webp": f"photos/farmphoto/{stem}-card.webp",
        },
        "hero": {
            "width": 1000,
            "height": 750,
            "jpeg": f"photos/farmphoto/{stem}-hero.jpg",
            "webp": f"photos/farmphoto/{stem}-hero.webp",
        },
    }
    for entry in photo.renditions.values():
        for key, expected_format in (("jpeg", "JPEG"), ("webp", "WEBP")):
            rendition = open_stored(entry[key])
            assert (rendition.format, rendition.size) == (expected_format, (entry["width"], entry["height"]))


@pytest.mark.django_db
def test_large_photo_is_resized_to_2400_px_master_and_renditions(media):
    photo = FarmPhotoFactory(upload_file=upload(image_bytes("JPEG", size=(3000, 2000))))

    assert (photo.width, photo.height) == (2400, 1600)
    assert open_stored(photo.image.name).size == (2400, 1600)
    assert {name: (entry["width"], entry["height"]) for name, entry in photo.renditions.items()} == {
        "thumb": (320, 213),
        "card": (800, 533),
        "hero": (1600, 1067),
    }


@pytest.mark.django_db
def test_exif_metadata_is_stripped(media):
    photo = FarmPhotoFactory(upload_file=upload(jpeg_with_exif()))

    stored = [photo.image.name] + [entry[fmt] for entry in photo.renditions.values() for fmt in ("jpeg", "webp")]
    for path in stored:
        image = open_stored(path)
        assert "exif" not in image.info, path
        assert dict(image.getexif()) == {}, path
        with default_storage.open(path, "rb") as handle:
            raw = handle.read()
        assert b"Canon" not in raw
        assert b"Secret Editor" not in raw


@pytest.mark.django_db
def test_exif_orientation_is_applied_before_stripping(media):
    # Orientation 6: the camera was turned; the 400×300 sensor image is shown 300×400.
    photo = FarmPhotoFactory(upload_file=upload(jpeg_with_exif(size=(400, 300), orientation=6)))

    assert (photo.width, photo.height) == (300, 400)
    assert open_stored(photo.image.name).size == (300, 400)


@pytest.mark.django_db
def test_smallest_accepted_photo_is_200_by_150(media):
    photo = FarmPhotoFactory(upload_file=upload(image_bytes("PNG", size=(200, 150)), name="small.png"))
    assert (photo.width, photo.height) == (200, 150)
    assert len(media_files(media)) == 7


# -- invalid uploads: nothing written, nothing saved ------------------------------------


def truncated_jpeg() -> bytes:
    data = image_bytes("JPEG", size=(800, 600), quality=95)
    return data[: len(data) // 2]


def corrupt_png() -> bytes:
    data = bytearray(image_bytes("PNG", size=(400, 300)))
    index = data.index(b"IDAT") + 8
    data[index : index + 16] = b"\x00" * 16  # damage the compressed pixel data
    return bytes(data)


INVALID_UPLOADS = [
    pytest.param(b"Cacao tour notes: bring a hat.\n" * 20, "notes.jpg", "not_image", id="text-renamed-jpg"),
    pytest.param(b"", "empty.jpg", "not_image", id="empty-file"),
    pytest.param(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n" + b"0" * 400, "brochure.jpg", "not_image", id="pdf"),
    pytest.param(image_bytes("GIF", size=(400, 300)), "animation.gif", "bad_format", id="gif"),
    pytest.param(image_bytes("BMP", size=(400, 300)), "scan.jpg", "bad_format", id="bmp-renamed"),
    pytest.param(image_bytes("TIFF", size=(400, 300)), "scan.tiff", "bad_format", id="tiff"),
    pytest.param(png_claiming(10_000, 5_000), "bomb.png", "too_many_pixels", id="50-megapixel-header"),
    pytest.param(image_bytes("JPEG", size=(199, 150)), "narrow.jpg", "too_small", id="199x150"),
    pytest.param(image_bytes("JPEG", size=(200, 149)), "short.jpg", "too_small", id="200x149"),
    pytest.param(truncated_jpeg(), "truncated.jpg", "corrupt", id="truncated-jpeg"),
    pytest.param(corrupt_png(), "broken.png", "corrupt", id="corrupt-png"),
]


@pytest.mark.parametrize(("data", "name", "code"), INVALID_UPLOADS)
def test_validate_photo_refuses(data, name, code):
    with pytest.raises(ValidationError) as excinfo:
        validate_photo(SimpleUploadedFile(name, data))
    assert excinfo.value.code == code


@pytest.mark.django_db
@pytest.mark.parametrize(("data", "name", "code"), INVALID_UPLOADS)
def test_photo_store_refuses_and_writes_nothing(media, data, name, code):
    farm = FarmFactory()
    photo = FarmPhoto(farm=farm, alt_text_en="Pods")

    with pytest.raises(ValidationError) as excinfo:
        photo_store(photo=photo, upload=SimpleUploadedFile(name, data))

    assert excinfo.value.code == code
    assert photo.pk is None
    assert FarmPhoto.objects.count() == 0
    assert media_files(media) == []


@pytest.mark.django_db
def test_pixel_bomb_is_refused_from_the_header_without_decoding(media):
    bomb = png_claiming(20_000, 20_000)
    assert len(bomb) < 100  # the file is tiny; decoding it would need 400 million pixels

    with pytest.raises(ValidationError):
        photo_store(photo=FarmPhoto(farm=FarmFactory(), alt_text_en="Bomb"), upload=SimpleUploadedFile("b.png", bomb))

    assert FarmPhoto.objects.count() == 0
    assert media_files(media) == []


def test_pixel_bomb_beyond_pillow_limit_is_reported_as_too_many_pixels():
    with pytest.raises(ValidationError) as excinfo:
        validate_photo(SimpleUploadedFile("b.png", png_claiming(20_000, 20_000)))
    assert excinfo.value.code == "too_many_pixels"


def test_pixel_limit_message_names_the_size():
    with pytest.raises(ValidationError) as excinfo:
        validate_photo(SimpleUploadedFile("b.png", png_claiming(10_000, 5_000)))
    assert excinfo.value.messages == ["The photo is 10000×5000 pixels; the limit is 40 megapixels."]


@pytest.mark.django_db
def test_pixel_limit_follows_settings(settings, media):
    settings.PHOTO_MAX_PIXELS = 400 * 300 - 1
    with pytest.raises(ValidationError) as excinfo:
        photo_store(
            photo=FarmPhoto(farm=FarmFactory(), alt_text_en="Pods"), upload=upload(image_bytes(size=(400, 300)))
        )
    assert excinfo.value.code == "too_many_pixels"
    assert FarmPhoto.objects.count() == 0
    assert media_files(media) == []

    settings.PHOTO_MAX_PIXELS = 400 * 300
    FarmPhotoFactory(upload_file=upload(image_bytes(size=(400, 300))))
    assert FarmPhoto.objects.count() == 1


@pytest.mark.django_db
def test_oversized_file_is_refused_before_it_is_read(settings, media):
    settings.PHOTO_MAX_BYTES = 1_048_576
    data = b"\xff\xd8" + b"\x00" * 1_572_862  # 1.5 MB, never opened

    with pytest.raises(ValidationError) as excinfo:
        photo_store(photo=FarmPhoto(farm=FarmFactory(), alt_text_en="Pods"), upload=SimpleUploadedFile("big.jpg", data))

    assert excinfo.value.code == "too_large"
    assert excinfo.value.messages == ["The photo is 1.5 MB; the limit is 1 MB."]
    assert FarmPhoto.objects.count() == 0
    assert media_files(media) == []


def test_missing_upload_is_refused():
    with pytest.raises(ValidationError) as excinfo:
        validate_photo(None)
    assert excinfo.value.code == "missing"


@pytest.mark.django_db
def test_rows_that_fail_validation_leave_no_files(media):
    # The image is fine but the row is not (no alternative text): the files just written go.
    photo = FarmPhoto(farm=FarmFactory(), alt_text_en="")

    with pytest.raises(ValidationError) as excinfo:
        photo_store(photo=photo, upload=upload())

    assert "alt_text_en" in excinfo.value.message_dict
    assert FarmPhoto.objects.count() == 0
    assert media_files(media) == []


@pytest.mark.django_db
def test_replacing_a_photo_removes_the_old_files_after_commit(media, django_capture_on_commit_callbacks):
    photo = FarmPhotoFactory()
    old_files = media_files(media)
    assert len(old_files) == 7

    with django_capture_on_commit_callbacks(execute=True):
        photo_store(photo=photo, upload=upload(image_bytes("PNG", size=(640, 480)), name="new.png"))

    photo.refresh_from_db()
    new_files = media_files(media)
    assert len(new_files) == 7
    assert set(new_files).isdisjoint(old_files)
    assert photo.image.name in new_files
    assert (photo.width, photo.height) == (640, 480)


@pytest.mark.django_db
def test_replacing_with_an_invalid_upload_keeps_the_old_photo(media):
    photo = FarmPhotoFactory()
    before = media_files(media)
    image, renditions = photo.image.name, photo.renditions

    with pytest.raises(ValidationError):
        photo_store(photo=photo, upload=SimpleUploadedFile("x.jpg", b"not a photo"))

    photo.refresh_from_db()
    assert (photo.image.name, photo.renditions) == (image, renditions)
    assert media_files(media) == before


def test_srcset_and_rendition_url():
    photo = FarmPhoto(
        image="photos/farmphoto/abc.jpg",
        renditions={
            "thumb": {
                "width": 320,
                "height": 240,
                "jpeg": "photos/farmphoto/abc-thumb.jpg",
                "webp": "photos/farmphoto/abc-thumb.webp",
            },
            "card": {
                "width": 800,
                "height": 600,
                "jpeg": "photos/farmphoto/abc-card.jpg",
                "webp": "photos/farmphoto/abc-card.webp",
            },
        },
    )
    assert (
        photo.srcset("webp")
        == "/media/photos/farmphoto/abc-thumb.webp 320w, /media/photos/farmphoto/abc-card.webp 800w"
    )
    assert photo.srcset() == "/media/photos/farmphoto/abc-thumb.jpg 320w, /media/photos/farmphoto/abc-card.jpg 800w"
    assert photo.rendition_url("card", "webp") == "/media/photos/farmphoto/abc-card.webp"
    assert photo.rendition_url("hero") == "/media/photos/farmphoto/abc.jpg"  # falls back to the master


# -- the admin upload path ----------------------------------------------------------------


def farm_change_data(client, farm, **photo_fields) -> dict:
    data = form_values(client.get(f"/admin/farms/farm/{farm.pk}/change/").content.decode(), "farm_form")
    if photo_fields:
        index = int(data["photos-TOTAL_FORMS"])
        data["photos-TOTAL_FORMS"] = str(index + 1)
        defaults = {
            "id": "",
            "farm": str(farm.pk),
            "alt_text_en": "",
            "alt_text_es": "",
            "caption_en": "",
            "caption_es": "",
            "order": "0",
        }
        data.update({f"photos-{index}-{key}": value for key, value in {**defaults, **photo_fields}.items()})
    return data


@pytest.mark.django_db
def test_admin_inline_upload_stores_photo_with_renditions(staff_client, media):
    farm = FarmFactory()
    data = farm_change_data(
        staff_client,
        farm,
        upload=upload(image_bytes("PNG", size=(900, 600)), name="harvest.png", content_type="image/png"),
        alt_text_en="Don Manuel opens a cacao pod",
        alt_text_es="Don Manuel abre una mazorca",
        order="2",
    )

    response = staff_client.post(f"/admin/farms/farm/{farm.pk}/change/", data)

    assert response.status_code == 302
    photo = FarmPhoto.objects.get()
    assert (photo.farm, photo.alt_text_en, photo.alt_text_es, photo.order) == (
        farm,
        "Don Manuel opens a cacao pod",
        "Don Manuel abre una mazorca",
        2,
    )
    assert (photo.width, photo.height) == (900, 600)
    assert sorted(photo.renditions) == RENDITION_NAMES
    assert len(media_files(media)) == 7
    assert open_stored(photo.image.name).format == "JPEG"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"just text", "pods.jpg", "This file is not a JPEG, PNG or WebP photo."),
        (image_bytes("GIF", size=(400, 300)), "pods.gif", "Only JPEG, PNG and WebP photos are accepted."),
        (image_bytes("JPEG", size=(100, 100)), "tiny.jpg", "The photo is too small: at least 200×150 pixels."),
    ],
)
def test_admin_inline_invalid_upload_shows_error_and_changes_nothing(staff_client, media, data, name, message):
    farm = FarmFactory(name_en="Don Manuel's Farm")
    form = farm_change_data(staff_client, farm, upload=SimpleUploadedFile(name, data), alt_text_en="Pods")
    form["name_en"] = "Renamed farm"

    response = staff_client.post(f"/admin/farms/farm/{farm.pk}/change/", form)

    assert response.status_code == 200
    assert message in response.content.decode()
    farm.refresh_from_db()
    assert farm.name_en == "Don Manuel's Farm"
    assert FarmPhoto.objects.count() == 0
    assert media_files(media) == []


@pytest.mark.django_db
def test_admin_inline_new_row_without_file_asks_for_one(staff_client, media):
    farm = FarmFactory()
    form = farm_change_data(staff_client, farm, alt_text_en="Pods without a file")

    response = staff_client.post(f"/admin/farms/farm/{farm.pk}/change/", form)

    assert response.status_code == 200
    assert "Choose a photo file." in response.content.decode()
    assert FarmPhoto.objects.count() == 0
    assert media_files(media) == []


@pytest.mark.django_db
def test_admin_inline_edit_without_new_file_keeps_files(staff_client, media):
    photo = FarmPhotoFactory(alt_text_en="Old text")
    before = media_files(media)
    form = farm_change_data(staff_client, photo.farm)
    form["photos-0-alt_text_en"] = "Cacao beans fermenting in wooden boxes"

    response = staff_client.post(f"/admin/farms/farm/{photo.farm.pk}/change/", form)

    assert response.status_code == 302
    photo.refresh_from_db()
    assert photo.alt_text_en == "Cacao beans fermenting in wooden boxes"
    assert media_files(media) == before


@pytest.mark.django_db
def test_admin_inline_delete_removes_row_and_files(staff_client, media, django_capture_on_commit_callbacks):
    photo = FarmPhotoFactory()
    form = farm_change_data(staff_client, photo.farm)
    form["photos-0-DELETE"] = "on"

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(f"/admin/farms/farm/{photo.farm.pk}/change/", form)

    assert response.status_code == 302
    assert FarmPhoto.objects.count() == 0
    assert media_files(media) == []


@pytest.mark.django_db
def test_admin_inline_replace_file(staff_client, media, django_capture_on_commit_callbacks):
    photo = FarmPhotoFactory()
    old = media_files(media)
    form = farm_change_data(staff_client, photo.farm)
    form["photos-0-upload"] = upload(image_bytes("WEBP", size=(500, 400)), name="new.webp")

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(f"/admin/farms/farm/{photo.farm.pk}/change/", form)

    assert response.status_code == 302
    photo.refresh_from_db()
    assert (photo.width, photo.height) == (500, 400)
    new = media_files(media)
    assert len(new) == 7
    assert set(new).isdisjoint(old)
