"""Photo uploads: validate with Pillow, re-encode, write renditions.

An upload is never stored as it arrived. It must be a JPEG, PNG or WebP within the byte
and pixel limits (the pixel limit is checked from the header, before decoding, against
decompression bombs); it is decoded, EXIF-rotated, stripped of metadata and re-encoded.
Renditions (thumb, card, hero) are written as WebP and JPEG for ``srcset``.
"""

from __future__ import annotations

import io
import os
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP"}
MASTER_MAX_EDGE = 2400
RENDITIONS = {"thumb": 320, "card": 800, "hero": 1600}


@dataclass(frozen=True)
class CleanImage:
    image: Image.Image
    source_format: str


def validate_photo(upload) -> CleanImage:
    """Return the decoded image of a valid upload, or raise ValidationError (nothing stored)."""
    size = getattr(upload, "size", None)
    if size is None:
        raise ValidationError(_("No file was uploaded."), code="missing")
    if size > settings.PHOTO_MAX_BYTES:
        raise ValidationError(
            _("The photo is %(size)s MB; the limit is %(limit)s MB.")
            % {"size": round(size / 1_048_576, 1), "limit": settings.PHOTO_MAX_BYTES // 1_048_576},
            code="too_large",
        )
    upload.seek(0)
    try:
        with Image.open(upload) as probe:
            fmt = probe.format
            width, height = probe.size
    except Image.DecompressionBombError as exc:
        raise ValidationError(
            _("The photo has too many pixels; the limit is %(mp)s megapixels.")
            % {"mp": settings.PHOTO_MAX_PIXELS // 1_000_000},
            code="too_many_pixels",
        ) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ValidationError(_("This file is not a JPEG, PNG or WebP photo."), code="not_image") from exc
    if fmt not in ALLOWED_FORMATS:
        raise ValidationError(_("Only JPEG, PNG and WebP photos are accepted."), code="bad_format")
    if width * height > settings.PHOTO_MAX_PIXELS:
        raise ValidationError(
            _("The photo is %(w)s×%(h)s pixels; the limit is %(mp)s megapixels.")
            % {"w": width, "h": height, "mp": settings.PHOTO_MAX_PIXELS // 1_000_000},
            code="too_many_pixels",
        )
    if width < 200 or height < 150:
        raise ValidationError(_("The photo is too small: at least 200×150 pixels."), code="too_small")
    upload.seek(0)
    try:
        with Image.open(upload) as source:
            source.load()
            image = ImageOps.exif_transpose(source)
            image = image.convert("RGB") if image.mode != "RGB" else image.copy()
    except (OSError, Image.DecompressionBombError, SyntaxError, ValueError) as exc:
        raise ValidationError(_("The photo could not be read; it may be damaged."), code="corrupt") from exc
    return CleanImage(image=image, source_format=fmt)


def _encode(image: Image.Image, fmt: str) -> bytes:
    buffer = io.BytesIO()
    if fmt == "JPEG":
        image.save(buffer, "JPEG", quality=84, optimize=True, progressive=True)
    else:
        image.save(buffer, "WEBP", quality=80, method=4)
    return buffer.getvalue()


def _fit(image: Image.Image, edge: int) -> Image.Image:
    copy = image.copy()
    copy.thumbnail((edge, edge), Image.Resampling.LANCZOS)
    return copy


def render_photo(clean: CleanImage, *, folder: str) -> tuple[str, int, int, dict]:
    """Write the master JPEG and the renditions; return (master path, width, height, renditions)."""
    stem = uuid.uuid4().hex
    master = _fit(clean.image, MASTER_MAX_EDGE)
    master_path = default_storage.save(os.path.join(folder, f"{stem}.jpg"), ContentFile(_encode(master, "JPEG")))
    renditions = {}
    for name, edge in RENDITIONS.items():
        resized = _fit(master, edge)
        entry = {"width": resized.width, "height": resized.height}
        for fmt, ext in (("JPEG", "jpg"), ("WEBP", "webp")):
            entry[fmt.lower()] = default_storage.save(
                os.path.join(folder, f"{stem}-{name}.{ext}"), ContentFile(_encode(resized, fmt))
            )
        renditions[name] = entry
    return master_path, master.width, master.height, renditions


def delete_rendered(paths: list[str]) -> None:
    for path in paths:
        if path and default_storage.exists(path):
            default_storage.delete(path)


def rendered_paths(photo) -> list[str]:
    paths = [photo.image.name] if photo.image else []
    for entry in (photo.renditions or {}).values():
        paths.extend(entry.get(fmt, "") for fmt in ("jpeg", "webp"))
    return paths


def photo_store(*, photo, upload) -> None:
    """Validate ``upload``, write its files and save ``photo`` (a Photo subclass instance).

    Raises ValidationError before anything is written. If the database save fails, the
    files just written are removed again; an old image that was replaced is removed only
    after the new row has been committed.
    """
    clean = validate_photo(upload)
    folder = f"photos/{photo._meta.model_name}"
    old_paths = rendered_paths(photo) if photo.pk else []
    master_path, width, height, renditions = render_photo(clean, folder=folder)
    photo.image.name = master_path
    photo.width, photo.height, photo.renditions = width, height, renditions
    try:
        with transaction.atomic():
            photo.full_clean(exclude=["image"])
            photo.save()
    except Exception:
        delete_rendered(rendered_paths(photo))
        raise
    if old_paths:
        transaction.on_commit(lambda: delete_rendered(old_paths))
