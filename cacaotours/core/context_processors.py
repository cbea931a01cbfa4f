from email.utils import parseaddr

from django.conf import settings


def site(request):
    return {
        "SITE_NAME": settings.SITE_NAME,
        # The address travellers write to (the booking flow comes later): reservas@… from DEFAULT_FROM_EMAIL.
        "CONTACT_EMAIL": parseaddr(settings.DEFAULT_FROM_EMAIL)[1],
    }
