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
import functools
import io
import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, Q, Sum
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _

from bookings import gateway
from bookings.models import Booking, Payment
from cacaotours.core.csv_export import csv_safe
from cacaotours.core.models import PayoutMethod
from cacaotours.core.money import Money, allocate, basis_points_split
from cacaotours.core.sql import sql_insert, sql_update
from tours.models import ShareRule

from .models import (
    JournalEntry,
    JournalLeg,
    LedgerAccount,
    OutboxMessage,
    PayableMonth,
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


# Ledger accounts never change once created (key, kind, currency and recipient are fixed), so
# each process remembers key → account once it has seen the row committed (``on_commit``: an
# account created in a transaction that rolls back is never remembered). Tests that commit
# and then flush the tables clear it with ``ledger_accounts_forget``.
_ACCOUNTS: dict[str, LedgerAccount] = {}


def ledger_accounts_forget() -> None:
    _ACCOUNTS.clear()


def ledger_account(*, kind: str, currency: str, recipient=None) -> LedgerAccount:
    """The account for ``kind`` (and recipient) in ``currency``, created on first use."""
    if (kind == K.PAYABLE) != (recipient is not None):
        raise LedgerError("payable accounts (and only they) belong to a recipient")
    extra = _recipient_kwargs(recipient) if recipient is not None else {}
    suffix = f":{next(iter(extra))}:{recipient.pk}" if extra else ""
    key = f"{kind}:{currency}{suffix}"
    account = _ACCOUNTS.get(key)
    if account is not None:
        return account
    account = LedgerAccount.objects.filter(key=key).first()
    if account is None:
        name = str(recipient) if recipient is not None else str(K(kind).label)
        try:
            with transaction.atomic():
                account = LedgerAccount.objects.create(key=key, kind=kind, currency=currency, name=name, **extra)
        except IntegrityError:
            account = LedgerAccount.objects.get(key=key)
    transaction.on_commit(lambda: _ACCOUNTS.setdefault(key, account))
    return account


@dataclass(frozen=True)
class Leg:
    account: LedgerAccount
    amount: int
    share: Share | None = None


def journal_post(
    *, kind: str, memo: str, idempotency_key: str, legs: list[Leg], booking=None, booking_id=None, first_post=False
) -> JournalEntry | None:
    """Post a balanced entry once. Returns None if ``idempotency_key`` was already posted.

    Refuses (LedgerError) an entry whose legs do not sum to zero per currency. Zero legs are
    dropped. Must run inside the caller's transaction. ``first_post``: the caller holds a lock
    that guarantees the key is new (the look-up is skipped; the unique key still guards it).
    """
    legs = [leg for leg in legs if leg.amount != 0]
    if not legs:
        return None
    totals: dict[str, int] = defaultdict(int)
    for leg in legs:
        totals[leg.account.currency] += leg.amount
    if any(totals.values()):
        raise LedgerError(f"unbalanced entry {idempotency_key}: {dict(totals)}")
    if not first_post and JournalEntry.objects.filter(idempotency_key=idempotency_key).exists():
        return None
    if booking is not None:
        booking_id = booking.pk
    entry = JournalEntry(kind=kind, memo=memo[:300], idempotency_key=idempotency_key, booking_id=booking_id)
    # Plain prepared statements (cacaotours.core.sql): this runs in every routing task.
    sql_insert(entry)
    sql_insert(
        *(
            JournalLeg(
                entry=entry,
                account_id=leg.account.pk,
                amount=leg.amount,
                currency=leg.account.currency,
                share_id=leg.share.pk if leg.share is not None else None,
            )
            for leg in legs
        )
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
    # Plain prepared statements (cacaotours.core.sql): every routed share passes through here.
    sql_update(share, {"status", "updated_at", *fields})
    sql_insert(ShareTransition(share=share, from_status=previous, to_status=to, actor=actor, reason=reason[:300]))


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


def shares_split_again(*, booking: Booking, actor) -> list[Share]:
    """Staff: split a confirmed payment whose split was refused at confirmation (its tour's rules
    were over 100%), once the rules are fixed. Refused, nothing written, while they still are."""
    from bookings.models import PaymentStatus

    with transaction.atomic():
        payment = (
            Payment.objects.select_for_update()
            .filter(booking=booking, status__in=(PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED))
            .order_by("id")
            .first()
        )
        if payment is None:
            raise LedgerError(_("This booking has no captured payment to split."))
        if JournalEntry.objects.filter(idempotency_key=f"split:{payment.pk}").exists():
            raise LedgerError(_("This booking's payment is already split."))
        if payment.amount_refunded:
            raise LedgerError(_("Part of this payment was refunded before it was split: correct the ledger by hand."))
        total = sum(ShareRule.objects.filter(tour_id=booking.departure.tour_id).values_list("basis_points", flat=True))
        if total > 10_000:
            raise LedgerError(
                _("The share rules of this tour still add up to %(total)s%%: fix them first.")
                % {"total": f"{total / 100:g}"}
            )
        shares = shares_split_on_capture(booking=booking, payment=payment)
        logger.info("payment %s split again by %s: %s shares", payment.pk, actor, len(shares))
    return shares


def payment_fee_post(*, payment: Payment, fee: int, currency: str) -> JournalEntry | None:
    """Stripe's processing fee, from the charge's balance transaction (hook, same transaction).

    ``LEDGER_STRIPE_FEE_BORNE_BY``: ``operator`` (the default) books it all as the operator's
    expense; ``shared`` splits it in proportion to the split's parts (largest remainder) and
    charges each recipient's part to its payable, so that the recipient's transfer or bank
    line is smaller by that much (a share already routed leaves a receivable, netted later).
    """
    if fee <= 0:
        return None
    if currency != payment.currency:
        logger.warning("fee of payment %s is in %s, payment in %s: not posted", payment.pk, currency, payment.currency)
        return None
    recipient_legs = []
    operator_fee = fee
    if settings.LEDGER_STRIPE_FEE_BORNE_BY == "shared":
        shares = list(
            Share.objects.filter(payment=payment).select_related("cooperative", "fund", "farm").order_by("id")
        )
        split_revenue = -sum(
            JournalLeg.objects.filter(
                entry__idempotency_key=f"split:{payment.pk}", account__kind=K.REVENUE
            ).values_list("amount", flat=True)
        )
        if shares and split_revenue >= 0:
            *parts, operator_fee = allocate(fee, [share.amount for share in shares] + [split_revenue])
            recipient_legs = [
                Leg(ledger_account(kind=K.PAYABLE, currency=currency, recipient=share.recipient), part, share)
                for share, part in zip(shares, parts, strict=True)
            ]
    legs = [
        Leg(ledger_account(kind=K.FEES, currency=currency), operator_fee),
        *recipient_legs,
        Leg(ledger_account(kind=K.CLEARING, currency=currency), -fee),
    ]
    return journal_post(
        kind=E.FEE,
        booking=payment.booking,
        memo=f"{payment.booking.reference}: Stripe fee",
        idempotency_key=f"fee:{payment.pk}",
        legs=legs,
    )


# -- routing --------------------------------------------------------------------------------------


def payable_balance(*, recipient, currency: str) -> int:
    """Signed balance of a recipient's payable account: negative = we owe them.

    Read from the account's monthly totals (``PayableMonth``, kept by a trigger in the same
    statement as the legs): a few rows, where summing the legs grows with the recipient's history.
    """
    from django.db import connection

    account = ledger_account(kind=K.PAYABLE, currency=currency, recipient=recipient)
    with connection.cursor() as cursor:
        cursor.execute(_balance_sql(), [account.pk])
        return int(cursor.fetchone()[0])


@functools.cache
def _balance_sql() -> str:
    from django.db import connection

    from .models import PayableMonth

    q = connection.ops.quote_name
    table = q(PayableMonth._meta.db_table)
    return f"SELECT COALESCE(SUM({q('amount')}), 0) FROM {table} WHERE {q('account_id')} = %s"  # noqa: S608


@functools.cache
def _balance_after_reversals_sql(recipient_field: str) -> str:
    from django.db import connection

    q = connection.ops.quote_name
    from .models import PayableMonth

    months, reversals = q(PayableMonth._meta.db_table), q(TransferReversal._meta.db_table)
    transfers, shares = q(Transfer._meta.db_table), q(Share._meta.db_table)
    column = q(Share._meta.get_field(recipient_field).column)
    # Only names from the models' metadata go into the text; the values are parameters.
    return (
        f"SELECT COALESCE((SELECT SUM(m.{q('amount')}) FROM {months} m WHERE m.{q('account_id')} = %s), 0) "  # noqa: S608
        f"- COALESCE((SELECT SUM(r.{q('amount')}) FROM {reversals} r "
        f"INNER JOIN {transfers} t ON t.{q('id')} = r.{q('transfer_id')} "
        f"INNER JOIN {shares} s ON s.{q('id')} = t.{q('share_id')} "
        f"WHERE r.{q('status')} = %s AND t.{q('currency')} = %s AND s.{column} = %s), 0)"
    )


def payable_balance_after_reversals(*, recipient, currency: str) -> int:
    """The payable balance as it will be once the transfer reversals still on their way are made.

    A refund of a transferred share debits the recipient's payable at once (they owe us) and
    queues a Stripe transfer reversal that recovers it; until the reversal is made, that
    receivable must not also be netted against the recipient's next share, or it is recovered
    twice. One statement: the legs and the reversals' status are read in the same snapshot.
    """
    from django.db import connection

    account = ledger_account(kind=K.PAYABLE, currency=currency, recipient=recipient)
    [(field, obj)] = _recipient_kwargs(recipient).items()
    with connection.cursor() as cursor:
        cursor.execute(
            _balance_after_reversals_sql(field), [account.pk, TransferReversal.Status.STARTED, currency, obj.pk]
        )
        return int(cursor.fetchone()[0])


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


# What routing reads of a share, in ONE statement: the share, its recipient's payout fields,
# the booking's reference, the payment's charge and the share's Transfer row (if any). Plain
# SQL built once from the models' metadata: compiling the equivalent select_related/only
# queryset cost ~1.8 ms of CPU per call, more than the rest of the statement's work.
_SHARE_COLUMNS = (
    "id", "status", "currency", "amount", "amount_reversed", "amount_netted", "rail", "payout_line",
    "needs_attention", "booking", "payment", "cooperative", "fund", "farm",
)  # fmt: skip
_TRANSFER_COLUMNS = ("id", "share", "amount", "currency", "destination", "idempotency_key", "stripe_transfer_id",
                     "status", "created_at")  # fmt: skip
_PAYOUT_COLUMNS = ("id", "payout_method", "stripe_account_id", "stripe_transfers_enabled")


@functools.cache
def _in_field_order(model, names: tuple[str, ...]) -> tuple[str, ...]:
    """``names`` in the model's concrete-field order, as ``Model.from_db`` expects values."""
    order = {f.name: i for i, f in enumerate(model._meta.concrete_fields)}
    return tuple(sorted(names, key=order.__getitem__))


@functools.cache
def _row_plan(model, names: tuple[str, ...]) -> tuple[list[str], list]:
    """(attnames, per-column converter or None) to build ``model`` from raw column values the way
    the ORM would (SQLite gives text timestamps and 0/1 booleans; PostgreSQL needs nothing)."""
    from django.db import connection

    attnames, converters = [], []
    for name in _in_field_order(model, names):
        field = model._meta.get_field(name)
        attnames.append(field.attname)
        expression = field.get_col(model._meta.db_table)
        steps = connection.ops.get_db_converters(expression) + field.get_db_converters(connection)
        converters.append(
            (lambda value, steps=steps, e=expression: functools.reduce(lambda v, f: f(v, e, connection), steps, value))
            if steps
            else None
        )
    return attnames, converters


@functools.cache
def _routing_sql(lock: bool) -> str:
    from django.db import connection

    from farms.models import Farm

    from .models import CommunityFund, Cooperative

    q = connection.ops.quote_name

    def cols(alias, model, names):
        return [f"{alias}.{q(model._meta.get_field(n).column)}" for n in _in_field_order(model, tuple(names))]

    recipients = (("c", Cooperative, "cooperative"), ("f", CommunityFund, "fund"), ("fa", Farm, "farm"))
    select = [
        *cols("s", Share, _SHARE_COLUMNS),
        *cols("b", Booking, ["reference"]),
        *cols("p", Payment, ["charge_id"]),
        *cols("t", Transfer, _TRANSFER_COLUMNS),
    ]
    joins = [
        f"INNER JOIN {q(Booking._meta.db_table)} b ON b.{q('id')} = s.{q('booking_id')}",
        f"INNER JOIN {q(Payment._meta.db_table)} p ON p.{q('id')} = s.{q('payment_id')}",
        f"LEFT OUTER JOIN {q(Transfer._meta.db_table)} t ON t.{q('share_id')} = s.{q('id')}",
    ]
    for alias, model, field in recipients:
        select += cols(alias, model, _PAYOUT_COLUMNS)
        joins.append(f"LEFT OUTER JOIN {q(model._meta.db_table)} {alias} ON {alias}.{q('id')} = s.{q(field + '_id')}")
    # Only names from the models' metadata go into the text; the share id is a parameter.
    sql = f"SELECT {', '.join(select)} FROM {q(Share._meta.db_table)} s {' '.join(joins)} WHERE s.{q('id')} = %s"  # noqa: S608
    if lock and connection.features.has_select_for_update_of:
        sql += " FOR UPDATE OF s"  # the share row only: the outer-joined rows cannot be locked
    return sql


def _share_for_routing(share_id: int, *, lock: bool = True) -> Share:
    """The share (locked), with its booking's reference, payment's charge, recipient's payout
    fields and Transfer row attached as the ORM would attach them (other fields load lazily)."""
    from django.db import connection

    from farms.models import Farm

    from .models import CommunityFund, Cooperative

    with connection.cursor() as cursor:
        cursor.execute(_routing_sql(lock), [share_id])
        row = cursor.fetchone()
    if row is None:
        raise Share.DoesNotExist(f"share {share_id}")
    db = connection.alias
    values = iter(row)

    def take(n):
        return [next(values) for _ in range(n)]

    def build(model, names):
        attnames, converters = _row_plan(model, names)
        raw = take(len(attnames))
        if raw[0] is None:
            return None  # no such related row (outer join)
        values = [v if convert is None else convert(v) for v, convert in zip(raw, converters, strict=True)]
        return model.from_db(db, attnames, values)

    share = build(Share, _SHARE_COLUMNS)
    booking = Booking.from_db(db, ("id", "reference"), [share.booking_id, *take(1)])
    payment = Payment.from_db(db, ("id", "charge_id"), [share.payment_id, *take(1)])
    Share.booking.field.set_cached_value(share, booking)
    Share.payment.field.set_cached_value(share, payment)
    Share.transfer.related.set_cached_value(share, build(Transfer, _TRANSFER_COLUMNS))
    for model, field in ((Cooperative, "cooperative"), (CommunityFund, "fund"), (Farm, "farm")):
        recipient = build(model, _PAYOUT_COLUMNS)
        if recipient is not None:
            getattr(Share, field).field.set_cached_value(share, recipient)
    return share


def _share_transfer(share: Share) -> Transfer | None:
    try:
        return share.transfer
    except Transfer.DoesNotExist:
        return None


_CHARGE_FIRST = object()  # share_route: look up the payment's charge before deciding the transfer


def share_route(*, share_id: int, retry_owed: bool = False, charge_looked_up: bool = False) -> Share:
    """Route one share: a Stripe transfer when the recipient can receive one, else owed (bank).

    Safe to run any number of times (Celery redelivery, the sweeper): it acts only from
    PENDING, and the Transfer row (one per share, unique) is written before Stripe is
    called, with an idempotency key derived from the share. If the worker dies after the
    call, the next run first looks for the transfer at Stripe (by transfer group and share
    metadata) before calling again, so even a forgotten idempotency key cannot pay twice.
    Network errors, 429 and 5xx propagate for the task to retry with backoff.

    A payment whose charge is not known yet has it looked up first (that also posts Stripe's
    fee, which may be shared with the recipients: LEDGER_STRIPE_FEE_BORNE_BY), then routing
    starts again, so the transfer is net of everything the recipient owes at that moment.
    """
    with transaction.atomic():
        share = _share_for_routing(share_id)
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
        transfer = _share_transfer(share)
        if transfer is not None and transfer.status == Transfer.Status.FAILED:
            # Stripe refused before (and saved that answer under the old key): try with a new key.
            attempt = transfer.idempotency_key.rsplit("-r", 1)
            n = int(attempt[1]) + 1 if len(attempt) == 2 and attempt[1].isdigit() else 2
            transfer.idempotency_key = f"share-transfer-{share.pk}-r{n}"
            transfer.status = Transfer.Status.STARTED
            transfer.destination = recipient.stripe_account_id
            transfer.error = ""
            transfer.save(update_fields=["idempotency_key", "status", "destination", "error", "updated_at"])
        if transfer is None and not share.payment.charge_id and not charge_looked_up:
            transfer = _CHARGE_FIRST
        elif transfer is None:
            receivable = max(0, payable_balance(recipient=recipient, currency=share.currency) + share.remaining)
            if receivable:  # rare: the recipient owes us; not what reversals on their way will recover
                balance = payable_balance_after_reversals(recipient=recipient, currency=share.currency)
                receivable = max(0, balance + share.remaining)
            netted = min(receivable, share.remaining)
            amount = share.remaining - netted
            if netted:
                share.amount_netted = netted
                share.save(update_fields=["amount_netted", "updated_at"])
            if amount <= 0:
                share.rail = Share.Rail.STRIPE
                _share_move(share, S.TRANSFERRED, "netted against what the recipient owed", fields=["rail"])
                return share
            transfer = Transfer(
                share=share,
                amount=amount,
                currency=share.currency,
                destination=recipient.stripe_account_id,
                idempotency_key=f"share-transfer-{share.pk}",
            )
            sql_insert(transfer)
        reference = share.booking.reference
        payment = share.payment
    if transfer is _CHARGE_FIRST:
        from bookings.services import payment_charge_record

        payment_charge_record(payment_id=payment.pk)
        return share_route(share_id=share_id, retry_owed=retry_owed, charge_looked_up=True)
    stripe_id = transfer.stripe_transfer_id or _transfer_found_at_stripe(transfer, reference)
    if not stripe_id:
        rate_limit_stripe()
        try:
            stripe_id = gateway.transfer_create(
                amount=transfer.amount,
                currency=transfer.currency,
                destination=transfer.destination,
                transfer_group=reference,
                source_transaction=payment.charge_id,
                metadata={"share_id": str(share.pk), "booking": reference},
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
        share = _share_for_routing(share_id)
        transfer = share.transfer  # written (under this lock) before Stripe was called
        if share.status not in (S.PENDING, S.OWED) or transfer.status == Transfer.Status.CREATED:
            return share
        transfer.stripe_transfer_id = stripe_transfer_id
        transfer.status = Transfer.Status.CREATED
        sql_update(transfer, ["stripe_transfer_id", "status", "updated_at"])
        currency = share.currency
        payable = ledger_account(kind=K.PAYABLE, currency=currency, recipient=share.recipient)
        journal_post(
            kind=E.TRANSFER,
            booking_id=share.booking_id,
            memo=f"{share.booking.reference}: transfer {stripe_transfer_id} to {payable.name}",
            idempotency_key=f"transfer:{share.pk}",
            legs=[
                Leg(payable, transfer.amount, share),
                Leg(ledger_account(kind=K.CLEARING, currency=currency), -transfer.amount, share),
            ],
            first_post=True,  # the share's lock and its status (checked above) make this the first
        )
        share.rail = Share.Rail.STRIPE
        _share_move(share, S.TRANSFERRED, f"Stripe transfer {stripe_transfer_id}", fields=["rail"])
        return share


def _transfer_refused(*, share_id: int, error: str) -> Share:
    with transaction.atomic():
        share = _share_for_routing(share_id)
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


_rate_client = None  # (pid, redis client): one connection pool per worker process


def _rate_redis():
    global _rate_client
    import os

    if not settings.REDIS_URL:
        return None
    if _rate_client is None or _rate_client[0] != os.getpid() or _rate_client[2] != settings.REDIS_URL:
        import redis

        _rate_client = (os.getpid(), redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2), settings.REDIS_URL)
    return _rate_client[1]


_local_rate: dict[int, int] = {}


def rate_limit_stripe() -> None:
    """Client-side limit of STRIPE_CALLS_PER_SECOND across all workers (a Redis counter per second).

    One round trip per call (INCR and EXPIRE in one pipeline). Without Redis (eager mode) it
    limits this process only; with Redis down it does not block payouts.
    """
    import time

    limit = settings.STRIPE_CALLS_PER_SECOND
    client = _rate_redis()
    while True:
        now = time.time()
        second = int(now)
        if client is None:
            count = _local_rate[second] = _local_rate.get(second, 0) + 1
            for old in [s for s in _local_rate if s < second]:
                del _local_rate[old]
        else:
            try:
                pipe = client.pipeline(transaction=False)
                pipe.incr(f"cacaotours:stripe-rate:{second}")
                pipe.expire(f"cacaotours:stripe-rate:{second}", 5)
                count = pipe.execute()[0]
            except Exception:  # Redis is down: do not block payouts on it
                return
        if count <= limit:
            return
        time.sleep(max(0.0, second + 1 - now))


# -- outbox -------------------------------------------------------------------------------------


def outbox_relay(*, limit: int = 500) -> int:
    """Publish unpublished outbox rows as Celery tasks (after commit; also run by the sweeper).

    Stops at the first row it cannot publish (the broker is down: the sweeper comes back);
    one UPDATE marks the rows it published.
    """
    from .tasks import share_route_task, transfer_reversal_task

    handlers = {
        "share.route": lambda p: share_route_task.delay(p["share_id"]),
        "transfer.reverse": lambda p: transfer_reversal_task.delay(p["reversal_id"]),
    }
    published: list[int] = []
    with transaction.atomic():
        rows = (
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(published_at__isnull=True)
            .order_by("id")
            .values_list("id", "topic", "payload")[:limit]
        )
        for row_id, topic, payload in rows:
            try:
                handlers[topic](payload)
            except Exception:
                logger.warning("could not publish outbox row %s", row_id, exc_info=True)
                OutboxMessage.objects.filter(pk=row_id).update(attempts=F("attempts") + 1)
                break
            published.append(row_id)
        OutboxMessage.objects.filter(pk__in=published).update(published_at=timezone.now(), attempts=F("attempts") + 1)
    return len(published)


def transfer_reversals_sweep(*, older_than_minutes: float = 10) -> int:
    """Re-enqueue transfer reversals still not made after a while: their task was lost (the
    broker lost its data, or the task gave up on a long Stripe outage). The reversal is
    idempotent: it acts only while started, with its own idempotency key."""
    from .tasks import transfer_reversal_task

    cutoff = timezone.now() - timedelta(minutes=older_than_minutes)
    stuck = list(
        TransferReversal.objects.filter(status=TransferReversal.Status.STARTED, created_at__lte=cutoff)
        .order_by("pk")
        .values_list("pk", flat=True)[:1000]
    )
    for reversal_id in stuck:
        transfer_reversal_task.delay(reversal_id)
    return len(stuck)


def shares_sweep(*, older_than_minutes: float = 10) -> int:
    """Re-enqueue shares stuck in PENDING (a lost task, a crashed worker), longest-waiting first.

    A share re-enqueued is stamped ``requeued_at``, and the next runs leave it alone for another
    ``older_than_minutes`` while its task waits in the queue: no pile of copies of one task behind
    a backlog, and the next 1,000 stuck shares get their turn. If publishing fails half-way (the
    broker is down), only the shares actually enqueued are stamped. ``updated_at`` is left as it
    was, so the operations dashboard still lists the share as stuck.
    """
    from .tasks import share_route_task

    cutoff = timezone.now() - timedelta(minutes=older_than_minutes)
    stuck = list(
        Share.objects.filter(status=S.PENDING, updated_at__lte=cutoff)
        .filter(Q(requeued_at__isnull=True) | Q(requeued_at__lte=cutoff))
        .order_by(Coalesce("requeued_at", "updated_at"), "pk")
        .values_list("pk", flat=True)[:1000]
    )
    enqueued: list[int] = []
    try:
        for share_id in stuck:
            share_route_task.delay(share_id)
            enqueued.append(share_id)
    finally:
        if enqueued:
            Share.objects.filter(pk__in=enqueued, status=S.PENDING).update(requeued_at=timezone.now())
    return len(enqueued)


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


def _payable_months_from_legs() -> dict[tuple, tuple[int, int]]:
    """(account, currency, entry kind, Lima month) → (sum, number) of the payable legs (1 query)."""
    lima = ZoneInfo("America/Lima")
    totals = {}
    rows = (
        JournalLeg.objects.filter(account__kind=K.PAYABLE)
        .annotate(month=TruncMonth("entry__posted_at", tzinfo=lima))
        .values("account_id", "currency", "entry__kind", "month")
        .annotate(amount=Sum("amount"), legs=Count("pk"))
        .order_by()
    )
    for row in rows:
        month = row["month"]  # the first instant of the month in Lima
        month = timezone.localtime(month, lima).date() if timezone.is_aware(month) else month.date()
        totals[(row["account_id"], row["currency"], row["entry__kind"], month)] = (row["amount"], row["legs"])
    return totals


def payable_month_mismatches() -> list[str]:
    """Monthly payable totals that differ from the sum of their legs (should always be empty).

    ``PayableMonth`` is kept by a database trigger on the legs (migration cooperatives/0010);
    this recomputes every total from the legs and compares.
    """
    from_legs = _payable_months_from_legs()
    totals = {
        (row["account_id"], row["currency"], row["kind"], row["month"]): (row["amount"], row["legs"])
        for row in PayableMonth.objects.values("account_id", "currency", "kind", "month", "amount", "legs")
    }
    mismatches = []
    for key in sorted(totals.keys() | from_legs.keys()):
        kept, counted = totals.get(key, (0, 0)), from_legs.get(key, (0, 0))
        if kept != counted:
            account_id, currency, kind, month = key
            mismatches.append(
                f"account #{account_id} {currency} {kind} {month:%Y-%m}: total {kept[0]} over {kept[1]} legs, "
                f"the legs sum to {counted[0]} over {counted[1]}"
            )
    return mismatches


def payable_months_rebuild() -> int:
    """Recompute every monthly payable total from the legs (the repair for a payable_month_mismatch).

    On PostgreSQL the legs are locked against inserts (SHARE) until the rebuild commits, so the
    trigger and the rebuild never count a leg twice. Returns the number of totals written.
    """
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"LOCK TABLE {connection.ops.quote_name(JournalLeg._meta.db_table)} IN SHARE MODE")
        PayableMonth.objects.all().delete()
        rows = PayableMonth.objects.bulk_create(
            PayableMonth(account_id=account_id, currency=currency, kind=kind, month=month, amount=amount, legs=legs)
            for (account_id, currency, kind, month), (amount, legs) in _payable_months_from_legs().items()
        )
    logger.warning("monthly payable totals rebuilt from the legs: %s rows", len(rows))
    return len(rows)


def reconcile(*, since=None) -> ReconciliationRun:
    """Compare the ledger with Stripe and re-check the invariants; record every mismatch.

    Per booking with shares (all of them, or those with journal entries posted since ``since``):
    (1) every transfer the ledger has exists at Stripe with the same amount and destination, and
    Stripe has reversed as much of it as the ledger says; (2) every transfer Stripe holds for the
    booking's transfer group is in the ledger; (3) the fee the ledger booked for each charge is
    the fee of the charge's balance transaction; (4) shares + operator revenue = captured −
    refunded. Globally: every journal entry sums to zero per currency, and every monthly payable
    total (the leader portal's figures) equals the sum of its legs.
    """
    run = ReconciliationRun.objects.create()
    issues = []
    kinds = ReconciliationIssue.Kind

    def report(kind, booking, detail: str) -> None:
        issues.append(ReconciliationIssue(run=run, kind=kind, booking=booking, detail=detail))

    for entry_id in ledger_unbalanced_entries():
        report(kinds.UNBALANCED_ENTRY, None, f"journal entry #{entry_id}")
    for mismatch in payable_month_mismatches():
        report(kinds.PAYABLE_MONTH_MISMATCH, None, mismatch)
    bookings = Booking.objects.filter(shares__isnull=False)
    revenue_legs = JournalLeg.objects.filter(account__kind=K.REVENUE, entry__booking__isnull=False)
    if since is not None:
        bookings = bookings.filter(journal_entries__posted_at__gte=since)
        revenue_legs = revenue_legs.filter(entry__booking__in=bookings.values("pk"))
    bookings = bookings.distinct().prefetch_related("payments", "shares")
    # Operator revenue and fees per booking / payment in one query each (not one per booking).
    revenue_by_booking = dict(
        revenue_legs.values("entry__booking_id").annotate(total=Sum("amount")).values_list("entry__booking_id", "total")
    )
    fee_by_key = dict(
        JournalLeg.objects.filter(account__kind=K.CLEARING, entry__kind=E.FEE)
        .values("entry__idempotency_key")
        .annotate(total=Sum("amount"))
        .values_list("entry__idempotency_key", "total")
    )
    reversed_by_transfer = dict(
        TransferReversal.objects.filter(status=TransferReversal.Status.CREATED)
        .values("transfer_id")
        .annotate(total=Sum("amount"))
        .values_list("transfer_id", "total")
    )
    checked = 0
    for booking in bookings.iterator(chunk_size=200):
        checked += 1
        shares = list(booking.shares.all())
        payments = list(booking.payments.all())
        captured = sum(p.amount_received - p.amount_refunded for p in payments)
        revenue = -(revenue_by_booking.get(booking.pk) or 0)
        shares_net = sum(share.remaining for share in shares)
        if shares_net + revenue != captured:
            report(
                kinds.BOOKING_EQUATION,
                booking,
                f"shares {shares_net} + revenue {revenue} != captured − refunded {captured}",
            )
        if not gateway.stripe_enabled():
            continue
        for payment in payments:
            if payment.charge_id.startswith("ch_"):
                rate_limit_stripe()
                fee, _fee_currency = gateway.charge_fee(payment.charge_id)
                booked = -(fee_by_key.get(f"fee:{payment.pk}") or 0)
                if fee != booked:
                    report(
                        kinds.FEE_MISMATCH,
                        booking,
                        f"{payment.charge_id}: ledger fee {booked}, balance transaction fee {fee}",
                    )
        local = {
            t.stripe_transfer_id: t
            for t in Transfer.objects.filter(share__booking=booking, status=Transfer.Status.CREATED)
        }
        if not local and not any(s.rail == Share.Rail.STRIPE for s in shares):
            continue
        rate_limit_stripe()
        remote = {t["id"]: t for t in gateway.transfers_for_group(booking.reference)}
        for transfer_id, transfer in local.items():
            found = remote.get(transfer_id)
            if found is None:
                report(kinds.MISSING_AT_STRIPE, booking, f"{transfer_id} ({Money(transfer.amount, transfer.currency)})")
                continue
            if found["amount"] != transfer.amount or found["destination"] != transfer.destination:
                report(
                    kinds.AMOUNT_MISMATCH,
                    booking,
                    f"{transfer_id}: ledger {transfer.amount} → {transfer.destination}, "
                    f"Stripe {found['amount']} → {found['destination']}",
                )
            reversed_here = reversed_by_transfer.get(transfer.pk) or 0
            if found["amount_reversed"] != reversed_here:
                report(
                    kinds.REVERSAL_MISMATCH,
                    booking,
                    f"{transfer_id}: ledger reversed {reversed_here}, Stripe reversed {found['amount_reversed']}",
                )
        for transfer_id, found in remote.items():
            if transfer_id not in local:
                report(kinds.MISSING_IN_LEDGER, booking, f"{transfer_id} ({found['amount']} {found['currency']})")
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
