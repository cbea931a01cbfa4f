"""Revenue shares: split, ledger, routing, reversals, bank payouts, reconciliation.

Read docs/ledger.md first. Rules of this module:
* every money movement is a balanced journal entry (``journal_post``), never edited;
* the split is written in the same transaction as the booking's confirmation (bookings
  calls ``shares_split_on_capture`` through BOOKING_PAYMENT_CAPTURED_HOOKS), together with
  one outbox row per share; a relay turns outbox rows into Celery tasks;
* Stripe is called outside transactions, with deterministic idempotency keys, and the
  local unique constraints (one Transfer per share) stop a retry from paying twice even
  after Stripe has forgotten the key.
"""

from __future__ import annotations

import csv
import io
import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from bookings import gateway
from bookings.models import Booking, Payment
from cacaotours.core.models import PayoutMethod
from cacaotours.core.money import Money, allocate, basis_points_split
from tours.models import ShareRule

from .models import (
    JournalEntry,
    JournalLeg,
    LedgerAccount,
    OutboxMessage,
    PayoutBatch,
    PayoutLine,
    ReconciliationIssue,
    ReconciliationRun,
    Share,
    ShareTransition,
    Transfer,
    TransferReversal,
)

logger = logging.getLogger(__name__)
S = Share.Status
K = LedgerAccount.Kind
E = JournalEntry.Kind


class LedgerError(Exception):
    """A request that would break the ledger's rules: refused, nothing written."""


# -- accounts and posting ---------------------------------------------------------------------


def _recipient_kwargs(recipient) -> dict:
    from farms.models import Farm

    from .models import CommunityFund, Cooperative

    if isinstance(recipient, Cooperative):
        return {"cooperative": recipient}
    if isinstance(recipient, CommunityFund):
        return {"fund": recipient}
    if isinstance(recipient, Farm):
        return {"farm": recipient}
    raise TypeError(f"not a recipient: {recipient!r}")


def ledger_account(*, kind: str, currency: str, recipient=None) -> LedgerAccount:
    """The account for ``kind`` (and recipient) in ``currency``, created on first use."""
    if (kind == K.PAYABLE) != (recipient is not None):
        raise LedgerError("payable accounts (and only they) belong to a recipient")
    extra = _recipient_kwargs(recipient) if recipient is not None else {}
    suffix = f":{next(iter(extra))}:{recipient.pk}" if extra else ""
    key = f"{kind}:{currency}{suffix}"
    account = LedgerAccount.objects.filter(key=key).first()
    if account is not None:
        return account
    name = str(recipient) if recipient is not None else str(K(kind).label)
    try:
        with transaction.atomic():
            return LedgerAccount.objects.create(key=key, kind=kind, currency=currency, name=name, **extra)
    except IntegrityError:
        return LedgerAccount.objects.get(key=key)


@dataclass(frozen=True)
class Leg:
    account: LedgerAccount
    amount: int
    share: Share | None = None


def journal_post(*, kind: str, memo: str, idempotency_key: str, legs: list[Leg], booking=None) -> JournalEntry | None:
    """Post a balanced entry once. Returns None if ``idempotency_key`` was already posted.

    Refuses (LedgerError) an entry whose legs do not sum to zero per currency. Zero legs are
    dropped. Must run inside the caller's transaction.
    """
    legs = [leg for leg in legs if leg.amount != 0]
    if not legs:
        return None
    totals: dict[str, int] = defaultdict(int)
    for leg in legs:
        totals[leg.account.currency] += leg.amount
    if any(totals.values()):
        raise LedgerError(f"unbalanced entry {idempotency_key}: {dict(totals)}")
    if JournalEntry.objects.filter(idempotency_key=idempotency_key).exists():
        return None
    entry = JournalEntry.objects.create(kind=kind, memo=memo[:300], idempotency_key=idempotency_key, booking=booking)
    JournalLeg.objects.bulk_create(
        JournalLeg(entry=entry, account=leg.account, amount=leg.amount, currency=leg.account.currency, share=leg.share)
        for leg in legs
    )
    return entry


def _share_move(share: Share, to: str, reason: str, actor=None, fields=()) -> None:
    allowed = {
        S.PENDING: {S.TRANSFERRED, S.OWED, S.REVERSED},
        S.OWED: {S.PAID, S.TRANSFERRED, S.REVERSED},
        S.TRANSFERRED: {S.REVERSED},
        S.PAID: {S.REVERSED},
        S.REVERSED: set(),
    }
    if to not in allowed[share.status]:
        raise LedgerError(f"share {share.pk}: {share.status} → {to} is not allowed")
    previous = share.status
    share.status = to
    share.save(update_fields=sorted({"status", "updated_at", *fields}))
    ShareTransition.objects.create(share=share, from_status=previous, to_status=to, actor=actor, reason=reason[:300])


