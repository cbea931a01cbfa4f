"""The procedural demo pictures: valid JPEGs of the asked size, deterministic per seed.

Pure Pillow, no database and no Django settings; runs with ``-p no:django`` too.
"""

import io

import pytest
from PIL import Image

from cacaotours.core import demo_images


@pytest.fixture(autouse=True)
def media():
    """Shadow the Django-backed autouse fixtures of tests/conftest.py: nothing here needs them."""
    return None


@pytest.fixture(autouse=True)
def _clear_cache():
    yield


def _open(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()  # decodes the whole file, so a truncated JPEG fails here
    return image


@pytest.mark.parametrize("kind", demo_images.KINDS)
def test_each_kind_is_a_jpeg_of_the_requested_size(kind):
    image = _open(demo_images.generate(kind, seed=3, width=480, height=300))

    assert image.format == "JPEG"
    assert image.mode == "RGB"
    assert image.size == (480, 300)
    lo, hi = image.convert("L").getextrema()
    assert hi - lo > 60  # an actual picture, not a flat fill


def test_default_size_is_1600_by_1000():
    image = _open(demo_images.generate("valley"))

    assert image.size == (1600, 1000)


@pytest.mark.parametrize("size", [(200, 150), (300, 480), (257, 257)])
def test_other_aspect_ratios(size):
    assert _open(demo_images.generate("cacao_pod", 1, *size)).size == size


def test_same_seed_gives_identical_bytes():
    first = demo_images.generate("chocolate", 7, 320, 200)
    again = demo_images.generate("chocolate", 7, 320, 200)

    assert first == again


def test_different_seeds_give_different_pictures():
    a = demo_images.generate("market", 1, 320, 200)
    b = demo_images.generate("market", 2, 320, 200)

    assert a != b


def test_kinds_differ_for_the_same_seed():
    assert demo_images.generate("river", 5, 240, 160) != demo_images.generate("lodge", 5, 240, 160)


def test_unknown_kind_raises_value_error():
    with pytest.raises(ValueError, match="unknown demo image kind"):
        demo_images.generate("volcano", 1)


def test_kinds_are_the_documented_twelve():
    assert demo_images.KINDS == (
        "valley",
        "cloud_forest",
        "cacao_pod",
        "cacao_tree",
        "fermentation",
        "drying",
        "chocolate",
        "coffee",
        "lodge",
        "river",
        "market",
        "hands",
    )
