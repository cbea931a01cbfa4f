"""The Spanish UI catalog: complete, compiled from the current .po, and used at /es/.

The .po is parsed with a few lines of Python (no polib, no gettext tools on CI); the committed
.mo is read with the standard library's ``gettext.GNUTranslations``.
"""

import gettext
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

from tests.factories import DepartureFactory, FarmFactory, ItineraryStopFactory, TourFactory

LOCALE_DIR = Path(settings.BASE_DIR) / "locale" / "es" / "LC_MESSAGES"
PO_PATH = LOCALE_DIR / "django.po"
MO_PATH = LOCALE_DIR / "django.mo"

PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]|%[sd]|\{[a-z_]*\}")
HTML_TAG = re.compile(r"</?([a-z]+)")


# -- a small .po reader -------------------------------------------------------------------


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: list[str] = field(default_factory=list)
    flags: set[str] = field(default_factory=set)
    obsolete: bool = False


def _unquote(text: str) -> str:
    escapes = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}
    return re.sub(r"\\(.)", lambda m: escapes[m.group(1)], text.strip()[1:-1])


def read_po(path: Path) -> list[Entry]:
    entries = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        entry, key = Entry(), None
        for line in block.splitlines():
            if line.startswith("#~"):
                entry.obsolete = True
            elif line.startswith("#,"):
                entry.flags |= {flag.strip() for flag in line[2:].split(",")}
            elif line.startswith("#") or not line.strip():
                continue
            elif line.startswith('"'):
                value = _unquote(line)
                if key.startswith("msgstr"):
                    entry.msgstr[-1] += value
                else:
                    setattr(entry, key, getattr(entry, key) + value)
            else:
                key, _, rest = line.partition(" ")
                if key.startswith("msgstr"):
                    entry.msgstr.append(_unquote(rest))
                else:
                    setattr(entry, key, _unquote(rest))
        if key is not None:
            entries.append(entry)
    return entries


@pytest.fixture(scope="module")
def po_entries() -> list[Entry]:
    return [entry for entry in read_po(PO_PATH) if entry.msgid]


@pytest.fixture(scope="module")
def catalog() -> gettext.GNUTranslations:
    with MO_PATH.open("rb") as handle:
        return gettext.GNUTranslations(handle)


# -- the catalog ----------------------------------------------------------------------------


def test_po_has_many_entries_and_a_spanish_header(po_entries):
    header = read_po(PO_PATH)[0]
    assert header.msgid == ""
    assert "fuzzy" not in header.flags
    assert "Language: es\n" in header.msgstr[0]
    assert "charset=UTF-8" in header.msgstr[0]
    assert len(po_entries) > 400


def test_every_entry_is_translated_and_none_is_fuzzy(po_entries):
    fuzzy = [entry.msgid for entry in po_entries if "fuzzy" in entry.flags]
    untranslated = [entry.msgid for entry in po_entries if not entry.msgstr or not all(entry.msgstr)]
    obsolete = [entry.msgid for entry in po_entries if entry.obsolete]
    assert fuzzy == []
    assert untranslated == []
    assert obsolete == []


def test_plural_entries_fill_every_spanish_plural_form(po_entries):
    plurals = [entry for entry in po_entries if entry.msgid_plural is not None]
    assert plurals
    for entry in plurals:
        assert len(entry.msgstr) == 3, entry.msgid


def test_placeholders_and_html_are_kept(po_entries):
    for entry in po_entries:
        sources = [entry.msgid] if entry.msgid_plural is None else [entry.msgid_plural]
        for translated in entry.msgstr:
            expected = sorted(PLACEHOLDER.findall(sources[0]))
            if entry.msgid_plural is not None:
                # The singular form may leave out the counter ("1 día"), never add one.
                assert set(PLACEHOLDER.findall(translated)) <= set(expected), entry.msgid
            else:
                assert sorted(PLACEHOLDER.findall(translated)) == expected, entry.msgid
            assert sorted(HTML_TAG.findall(translated)) == sorted(HTML_TAG.findall(sources[0])), entry.msgid
            if "python-format" in entry.flags:
                assert translated.count("%%") == sources[0].count("%%"), entry.msgid


