"""The cooperative leaders' portal, under ``/portal/`` (English) and ``/es/portal/`` (Spanish).

Paths of an organisation start with ``c/<pk>/`` (a cooperative) or ``f/<pk>/`` (a community
fund); the sub-pages have Spanish names in both languages (``movimientos``, ``estado``…).
"""

from django.urls import path, register_converter

from . import views


class OrganisationKindConverter:
    """``c`` (cooperative) or ``f`` (community fund)."""

    regex = "[cf]"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


class YearMonthConverter:
    """``2026-04`` ↔ ``(2026, 4)``; a month outside 01–12 does not match (404)."""

    regex = r"[0-9]{4}-[0-9]{2}"

    def to_python(self, value: str) -> tuple[int, int]:
        year, month = (int(part) for part in value.split("-"))
        if not 1 <= month <= 12:
            raise ValueError("no such month")
        return year, month

    def to_url(self, value) -> str:
        if isinstance(value, tuple):
            return f"{value[0]:04d}-{value[1]:02d}"
        return str(value)


register_converter(OrganisationKindConverter, "orgkind")
register_converter(YearMonthConverter, "yearmonth")

app_name = "portal"

ORG = "<orgkind:kind>/<int:pk>/"

urlpatterns = [
    path("", views.index, name="index"),
    path("invitation/<str:token>/", views.invitation, name="invitation"),
    path(ORG, views.dashboard, name="dashboard"),
    path(f"{ORG}movimientos/", views.entries, name="entries"),
    path(f"{ORG}visitas/", views.visits, name="visits"),
    path(f"{ORG}pagos/", views.payouts, name="payouts"),
    path(f"{ORG}estado/", views.statement_current, name="statement_current"),
    path(f"{ORG}estado/<yearmonth:period>/", views.statement, name="statement"),
    path(f"{ORG}estado/<yearmonth:period>/csv/", views.statement_csv, name="statement_csv"),
    path(f"{ORG}datos-de-pago/", views.payout_settings, name="payout_settings"),
    path(f"{ORG}datos-de-pago/stripe/", views.stripe_onboarding, name="stripe_onboarding"),
]