def outbox_add(*, topic: str, payload: dict) -> OutboxMessage:
    """Queue work in the caller's transaction; ``outbox_relay`` publishes it after commit."""
    message = OutboxMessage.objects.create(topic=topic, payload=payload)
    transaction.on_commit(_relay_soon)
    return message


def _relay_soon() -> None:
    from .tasks import outbox_relay_task

    try:
        outbox_relay_task.delay()
    except Exception:  # the broker is down: the periodic sweeper relays later
        logger.warning("outbox relay could not be enqueued; the sweeper will retry", exc_info=True)


# -- the split -----------------------------------------------------------------------------------


def shares_split_on_capture(*, booking: Booking, payment: Payment) -> list[Share]:
    """Split a captured payment by the tour's share rules and post it (hook, same transaction).

    Largest remainder in minor units; the operator keeps the remainder. Idempotent: a
    second call for the same payment returns the existing shares.
    """
    existing = list(Share.objects.filter(payment=payment))
    if existing:
        return existing
    amount = payment.amount_received
    if amount <= 0:
        return []
    if payment.currency != booking.currency:
        raise LedgerError(_("The payment's currency differs from the booking's."))
    rules = list(
        ShareRule.objects.filter(tour_id=booking.departure.tour_id)
        .select_related("cooperative", "fund", "farm")
        .order_by("-basis_points", "id")
    )
    if sum(rule.basis_points for rule in rules) > 10_000:
        # The traveller has paid: confirm the booking and let staff fix the rules, rather
        # than letting a bad rule block (and roll back) the confirmation.
        from bookings.services import booking_flag

        booking_flag(
            booking_id=booking.pk,
            reason=_("Split refused: the share rules of this tour add up to more than 100%. Fix the rules."),
        )
        logger.error("split of payment %s refused: rules over 100%%", payment.pk)
        return []
    parts, operator = basis_points_split(amount, [rule.basis_points for rule in rules])
    currency = payment.currency
    shares = []
    legs = [Leg(ledger_account(kind=K.CLEARING, currency=currency), amount)]
    for rule, part in zip(rules, parts, strict=True):
        if part <= 0:
            continue
        recipient = rule.recipient
        extra = _recipient_kwargs(recipient)
        share = Share.objects.create(
            booking=booking,
            payment=payment,
            key=f"{payment.pk}:{next(iter(extra))}:{recipient.pk}",
            basis_points=rule.basis_points,
            currency=currency,
            amount=part,
            **extra,
        )
        ShareTransition.objects.create(share=share, from_status="", to_status=S.PENDING, reason="split")
        shares.append(share)
        legs.append(Leg(ledger_account(kind=K.PAYABLE, currency=currency, recipient=recipient), -part, share))
    legs.append(Leg(ledger_account(kind=K.REVENUE, currency=currency), -operator))
    journal_post(
        kind=E.SPLIT,
        booking=booking,
        memo=f"{booking.reference}: split of {Money(amount, currency)}",
        idempotency_key=f"split:{payment.pk}",
        legs=legs,
    )
    for share in shares:
        outbox_add(topic="share.route", payload={"share_id": share.pk})
    return shares


def payment_fee_post(*, payment: Payment, fee: int, currency: str) -> JournalEntry | None:
    """Stripe's processing fee, borne by the operator (hook, same transaction as the lookup)."""
    if fee <= 0:
        return None
    if currency != payment.currency:
        logger.warning("fee of payment %s is in %s, payment in %s: not posted", payment.pk, currency, payment.currency)
        return None
    return journal_post(
        kind=E.FEE,
        booking=payment.booking,
        memo=f"{payment.booking.reference}: Stripe fee",
        idempotency_key=f"fee:{payment.pk}",
        legs=[
            Leg(ledger_account(kind=K.FEES, currency=currency), fee),
            Leg(ledger_account(kind=K.CLEARING, currency=currency), -fee),
        ],
    )


# -- routing --------------------------------------------------------------------------------------


def payable_balance(*, recipient, currency: str) -> int:
    """Signed balance of a recipient's payable account: negative = we owe them."""
    account = ledger_account(kind=K.PAYABLE, currency=currency, recipient=recipient)
    return JournalLeg.objects.filter(account=account).aggregate(total=Sum("amount"))["total"] or 0


def _owed(share: Share, reason: str, attention: bool = False) -> Share:
    share.rail = Share.Rail.BANK
    fields = ["rail"]
    if attention:
        share.needs_attention = True
        share.attention_reason = reason[:300]
        fields += ["needs_attention", "attention_reason"]
    _share_move(share, S.OWED, reason, fields=fields)
    return share


def _routable(share: Share, retry_owed: bool) -> bool:
    if share.status == S.PENDING:
        return True
    # Staff retry: an owed share not yet in a bank batch, whose recipient can now take transfers.
    return (
        retry_owed
        and share.status == S.OWED
        and share.payout_line_id is None
        and share.recipient.can_receive_stripe_transfers
    )