def test_the_committed_mo_is_compiled_from_the_current_po(po_entries, catalog):
    for entry in po_entries:
        if entry.msgid_plural is None:
            found = catalog.pgettext(entry.msgctxt, entry.msgid) if entry.msgctxt else catalog.gettext(entry.msgid)
            assert found == entry.msgstr[0], entry.msgid
        else:
            assert catalog.ngettext(entry.msgid, entry.msgid_plural, 1) == entry.msgstr[0], entry.msgid
            assert catalog.ngettext(entry.msgid, entry.msgid_plural, 5) == entry.msgstr[2], entry.msgid


@pytest.mark.parametrize(
    ("english", "spanish"),
    [
        ("Itinerary", "Itinerario"),
        ("Where your money goes", "Dónde va su dinero"),
        ("Routes", "Rutas"),
        ("Cooperatives", "Cooperativas"),
        ("Community fund", "Fondo comunal"),
        ("account holder", "titular de la cuenta"),
        ("Upcoming departures", "Próximas salidas"),
        ("Fermentation", "Fermentación"),
        ("Drying", "Secado"),
        ("Roasting", "Tostado"),
        ("booking", "reserva"),
        ("departure", "salida"),
    ],
)
def test_key_strings(catalog, english, spanish):
    assert catalog.gettext(english) == spanish


def test_plural_forms(catalog):
    assert catalog.ngettext("%(seats)s seat left", "%(seats)s seats left", 1) % {"seats": 1} == "Queda 1 cupo"
    assert catalog.ngettext("%(seats)s seat left", "%(seats)s seats left", 4) % {"seats": 4} == "Quedan 4 cupos"
    assert catalog.ngettext("%(count)s hour", "%(count)s hours", 8) % {"count": 8} == "8 horas"


def test_django_uses_the_catalog():
    with translation.override("es"):
        assert translation.gettext("Where your money goes") == "Dónde va su dinero"
        assert translation.ngettext("%(counter)s tour", "%(counter)s tours", 3) % {"counter": 3} == "3 tours"
    with translation.override("en"):
        assert translation.gettext("Where your money goes") == "Where your money goes"


# -- pages at /es/ --------------------------------------------------------------------------


@pytest.mark.django_db
def test_home_page_in_spanish(client):
    response = client.get("/es/")
    assert response.status_code == 200
    content = response.content.decode()
    assert '<html lang="es">' in content
    for text in ("Rutas del cacao de Cusco", "Saltar al contenido principal", "Dónde va su dinero", "Cooperativas"):
        assert text in content
    assert "Where your money goes" not in content


@pytest.mark.django_db
def test_home_page_in_english_is_untouched(client):
    content = client.get("/").content.decode()
    assert "Where your money goes" in content
    assert "Dónde va su dinero" not in content


@pytest.mark.django_db
def test_tour_page_in_spanish(client):
    tour = TourFactory(slug="cacao-day", title_en="Cacao day", title_es="Día del cacao")
    ItineraryStopFactory(tour=tour, farm=FarmFactory())
    DepartureFactory(tour=tour, capacity=10)

    response = client.get("/es/tours/cacao-day/")

    assert response.status_code == 200
    content = response.content.decode()
    for text in ("Día del cacao", "Itinerario", "Próximas salidas", "Punto de encuentro", "Política de cancelación"):
        assert text in content
    assert "Itinerary" not in content


@pytest.mark.django_db
def test_sign_in_page_in_spanish(client):
    response = client.get("/es/accounts/login/")

    assert response.status_code == 200
    content = response.content.decode()
    assert "Iniciar sesión" in content
    assert "Sign in" not in content
