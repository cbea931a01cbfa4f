"""What the flows start from, made with factories and services (never through the browser).

One tour on one route, hosted by a farm of a cooperative, with 15% / 10% / 5% community shares
(cooperative, reforestation fund, farm: all paid by bank, since there is no Stripe here), and one
departure ten days ahead, inside the tour's 50% refund window (full refund from 14 days).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time

from allauth.account.models import EmailAddress

from bookings import services as booking_services
from bookings.models import Booking
from cacaotours.core.models import PayoutMethod
from tests.bookings.helpers import checkout, hold, save_details, starts_in
from tests.factories import (
    CommunityFundFactory,
    CooperativeFactory,
    DepartureFactory,
    FarmFactory,
    ItineraryStopFactory,
    RouteFactory,
    ShareRuleFactory,
    TourFactory,
    UserFactory,
)
from tours.models import Departure, Tour

PASSWORD = "cacao-e2e-2026"
BANK = {"payout_method": PayoutMethod.BANK_TRANSFER, "bank_name": "BCP"}


@dataclass
class Catalog:
    route: object
    tour: Tour
    departure: Departure
    cooperative: object
    fund: object
    farm: object


def catalog() -> Catalog:
    cooperative = CooperativeFactory(
        name_en="Quillabamba Cacao Cooperative",
        name_es="Cooperativa Cacaotera de Quillabamba",
        slug="quillabamba",
        bank_account_holder="Cooperativa Cacaotera de Quillabamba",
        bank_cci="00219300123456789012",
        **BANK,
    )
    fund = CommunityFundFactory(
        name_en="Cloud-forest reforestation fund",
        name_es="Fondo de reforestación",
        slug="reforestation",
        cooperative=cooperative,
        bank_account_holder="Asociación Fondo de Reforestación",
        bank_cci="00219300123456789013",
        **BANK,
    )
    farm = FarmFactory(
        name_en="Don Manuel's farm",
        name_es="Finca de Don Manuel",
        slug="don-manuel",
        cooperative=cooperative,
        bank_account_holder="Manuel Huamán Quispe",
        bank_cci="00310400987654321098",
        **BANK,
    )
    route = RouteFactory(name_en="Convención Valley", name_es="Valle de La Convención", slug="convencion")
    tour = TourFactory(
        route=route,
        title_en="Quillabamba Cacao Day",
        title_es="Día del Cacao en Quillabamba",
        slug="quillabamba-cacao-day",
        adult_price=35000,
        child_price=17500,
        max_group=8,
        is_featured=True,
    )
    ItineraryStopFactory(tour=tour, farm=farm, day=1, order=1, time=time(9, 0))
    ItineraryStopFactory(
        tour=tour, farm=farm, day=1, order=2, time=time(13, 0), title_en="Roast and grind", title_es="Tostado"
    )
    ShareRuleFactory(tour=tour, cooperative=cooperative, basis_points=1500)
    ShareRuleFactory(tour=tour, cooperative=None, fund=fund, basis_points=1000, purpose_en="Native trees")
    ShareRuleFactory(tour=tour, cooperative=None, farm=farm, basis_points=500, purpose_en="The host family")
    departure = DepartureFactory(tour=tour, starts_at=starts_in(10), capacity=10)
    return Catalog(route, tour, departure, cooperative, fund, farm)


def person(email: str, *, first_name="Rosa", last_name="Quispe", **extra):
    """A user who can sign in with ``PASSWORD`` (verified e-mail address, as after sign-up)."""
    user = UserFactory(email=email, first_name=first_name, last_name=last_name, password=PASSWORD, **extra)
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    return user


def paid_booking(departure: Departure, user, *, adults: int = 2, children: int = 0) -> Booking:
    """Held, with the travellers' details, paid through the simulated checkout (shares routed eagerly)."""
    booking = save_details(hold(departure, user, adults=adults, children=children))
    payment = checkout(booking)
    booking_services.simulated_checkout_complete(payment=payment, outcome="pay")
    return Booking.objects.get(pk=booking.pk)