def share_route(*, share_id: int, retry_owed: bool = False) -> Share:
    """Route one share: a Stripe transfer when the recipient can receive one, else owed (bank).

    Safe to run any number of times (Celery redelivery, the sweeper): it acts only from
    PENDING, and the Transfer row (one per share, unique) is written before Stripe is
    called, with an idempotency key derived from the share. If the worker dies after the
    call, the next run first looks for the transfer at Stripe (by transfer group and share
    metadata) before calling again, so even a forgotten idempotency key cannot pay twice.
    Network errors, 429 and 5xx propagate for the task to retry with backoff.
    """
    with transaction.atomic():
        share = (
            Share.objects.select_for_update(of=("self",))  # PostgreSQL: no FOR UPDATE on outer-joined rows
            .select_related("cooperative", "fund", "farm", "booking", "payment")
            .get(pk=share_id)
        )
        if not _routable(share, retry_owed):
            return share
        recipient = share.recipient
        if not recipient.can_receive_stripe_transfers:
            if recipient.payout_method == PayoutMethod.BANK_TRANSFER:
                return _owed(share, _("Paid by bank transfer."))
            if recipient.payout_method == PayoutMethod.STRIPE_CONNECT:
                # Re-routed automatically when account.updated says transfers are active.
                return _owed(share, _("Waiting for the recipient's Stripe onboarding: kept as owed."), attention=True)
            return _owed(share, _("No payout method yet: kept as owed."), attention=True)
        transfer = Transfer.objects.filter(share=share).first()
        if transfer is not None and transfer.status == Transfer.Status.FAILED:
            # Stripe refused before (and saved that answer under the old key): try with a new key.
            attempt = transfer.idempotency_key.rsplit("-r", 1)
            n = int(attempt[1]) + 1 if len(attempt) == 2 and attempt[1].isdigit() else 2
            transfer.idempotency_key = f"share-transfer-{share.pk}-r{n}"
            transfer.status = Transfer.Status.STARTED
            transfer.destination = recipient.stripe_account_id
            transfer.error = ""
            transfer.save(update_fields=["idempotency_key", "status", "destination", "error", "updated_at"])
        if transfer is None:
            receivable = max(0, payable_balance(recipient=recipient, currency=share.currency) + share.remaining)
            netted = min(receivable, share.remaining)
            amount = share.remaining - netted
            if netted:
                share.amount_netted = netted
                share.save(update_fields=["amount_netted", "updated_at"])
            if amount <= 0:
                share.rail = Share.Rail.STRIPE
                _share_move(share, S.TRANSFERRED, "netted against what the recipient owed", fields=["rail"])
                return share
            transfer = Transfer.objects.create(
                share=share,
                amount=amount,
                currency=share.currency,
                destination=recipient.stripe_account_id,
                idempotency_key=f"share-transfer-{share.pk}",
            )
        booking = share.booking
        payment = share.payment
    if not payment.charge_id:
        from bookings.services import payment_charge_record

        payment_charge_record(payment_id=payment.pk)
        payment.refresh_from_db(fields=["charge_id"])
    stripe_id = transfer.stripe_transfer_id or _transfer_found_at_stripe(transfer, booking.reference)
    if not stripe_id:
        rate_limit_stripe()
        try:
            stripe_id = gateway.transfer_create(
                amount=transfer.amount,
                currency=transfer.currency,
                destination=transfer.destination,
                transfer_group=booking.reference,
                source_transaction=payment.charge_id,
                metadata={"share_id": str(share.pk), "booking": booking.reference},
                idempotency_key=transfer.idempotency_key,
            )
        except gateway.TransferRefused as exc:
            return _transfer_refused(share_id=share.pk, error=str(exc))
    return _transfer_recorded(share_id=share.pk, stripe_transfer_id=stripe_id)


def share_attention_resolve(*, share_ids: list[int], actor, note: str = "") -> int:
    """Staff looked at these shares: clear the flag and keep who, when and what it was in the history."""
    resolved = 0
    with transaction.atomic():
        for share in Share.objects.select_for_update().filter(pk__in=share_ids, needs_attention=True):
            ShareTransition.objects.create(
                share=share,
                from_status=share.status,
                to_status=share.status,
                actor=actor,
                reason=(f"attention resolved ({share.attention_reason})" + (f": {note}" if note else ""))[:300],
            )
            share.needs_attention = False
            share.save(update_fields=["needs_attention", "updated_at"])
            resolved += 1
    return resolved


def payout_line_reference(line: PayoutLine) -> str:
    """The reference printed in the bank file for a payout line."""
    return f"KALLPA-{line.batch_id}-{line.pk}"


def _transfer_found_at_stripe(transfer: Transfer, reference: str) -> str:
    """A transfer Stripe already holds for this share (after a crash between call and save)."""
    if transfer.status != Transfer.Status.STARTED or transfer.created_at is None:
        return ""
    age = timezone.now() - transfer.created_at
    if age.total_seconds() < 60:
        return ""  # fresh: the idempotency key covers a retry
    rate_limit_stripe()
    for found in gateway.transfers_for_group(reference):
        if found["metadata"].get("share_id") == str(transfer.share_id):
            return found["id"]
    return ""


