"""Booking fixtures: the loopback Stripe server, a bookable departure, bookings in each state.

E-mail templates: where ``templates/bookings/email/<name>`` is not written yet, a minimal
stand-in (reference, tour, language) is served from a temporary directory placed *after*
the real template directories, so the real templates win as soon as they exist.
"""

from pathlib import Path

import pytest
from django.conf import settings as django_settings

from bookings.models import Booking
from tests.bookings.helpers import hold, save_details, starts_in
from tests.factories import DepartureFactory, TourFactory, UserFactory
from tests.stripe_server import StripeServer

EMAIL_TEMPLATES = ("confirmation", "reminder", "cancellation", "late_payment")
STANDIN_SUBJECT = "[{kind}] {{{{ booking.reference }}}} · {{{{ tour.title }}}}"
STANDIN_TEXT = "{kind}\nReference: {{{{ booking.reference }}}}\nTour: {{{{ tour.title }}}}\n"
STANDIN_HTML = "<p>{kind}</p><p>Reference: <strong>{{{{ booking.reference }}}}</strong></p>"


@pytest.fixture(scope="session")
def _email_standins(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("email-standins")
    real = Path(django_settings.BASE_DIR) / "templates"
    folder = root / "bookings" / "email"
    folder.mkdir(parents=True)
    for kind in EMAIL_TEMPLATES:
        for suffix, text in (("_subject.txt", STANDIN_SUBJECT), (".txt", STANDIN_TEXT), (".html", STANDIN_HTML)):
            name = f"{kind}{suffix}"
            if not (real / "bookings" / "email" / name).exists():
                (folder / name).write_text(text.format(kind=kind))
    return root


@pytest.fixture(autouse=True)
def _email_templates(settings, _email_standins):
    templates = [dict(engine) for engine in settings.TEMPLATES]
    templates[0]["DIRS"] = [*templates[0]["DIRS"], _email_standins]
    settings.TEMPLATES = templates


@pytest.fixture(autouse=True)
def _simulated_checkout(settings):
    """Tests start on the simulated checkout; the ``stripe_server`` fixture switches to Stripe."""
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_API_BASE = ""
    settings.STRIPE_WEBHOOK_SECRET = "whsec_test"
    settings.SIMULATED_CHECKOUT = True
    settings.BOOKING_HOLD_MINUTES = 15


@pytest.fixture
def stripe_server(settings, monkeypatch):
    """A Stripe-shaped server on 127.0.0.1 that stripe-python (via bookings.gateway) talks to.

    stripe-python's retry back-off (0.5 s minimum per retry) is cut to 10 ms so that the
    fault-injection tests stay fast; everything else about its retries is unchanged.
    """
    from stripe._http_client import HTTPClient

    monkeypatch.setattr(HTTPClient, "INITIAL_DELAY", 0.01)
    monkeypatch.setattr(HTTPClient, "MAX_DELAY", 0.05)
    server = StripeServer().start()
    settings.STRIPE_API_BASE = server.url
    settings.STRIPE_SECRET_KEY = "sk_test_fake"
    settings.STRIPE_WEBHOOK_SECRET = "whsec_test"
    settings.SIMULATED_CHECKOUT = False
    yield server
    server.stop()


# -- the catalog side --------------------------------------------------------------------


@pytest.fixture
def traveller(db):
    return UserFactory(email="rosa@example.com", first_name="Rosa", last_name="Quispe", phone="+51 984 000 111")


@pytest.fixture
def tour(db):
    return TourFactory(
        title_en="Quillabamba Cacao Day",
        title_es="Día del Cacao en Quillabamba",
        currency="PEN",
        adult_price=35000,
        child_price=17500,
        max_group=8,
        meeting_point_en="Plaza de Armas, Quillabamba",
    )


@pytest.fixture
def departure(tour):
    return DepartureFactory(tour=tour, starts_at=starts_in(30), capacity=10)


# -- bookings in each state -------------------------------------------------------------


@pytest.fixture
def held_booking(departure, traveller) -> Booking:
    return hold(departure, traveller, adults=2, children=1)


@pytest.fixture
def ready_booking(held_booking) -> Booking:
    """Held, with every traveller's details: ready for the checkout."""
    return save_details(held_booking)
