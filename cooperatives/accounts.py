"""allauth's account adapter: where people land after signing in."""

from allauth.account.adapter import DefaultAccountAdapter

from . import portal_selectors


class AccountAdapter(DefaultAccountAdapter):
    def get_login_redirect_url(self, request):
        """Cooperative and fund members go to their portal, everyone else to My bookings.

        allauth asks only when the sign-in carries no ``next``: a link that sent the person to
        sign in (a booking, an invitation) still wins.
        """
        return portal_selectors.portal_home_url(request.user) or super().get_login_redirect_url(request)