def _transfer_recorded(*, share_id: int, stripe_transfer_id: str) -> Share:
    with transaction.atomic():
        share = (
            Share.objects.select_for_update(of=("self",))
            .select_related("cooperative", "fund", "farm", "booking")
            .get(pk=share_id)
        )
        transfer = Transfer.objects.select_for_update().get(share=share)
        if share.status not in (S.PENDING, S.OWED) or transfer.status == Transfer.Status.CREATED:
            return share
        transfer.stripe_transfer_id = stripe_transfer_id
        transfer.status = Transfer.Status.CREATED
        transfer.save(update_fields=["stripe_transfer_id", "status", "updated_at"])
        currency = share.currency
        journal_post(
            kind=E.TRANSFER,
            booking=share.booking,
            memo=f"{share.booking.reference}: transfer {stripe_transfer_id} to {share.recipient}",
            idempotency_key=f"transfer:{share.pk}",
            legs=[
                Leg(
                    ledger_account(kind=K.PAYABLE, currency=currency, recipient=share.recipient), transfer.amount, share
                ),
                Leg(ledger_account(kind=K.CLEARING, currency=currency), -transfer.amount, share),
            ],
        )
        share.rail = Share.Rail.STRIPE
        _share_move(share, S.TRANSFERRED, f"Stripe transfer {stripe_transfer_id}", fields=["rail"])
        return share


def _transfer_refused(*, share_id: int, error: str) -> Share:
    with transaction.atomic():
        share = (
            Share.objects.select_for_update(of=("self",)).select_related("cooperative", "fund", "farm").get(pk=share_id)
        )
        Transfer.objects.filter(share=share).update(status=Transfer.Status.FAILED, error=error[:500])
        if share.status != S.PENDING:
            share.needs_attention = True
            share.attention_reason = (_("Stripe refused the transfer again: %(error)s") % {"error": error})[:300]
            share.save(update_fields=["needs_attention", "attention_reason", "updated_at"])
            return share
        return _owed(
            share,
            _("Stripe refused the transfer (%(error)s): moved to the bank rail.") % {"error": error},
            attention=True,
        )


def rate_limit_stripe() -> None:
    """Client-side limit of STRIPE_CALLS_PER_SECOND across all workers (a Redis counter per second).

    Without Redis (eager mode) it limits this process only.
    """
    import time

    limit = settings.STRIPE_CALLS_PER_SECOND
    while True:
        now = time.time()
        second = int(now)
        try:
            from django.core.cache import cache

            key = f"stripe-rate:{second}"
            cache.add(key, 0, timeout=5)
            count = cache.incr(key)
        except Exception:  # the cache is down: do not block payouts on it
            return
        if count <= limit:
            return
        time.sleep(max(0.0, second + 1 - now))


# -- outbox -------------------------------------------------------------------------------------


def outbox_relay(*, limit: int = 500) -> int:
    """Publish unpublished outbox rows as Celery tasks (after commit; also run by the sweeper)."""
    from .tasks import share_route_task, transfer_reversal_task

    handlers = {
        "share.route": lambda p: share_route_task.delay(p["share_id"]),
        "transfer.reverse": lambda p: transfer_reversal_task.delay(p["reversal_id"]),
    }
    published = 0
    with transaction.atomic():
        rows = list(
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(published_at__isnull=True)
            .order_by("id")[:limit]
        )
        for row in rows:
            row.attempts += 1
            try:
                handlers[row.topic](row.payload)
            except Exception:
                logger.warning("could not publish outbox row %s", row.pk, exc_info=True)
                row.save(update_fields=["attempts"])
                break  # the broker is down: stop, the sweeper comes back
            row.published_at = timezone.now()
            row.save(update_fields=["attempts", "published_at"])
            published += 1
    return published


def shares_sweep(*, older_than_minutes: int = 10) -> int:
    """Re-enqueue shares stuck in PENDING (a lost task, a crashed worker)."""
    from .tasks import share_route_task

    cutoff = timezone.now() - timedelta(minutes=older_than_minutes)
    stuck = list(Share.objects.filter(status=S.PENDING, updated_at__lte=cutoff).values_list("pk", flat=True)[:1000])
    for share_id in stuck:
        share_route_task.delay(share_id)
    return len(stuck)


# -- refunds and reversals ----------------------------------------------------------------------


