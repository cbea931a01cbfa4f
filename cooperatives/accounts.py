"""allauth's account adapter: where people land after signing in, and in which language they are told."""

from urllib.parse import urlsplit

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.utils import translation

from . import portal_selectors

SIGNED_IN_MESSAGE = "account/messages/logged_in.txt"


class AccountAdapter(DefaultAccountAdapter):
    def get_login_redirect_url(self, request):
        """Cooperative and fund members go to their portal (Spanish first, like every way in),
        everyone else to My bookings.

        allauth asks only when the sign-in carries no ``next``: a link that sent the person to
        sign in (a booking, an invitation) still wins.
        """
        portal = portal_selectors.portal_home_url(request.user)
        if portal is None:
            return super().get_login_redirect_url(request)
        from .views import portal_landing_url

        return portal_landing_url(request, portal)

    def add_message(self, request, level, message_template=None, message_context=None, extra_tags="", message=None):
        """The "signed in as …" message is shown on the page the person lands on: written in that page's
        language (a leader who signs in on the English sign-in page lands on the Spanish portal)."""
        if message_template != SIGNED_IN_MESSAGE or not request.user.is_authenticated:
            return super().add_message(request, level, message_template, message_context, extra_tags, message)
        landing = request.POST.get("next") or request.GET.get("next") or self.get_login_redirect_url(request)
        language = translation.get_language_from_path(urlsplit(landing).path) or settings.LANGUAGE_CODE
        with translation.override(language):
            return super().add_message(request, level, message_template, message_context, extra_tags, message)
