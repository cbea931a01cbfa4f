"""Celery tasks of the revenue-share ledger: thin, idempotent, keyed by primary keys."""

from datetime import timedelta

import stripe
from celery import shared_task
from django.conf import settings
from django.utils import timezone

from . import services

RETRYABLE = (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError)


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=RETRYABLE,
    retry_backoff=2,
    retry_backoff_max=120,
    retry_jitter=True,
    max_retries=12,
)
def share_route_task(self, share_id: int, retry_owed: bool = False) -> str:
    return services.share_route(share_id=share_id, retry_owed=retry_owed).status


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=RETRYABLE,
    retry_backoff=2,
    retry_backoff_max=120,
    retry_jitter=True,
    max_retries=12,
)
def transfer_reversal_task(self, reversal_id: int) -> str:
    return services.transfer_reversal_execute(reversal_id=reversal_id).status


@shared_task(acks_late=True)
def outbox_relay_task() -> int:
    return services.outbox_relay()


@shared_task
def routing_sweep(older_than_minutes: float = 10) -> dict:
    """Periodic: publish what the outbox still holds, re-enqueue shares stuck in pending and
    transfer reversals never made (their tasks were lost)."""
    return {
        "relayed": services.outbox_relay(),
        "requeued": services.shares_sweep(older_than_minutes=older_than_minutes),
        "reversals_requeued": services.transfer_reversals_sweep(older_than_minutes=older_than_minutes),
    }


@shared_task
def ledger_reconcile(days: int | None = None) -> int:
    """Daily: reconcile the bookings whose ledger moved in the last LEDGER_RECONCILE_DAYS days
    (``days=0``: all of them) with Stripe, and re-check the invariants over the whole ledger."""
    days = settings.LEDGER_RECONCILE_DAYS if days is None else days
    since = timezone.now() - timedelta(days=days) if days else None
    return services.reconcile(since=since).issue_count