def shares_reverse_on_refund(*, payment: Payment, amount: int, reason: str) -> JournalEntry | None:
    """Reverse a refund of ``amount`` across the shares and the operator, in proportion.

    Hook called in the refund's transaction. Owed shares are reduced; transferred shares get
    a Stripe transfer reversal (via the outbox); a share already paid by bank leaves the
    recipient owing us (a positive payable balance), netted against their future shares.
    """
    if amount <= 0:
        return None
    shares = list(Share.objects.select_for_update().filter(payment=payment).order_by("id"))
    split_legs = list(JournalLeg.objects.filter(entry__idempotency_key=f"split:{payment.pk}").select_related("account"))
    if not split_legs:
        return None  # never split (late payment refunded at once, or a flagged payment)
    # (a split without shares — a tour without rules, or parts too small — is all operator revenue: reverse that)
    operator_part = -sum(leg.amount for leg in split_legs if leg.account.kind == K.REVENUE)
    already = JournalEntry.objects.filter(idempotency_key__startswith=f"refund:{payment.pk}:").count()
    weights = [share.amount for share in shares] + [operator_part]
    captured = sum(weights)
    remaining_by_part = [share.remaining for share in shares]
    # refunds debit revenue: their revenue legs are positive
    operator_refunded = sum(
        leg.amount
        for leg in JournalLeg.objects.filter(
            entry__idempotency_key__startswith=f"refund:{payment.pk}:", account__kind=K.REVENUE
        )
    )
    remaining_by_part.append(operator_part - operator_refunded)
    if amount > sum(remaining_by_part):
        raise LedgerError(_("The refund is more than what remains of the payment."))
    parts = allocate(amount, weights) if amount < captured else list(remaining_by_part)
    # never take more from a part than it still has; move the excess to parts with room
    parts = _cap_parts(parts, remaining_by_part)
    currency = payment.currency
    legs = [Leg(ledger_account(kind=K.CLEARING, currency=currency), -amount)]
    for share, part in zip(shares, parts[:-1], strict=True):
        if part:
            legs.append(Leg(ledger_account(kind=K.PAYABLE, currency=currency, recipient=share.recipient), part, share))
    legs.append(Leg(ledger_account(kind=K.REVENUE, currency=currency), parts[-1]))
    entry = journal_post(
        kind=E.REFUND,
        booking=payment.booking,
        memo=f"{payment.booking.reference}: refund of {Money(amount, currency)} ({reason})",
        idempotency_key=f"refund:{payment.pk}:{already + 1}",
        legs=legs,
    )
    for share, part in zip(shares, parts[:-1], strict=True):
        if not part:
            continue
        share.amount_reversed += part
        fields = ["amount_reversed"]
        if share.status == S.TRANSFERRED:
            transfer = Transfer.objects.filter(share=share, status=Transfer.Status.CREATED).first()
            if transfer is not None:
                n = transfer.reversals.count() + 1
                reversal = TransferReversal.objects.create(
                    transfer=transfer, amount=min(part, transfer.amount), idempotency_key=f"reversal-{transfer.pk}-{n}"
                )
                outbox_add(topic="transfer.reverse", payload={"reversal_id": reversal.pk})
        share.save(update_fields=[*fields, "updated_at"])
        if share.amount_reversed >= share.amount and share.status in (S.PENDING, S.OWED):
            _share_move(share, S.REVERSED, f"refunded: {reason}")
    return entry


def _cap_parts(parts: list[int], room: list[int]) -> list[int]:
    parts = list(parts)
    excess = 0
    for i, (part, limit) in enumerate(zip(parts, room, strict=True)):
        if part > limit:
            excess += part - limit
            parts[i] = limit
    for i in range(len(parts)):
        if not excess:
            break
        take = min(excess, room[i] - parts[i])
        parts[i] += take
        excess -= take
    return parts


def transfer_reversal_execute(*, reversal_id: int) -> TransferReversal:
    """Ask Stripe to reverse part of a transfer; if it cannot, the amount stays a receivable."""
    reversal = TransferReversal.objects.select_related("transfer__share__booking").get(pk=reversal_id)
    if reversal.status != TransferReversal.Status.STARTED:
        return reversal
    transfer = reversal.transfer
    try:
        rate_limit_stripe()
        stripe_id = gateway.transfer_reversal_create(
            transfer_id=transfer.stripe_transfer_id,
            amount=reversal.amount,
            idempotency_key=reversal.idempotency_key,
            metadata={"share_id": str(transfer.share_id)},
        )
    except gateway.TransferRefused as exc:
        with transaction.atomic():
            TransferReversal.objects.filter(pk=reversal_id, status=TransferReversal.Status.STARTED).update(
                status=TransferReversal.Status.FAILED, error=str(exc)[:500]
            )
            Share.objects.filter(pk=transfer.share_id).update(
                needs_attention=True,
                attention_reason=_(
                    "Transfer reversal failed (%(error)s): the recipient owes %(amount)s, netted against future shares."
                )
                % {"error": exc, "amount": Money(reversal.amount, transfer.currency)},
            )
        return TransferReversal.objects.get(pk=reversal_id)
    with transaction.atomic():
        reversal = TransferReversal.objects.select_for_update().get(pk=reversal_id)
        if reversal.status != TransferReversal.Status.STARTED:
            return reversal
        reversal.status = TransferReversal.Status.CREATED
        reversal.stripe_reversal_id = stripe_id
        reversal.save(update_fields=["status", "stripe_reversal_id"])
        share = transfer.share
        journal_post(
            kind=E.TRANSFER_REVERSAL,
            booking=share.booking,
            memo=f"{share.booking.reference}: reversal {stripe_id} from {share.recipient}",
            idempotency_key=f"transfer_reversal:{reversal.pk}",
            legs=[
                Leg(ledger_account(kind=K.CLEARING, currency=transfer.currency), reversal.amount, share),
                Leg(
                    ledger_account(kind=K.PAYABLE, currency=transfer.currency, recipient=share.recipient),
                    -reversal.amount,
                    share,
                ),
            ],
        )
        share = Share.objects.select_for_update().get(pk=share.pk)
        if share.amount_reversed >= share.amount and share.status == S.TRANSFERRED:
            _share_move(share, S.REVERSED, f"transfer reversed ({stripe_id})")
    return reversal


