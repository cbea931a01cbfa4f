"""``manage.py route_shares``: re-run the routing of community shares (docs/operations.md).

    manage.py route_shares KT-7Q4M2X [more references]   route these bookings' shares now, in this process
    manage.py route_shares KT-7Q4M2X --queue             hand them to the Celery workers instead
    manage.py route_shares --sweep                       what beat runs every minute: publish the outbox,
                                                         re-queue shares stuck in pending

Routing acts only where it may (``cooperatives.services.share_route``): a pending share, or an owed
share not yet in a bank batch whose recipient can now receive Stripe transfers. Transferred, paid or
batched shares are left as they are, so running it twice is harmless.
"""

import stripe
from django.core.management.base import BaseCommand, CommandError

from bookings.models import Booking
from cooperatives import services
from cooperatives.models import Share
from cooperatives.tasks import routing_sweep, share_route_task


class Command(BaseCommand):
    help = "Re-run the routing of the community shares of the given bookings (or run the routing sweep)."

    def add_arguments(self, parser):
        parser.add_argument("references", nargs="*", help="booking references (KT-…)")
        parser.add_argument("--queue", action="store_true", help="enqueue Celery tasks instead of routing here")
        parser.add_argument("--sweep", action="store_true", help="publish the outbox and re-queue stuck shares")

    def handle(self, *args, references, queue, sweep, **options):
        if not references and not sweep:
            raise CommandError("Give booking references, or --sweep.")
        if sweep:
            result = routing_sweep()
            self.stdout.write(
                f"sweep: {result['relayed']} outbox rows published, {result['requeued']} shares re-queued"
            )
        failures = 0
        for reference in references:
            booking = Booking.objects.filter(reference=reference.strip().upper()).first()
            if booking is None:
                raise CommandError(f"No booking {reference}.")
            shares = list(booking.shares.order_by("id"))
            if not shares:
                self.stdout.write(f"{booking.reference}: no shares (not paid, or the tour has no share rules)")
            for share in shares:
                failures += self._route(booking, share, queue=queue)
        if failures:
            raise CommandError(f"{failures} share(s) could not be routed; see above. Run again to retry.")

    def _route(self, booking, share: Share, *, queue: bool) -> int:
        label = f"{booking.reference} share #{share.pk} {share.recipient} {share.amount} {share.currency}"
        retry_owed = share.status == Share.Status.OWED
        if queue:
            share_route_task.delay(share.pk, retry_owed=retry_owed)
            self.stdout.write(f"{label}: queued ({share.status})")
            return 0
        try:
            routed = services.share_route(share_id=share.pk, retry_owed=retry_owed)
        except (services.LedgerError, stripe.StripeError) as exc:
            self.stderr.write(f"{label}: failed: {exc}")
            return 1
        note = f" — {routed.attention_reason}" if routed.needs_attention else ""
        self.stdout.write(f"{label}: {share.status} → {routed.status} ({routed.rail or 'no rail'}){note}")
        return 0