# -- bank payouts ------------------------------------------------------------------------------


def payout_batch_create(*, currency: str, actor=None) -> PayoutBatch:
    """Group every recipient's owed shares (this currency) into one batch line per recipient."""
    with transaction.atomic():
        owed = list(
            Share.objects.select_for_update(of=("self",))
            .filter(status=S.OWED, currency=currency, payout_line__isnull=True)
            .select_related("cooperative", "fund", "farm")
            .order_by("id")
        )
        groups: dict[tuple, list[Share]] = defaultdict(list)
        for share in owed:
            groups[(share.recipient_kind, share.recipient_id)].append(share)
        batch = PayoutBatch.objects.create(currency=currency, created_by=actor)
        lines = 0
        for shares in groups.values():
            recipient = shares[0].recipient
            if recipient.payout_method != PayoutMethod.BANK_TRANSFER or not recipient.bank_cci:
                continue  # no bank details yet: stays owed, shown in the admin queue
            owed_total = sum(share.remaining - share.amount_netted for share in shares)
            # Net what the recipient owes us (a positive part of the payable balance), leaving out
            # shares that are not routed yet: pay what is owed, never more than the ledger owes.
            pending_total = sum(
                s.remaining
                for s in Share.objects.filter(status=S.PENDING, currency=currency, **_recipient_kwargs(recipient))
            )
            ledger_owes = -payable_balance(recipient=recipient, currency=currency) - pending_total
            amount = min(owed_total, max(0, ledger_owes))
            if amount <= 0:
                continue
            line = PayoutLine.objects.create(
                batch=batch,
                amount=amount,
                currency=currency,
                bank_name=recipient.bank_name,
                bank_account_holder=recipient.bank_account_holder,
                bank_cci=recipient.bank_cci,
                **_recipient_kwargs(recipient),
            )
            Share.objects.filter(pk__in=[s.pk for s in shares]).update(payout_line=line)
            lines += 1
        if not lines:
            raise LedgerError(
                _("Nothing is owed in %(currency)s to a recipient with bank details.") % {"currency": currency}
            )
        return batch


def payout_batch_csv(*, batch: PayoutBatch) -> str:
    """The batch as CSV for the bank (cells neutralised against spreadsheet formulas)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["line", "beneficiary", "account_holder", "bank", "cci", "currency", "amount", "reference"])
    for line in batch.lines.select_related("cooperative", "fund", "farm").order_by("id"):
        money = Money(line.amount, line.currency)
        writer.writerow(
            [
                csv_safe(v)
                for v in (
                    line.pk,
                    str(line.recipient),
                    line.bank_account_holder,
                    line.bank_name,
                    line.bank_cci,
                    line.currency,
                    f"{money.to_decimal():.2f}",
                    payout_line_reference(line),
                )
            ]
        )
    return buffer.getvalue()


def csv_safe(value) -> str:
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def payout_batch_mark_exported(*, batch: PayoutBatch, actor=None) -> PayoutBatch:
    with transaction.atomic():
        batch = PayoutBatch.objects.select_for_update().get(pk=batch.pk)
        if batch.status == PayoutBatch.Status.DRAFT:
            batch.status = PayoutBatch.Status.EXPORTED
            batch.exported_at = timezone.now()
            batch.save(update_fields=["status", "exported_at", "updated_at"])
    return batch


def payout_line_mark_paid(*, line_id: int, bank_reference: str, actor=None) -> PayoutLine:
    """Record the bank's reference for a paid line; the ledger records the payout."""
    with transaction.atomic():
        return _payout_line_pay(line_id=line_id, bank_reference=bank_reference, actor=actor)


def payout_batch_mark_paid(*, batch_id: int, references: dict[int, str], actor=None) -> list[PayoutLine]:
    """Mark several lines of one batch paid, each with its bank reference: all of them or none.

    ``references`` maps line ids to references; blank references are skipped (lines not paid yet).
    Refused (LedgerError, nothing written) when no reference is given, a line is not of this batch,
    or a line is already paid.
    """
    given = {line_id: ref.strip() for line_id, ref in references.items() if (ref or "").strip()}
    if not given:
        raise LedgerError(_("Enter the bank's reference of at least one line."))
    with transaction.atomic():
        batch_lines = set(PayoutLine.objects.filter(batch_id=batch_id).values_list("pk", flat=True))
        stray = sorted(set(given) - batch_lines)
        if stray:
            raise LedgerError(_("Line #%(line)s is not in this batch.") % {"line": stray[0]})
        return [
            _payout_line_pay(line_id=line_id, bank_reference=ref, actor=actor) for line_id, ref in sorted(given.items())
        ]


def _payout_line_pay(*, line_id: int, bank_reference: str, actor) -> PayoutLine:
    """Mark one line paid (inside the caller's transaction)."""
    bank_reference = (bank_reference or "").strip()
    if not bank_reference:
        raise LedgerError(_("Enter the bank's reference for this transfer."))
    line = (
        PayoutLine.objects.select_for_update(of=("self",))
        .select_related("batch", "cooperative", "fund", "farm")
        .get(pk=line_id)
    )
    if line.paid_at is not None:
        raise LedgerError(
            _("Line #%(line)s is already marked paid (reference %(ref)s).")
            % {"line": line.pk, "ref": line.bank_reference}
        )
    line.paid_at = timezone.now()
    line.bank_reference = bank_reference[:120]
    line.save(update_fields=["paid_at", "bank_reference"])
    journal_post(
        kind=E.BANK_PAYOUT,
        memo=f"bank payout {bank_reference} to {line.recipient}",
        idempotency_key=f"bank_payout:{line.pk}",
        legs=[
            Leg(ledger_account(kind=K.PAYABLE, currency=line.currency, recipient=line.recipient), line.amount),
            Leg(ledger_account(kind=K.BANK, currency=line.currency), -line.amount),
        ],
    )
    for share in Share.objects.select_for_update().filter(payout_line=line, status=S.OWED):
        _share_move(share, S.PAID, f"bank transfer {bank_reference}", actor=actor)
    batch = line.batch
    if not batch.lines.filter(paid_at__isnull=True).exists():
        PayoutBatch.objects.filter(pk=batch.pk).update(status=PayoutBatch.Status.PAID, updated_at=timezone.now())
    return line


# -- Stripe Connect onboarding -----------------------------------------------------------------


def _recipients_with_account(account_id: str) -> list:
    from farms.models import Farm

    from .models import CommunityFund, Cooperative

    return [
        *Cooperative.objects.filter(stripe_account_id=account_id),
        *CommunityFund.objects.filter(stripe_account_id=account_id),
        *Farm.objects.filter(stripe_account_id=account_id),
    ]


def connected_account_updated(*, obj: dict) -> int:
    """``account.updated``: record whether Stripe can now pay this recipient (transfers active)."""
    account_id = obj.get("id") or ""
    capabilities = obj.get("capabilities") or {}
    enabled = bool(obj.get("payouts_enabled")) and capabilities.get("transfers") == "active"
    updated = 0
    for recipient in _recipients_with_account(account_id):
        if recipient.stripe_transfers_enabled != enabled:
            recipient.stripe_transfers_enabled = enabled
            recipient.save(update_fields=["stripe_transfers_enabled", "updated_at"])
            updated += 1
            if enabled and recipient.can_receive_stripe_transfers:
                _reroute_owed_after_commit(recipient)
    return updated


def _reroute_owed_after_commit(recipient) -> None:
    """Owed shares not yet in a bank batch go by Stripe now that the recipient can receive transfers."""
    from .tasks import share_route_task

    share_ids = list(
        Share.objects.filter(status=S.OWED, payout_line__isnull=True, **_recipient_kwargs(recipient)).values_list(
            "pk", flat=True
        )
    )
    for share_id in share_ids:
        transaction.on_commit(lambda share_id=share_id: share_route_task.delay(share_id, retry_owed=True), robust=True)


def connected_account_onboarding_link(*, recipient, refresh_url: str, return_url: str) -> str:
    """Create the recipient's Express account if needed and return a Stripe Account Link URL."""
    if not gateway.stripe_enabled():
        raise LedgerError(_("Stripe is not configured: onboarding needs STRIPE_SECRET_KEY."))
    if not recipient.stripe_account_id:
        kind = next(iter(_recipient_kwargs(recipient)))
        account_id = gateway.express_account_create(
            email=getattr(recipient, "contact_email", "") or "",
            metadata={"recipient": f"{kind}:{recipient.pk}"},
            idempotency_key=f"express-account-{kind}-{recipient.pk}",
        )
        with transaction.atomic():
            type(recipient).objects.filter(pk=recipient.pk, stripe_account_id="").update(stripe_account_id=account_id)
            recipient.refresh_from_db(fields=["stripe_account_id"])
    return gateway.account_link_create(
        account_id=recipient.stripe_account_id, refresh_url=refresh_url, return_url=return_url
    )


# -- invariants and reconciliation ------------------------------------------------------------------


def ledger_unbalanced_entries() -> list[int]:
    """Entries whose legs do not sum to zero per currency (should always be empty)."""
    return list(
        JournalLeg.objects.values("entry_id", "currency")
        .annotate(total=Sum("amount"))
        .filter(~Q(total=0))
        .values_list("entry_id", flat=True)
    )


def reconcile(*, now=None) -> ReconciliationRun:
    """Compare the ledger with Stripe and re-check the invariants; record every mismatch.

    Per booking with shares: (1) every transfer the ledger has exists at Stripe with the same
    amount and destination; (2) every transfer Stripe holds for the booking's transfer group
    is in the ledger; (3) shares + operator revenue = captured − refunded. Globally: every
    journal entry sums to zero per currency.
    """
    run = ReconciliationRun.objects.create()
    issues = []
    kinds = ReconciliationIssue.Kind
    for entry_id in ledger_unbalanced_entries():
        issues.append(ReconciliationIssue(run=run, kind=kinds.UNBALANCED_ENTRY, detail=f"journal entry #{entry_id}"))
    bookings = Booking.objects.filter(shares__isnull=False).distinct().prefetch_related("payments", "shares")
    # Operator revenue per booking in one query (not one per booking).
    revenue_by_booking = dict(
        JournalLeg.objects.filter(account__kind=K.REVENUE, entry__booking__isnull=False)
        .values("entry__booking_id")
        .annotate(total=Sum("amount"))
        .values_list("entry__booking_id", "total")
    )
    checked = 0
    for booking in bookings.iterator(chunk_size=200):
        checked += 1
        shares = list(booking.shares.all())
        captured = sum(p.amount_received - p.amount_refunded for p in booking.payments.all())
        revenue = -(revenue_by_booking.get(booking.pk) or 0)
        shares_net = sum(share.remaining for share in shares)
        if shares_net + revenue != captured:
            issues.append(
                ReconciliationIssue(
                    run=run,
                    kind=kinds.BOOKING_EQUATION,
                    booking=booking,
                    detail=f"shares {shares_net} + revenue {revenue} != captured − refunded {captured}",
                )
            )
        local = {
            t.stripe_transfer_id: t
            for t in Transfer.objects.filter(share__booking=booking, status=Transfer.Status.CREATED)
        }
        if not local and not any(s.rail == Share.Rail.STRIPE for s in shares):
            continue
        if not gateway.stripe_enabled():
            continue
        rate_limit_stripe()
        remote = {t["id"]: t for t in gateway.transfers_for_group(booking.reference)}
        for transfer_id, transfer in local.items():
            found = remote.get(transfer_id)
            if found is None:
                issues.append(
                    ReconciliationIssue(
                        run=run,
                        kind=kinds.MISSING_AT_STRIPE,
                        booking=booking,
                        detail=f"{transfer_id} ({Money(transfer.amount, transfer.currency)})",
                    )
                )
            elif found["amount"] != transfer.amount or found["destination"] != transfer.destination:
                issues.append(
                    ReconciliationIssue(
                        run=run,
                        kind=kinds.AMOUNT_MISMATCH,
                        booking=booking,
                        detail=f"{transfer_id}: ledger {transfer.amount} → {transfer.destination}, "
                        f"Stripe {found['amount']} → {found['destination']}",
                    )
                )
        for transfer_id, found in remote.items():
            if transfer_id not in local:
                issues.append(
                    ReconciliationIssue(
                        run=run,
                        kind=kinds.MISSING_IN_LEDGER,
                        booking=booking,
                        detail=f"{transfer_id} ({found['amount']} {found['currency']})",
                    )
                )
    ReconciliationIssue.objects.bulk_create(issues)
    run.bookings_checked = checked
    run.issue_count = len(issues)
    run.finished_at = timezone.now()
    run.save(update_fields=["bookings_checked", "issue_count", "finished_at"])
    return run


def reconciliation_issue_resolve(*, issue_id: int, actor, note: str) -> ReconciliationIssue:
    """Record how staff resolved a reconciliation mismatch: who, when and what was done."""
    note = (note or "").strip()
    if not note:
        raise LedgerError(_("Say how the issue was resolved."))
    with transaction.atomic():
        issue = ReconciliationIssue.objects.select_for_update().get(pk=issue_id)
        if issue.resolved_at is not None:
            raise LedgerError(_("This issue was already resolved."))
        issue.resolved_at = timezone.now()
        issue.resolved_by = actor
        issue.resolution = note[:500]
        issue.save(update_fields=["resolved_at", "resolved_by", "resolution"])
    return issue
