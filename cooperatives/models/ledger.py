"""Revenue shares and the double-entry ledger (see docs/ledger.md).

Amounts are integer minor units. A journal leg's ``amount`` is signed: debit positive,
credit negative; the legs of every entry sum to zero per currency (checked when posting,
by a PostgreSQL constraint trigger, and by the daily check task). Posted entries are never
edited: corrections are new entries (PostgreSQL triggers refuse UPDATE and DELETE).
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from cacaotours.core.models import TimeStamped, exactly_one_of
from cacaotours.core.money import CURRENCY_CHOICES, Money


class RecipientFields(models.Model):
    """A revenue-share recipient: one cooperative, one community fund or one host farm."""

    cooperative = models.ForeignKey(
        "cooperatives.Cooperative",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("cooperative"),
    )
    fund = models.ForeignKey(
        "cooperatives.CommunityFund",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("community fund"),
    )
    farm = models.ForeignKey(
        "farms.Farm", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("farm")
    )

    class Meta:
        abstract = True

    @property
    def recipient(self):
        return self.cooperative or self.fund or self.farm

    @property
    def recipient_kind(self) -> str:
        if self.cooperative_id:
            return "cooperative"
        if self.fund_id:
            return "fund"
        return "farm" if self.farm_id else ""

    @property
    def recipient_id(self) -> int | None:
        return self.cooperative_id or self.fund_id or self.farm_id

    @staticmethod
    def exactly_one_recipient(name: str) -> models.CheckConstraint:
        return models.CheckConstraint(
            condition=exactly_one_of("cooperative", "fund", "farm"),
            name=name,
        )


class LedgerAccount(RecipientFields):
    class Kind(models.TextChoices):
        CLEARING = "clearing", _("Stripe clearing (asset)")
        BANK = "bank", _("Operator bank account (asset)")
        REVENUE = "revenue", _("Operator revenue")
        FEES = "fees", _("Payment processing fees (expense)")
        PAYABLE = "payable", _("Owed to recipient (liability; positive balance = recipient owes us)")

    key = models.CharField(_("key"), max_length=80, unique=True, editable=False)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCY_CHOICES)
    name = models.CharField(_("name"), max_length=200)

    class Meta:
        ordering = ("kind", "currency", "name")
        verbose_name = _("ledger account")
        verbose_name_plural = _("ledger accounts")
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(kind="payable") & (Q(cooperative__isnull=False) | Q(fund__isnull=False) | Q(farm__isnull=False))
                )
                | (~Q(kind="payable") & Q(cooperative__isnull=True, fund__isnull=True, farm__isnull=True)),
                name="ledger_account_payable_has_recipient",
            )
        ]

    def __str__(self):
        return f"{self.name} ({self.currency})"


class JournalEntry(models.Model):
    class Kind(models.TextChoices):
        SPLIT = "split", _("Payment split")
        FEE = "fee", _("Processing fee")
        TRANSFER = "transfer", _("Stripe transfer to recipient")
        TRANSFER_REVERSAL = "transfer_reversal", _("Stripe transfer reversal")
        REFUND = "refund", _("Refund to traveller")
        BANK_PAYOUT = "bank_payout", _("Bank payout to recipient")
        CORRECTION = "correction", _("Correction")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    booking = models.ForeignKey(
        "bookings.Booking",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="journal_entries",
        verbose_name=_("booking"),
    )
    memo = models.CharField(_("memo"), max_length=300)
    idempotency_key = models.CharField(_("idempotency key"), max_length=120, unique=True)
    posted_at = models.DateTimeField(_("posted at"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ("posted_at", "id")
        verbose_name = _("journal entry")
        verbose_name_plural = _("journal entries")

    def __str__(self):
        return f"#{self.pk} {self.get_kind_display()}: {self.memo}"


class JournalLeg(models.Model):
    entry = models.ForeignKey(JournalEntry, on_delete=models.PROTECT, related_name="legs", verbose_name=_("entry"))
    account = models.ForeignKey(
        LedgerAccount, on_delete=models.PROTECT, related_name="legs", verbose_name=_("ledger account")
    )
    amount = models.BigIntegerField(_("amount"), help_text=_("Minor units; debit positive, credit negative."))
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCY_CHOICES)
    share = models.ForeignKey(
        "cooperatives.Share",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="legs",
        verbose_name=_("share"),
    )

    class Meta:
        ordering = ("entry", "id")
        verbose_name = _("journal leg")
        verbose_name_plural = _("journal legs")
        constraints = [models.CheckConstraint(condition=~Q(amount=0), name="journal_leg_not_zero")]
        indexes = [models.Index(fields=["account", "entry"])]

    def __str__(self):
        return f"{self.account} {Money(self.amount, self.currency)}"


class PayableMonth(models.Model):
    """The legs of one payable account summed per currency, entry kind and Lima calendar month.

    Written by the database only, never by the code: a trigger on the legs (migration
    cooperatives/0010) adds every inserted leg on a payable account to its row in the same
    statement, so in any transaction the totals equal the sum of the legs it can see. Legs are
    never changed or deleted (PostgreSQL refuses it), so inserts are all it has to follow. The
    leader portal's dashboard reads these few rows instead of every leg (docs/ledger.md).
    """

    account = models.ForeignKey(
        LedgerAccount,
        on_delete=models.PROTECT,
        related_name="months",
        db_index=False,  # the unique constraint's index starts with the account
        verbose_name=_("ledger account"),
    )
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCY_CHOICES)
    kind = models.CharField(_("entry kind"), max_length=20, choices=JournalEntry.Kind.choices)
    month = models.DateField(_("month"), help_text=_("First day of the calendar month in Lima."))
    amount = models.BigIntegerField(_("amount"), help_text=_("Minor units; sum of the legs (debit positive)."))
    legs = models.PositiveIntegerField(_("legs"))

    class Meta:
        ordering = ("account", "month", "kind")
        verbose_name = _("monthly payable total")
        verbose_name_plural = _("monthly payable totals")
        constraints = [
            models.UniqueConstraint(fields=["account", "currency", "kind", "month"], name="payable_month_unique")
        ]

    def __str__(self):
        return f"{self.account} {self.month:%Y-%m} {self.kind}: {Money(self.amount, self.currency)}"


class Share(RecipientFields, TimeStamped):
    """One recipient's part of one payment. ``amount`` never changes; reversals accumulate."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to be routed")
        TRANSFERRED = "transferred", _("Transferred by Stripe")
        OWED = "owed", _("Owed (bank transfer)")
        PAID = "paid", _("Paid by bank transfer")
        REVERSED = "reversed", _("Reversed")

    class Rail(models.TextChoices):
        STRIPE = "stripe", _("Stripe Connect")
        BANK = "bank", _("Bank transfer")

    booking = models.ForeignKey(
        "bookings.Booking", on_delete=models.PROTECT, related_name="shares", verbose_name=_("booking")
    )
    payment = models.ForeignKey(
        "bookings.Payment", on_delete=models.PROTECT, related_name="shares", verbose_name=_("payment")
    )
    key = models.CharField(_("key"), max_length=80, unique=True, editable=False)
    basis_points = models.PositiveSmallIntegerField(_("basis points"))
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCY_CHOICES)
    amount = models.PositiveIntegerField(_("amount (minor units)"))
    amount_reversed = models.PositiveIntegerField(_("amount reversed (minor units)"), default=0)
    amount_netted = models.PositiveIntegerField(
        _("amount netted (minor units)"),
        default=0,
        help_text=_("Kept back against what the recipient owed us (earlier reversals)."),
    )
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PENDING, db_index=True)
    rail = models.CharField(_("rail"), max_length=10, choices=Rail.choices, blank=True)
    needs_attention = models.BooleanField(_("needs attention"), default=False, db_index=True)
    attention_reason = models.CharField(_("attention reason"), max_length=300, blank=True)
    payout_line = models.ForeignKey(
        "cooperatives.PayoutLine",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="shares",
        verbose_name=_("payout line"),
    )
    # When the routing sweeper last re-enqueued this share (its task was lost): the sweeper leaves
    # it alone for a while after that. Not a change of the share: ``updated_at`` stays as it was.
    requeued_at = models.DateTimeField(_("re-enqueued at"), null=True, blank=True, editable=False)

    class Meta:
        ordering = ("-created_at", "id")
        verbose_name = _("revenue share")
        verbose_name_plural = _("revenue shares")
        constraints = [
            RecipientFields.exactly_one_recipient("share_exactly_one_recipient"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="share_amount_positive"),
            models.CheckConstraint(condition=Q(amount_reversed__lte=F("amount")), name="share_reversed_le_amount"),
            models.CheckConstraint(condition=Q(amount_netted__lte=F("amount")), name="share_netted_le_amount"),
        ]
        indexes = [
            models.Index(fields=["cooperative", "status"]),
            models.Index(fields=["fund", "status"]),
            models.Index(fields=["farm", "status"]),
        ]
        permissions = [
            ("retry_transfer", _("Can retry the routing of a share (Stripe transfer)")),
            ("resolve_attention", _("Can mark a share's attention resolved")),
            ("split_payment", _("Can split a payment again after its split was refused")),
        ]

    def __str__(self):
        return f"{self.booking_id} → {self.recipient} {Money(self.amount, self.currency)}"

    @property
    def remaining(self) -> int:
        return self.amount - self.amount_reversed


class ShareTransition(models.Model):
    share = models.ForeignKey(Share, on_delete=models.CASCADE, related_name="transitions", verbose_name=_("share"))
    from_status = models.CharField(_("from status"), max_length=20, choices=Share.Status.choices, blank=True)
    to_status = models.CharField(_("to status"), max_length=20, choices=Share.Status.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, verbose_name=_("actor")
    )
    reason = models.CharField(_("reason"), max_length=300)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ("created_at", "id")
        verbose_name = _("share transition")
        verbose_name_plural = _("share transitions")

    def __str__(self):
        return f"{self.share_id}: {self.from_status} → {self.to_status}"


class Transfer(models.Model):
    """At most one Stripe transfer per share: the local guard against paying twice."""

    class Status(models.TextChoices):
        STARTED = "started", _("Started")
        CREATED = "created", _("Created at Stripe")
        FAILED = "failed", _("Refused by Stripe")

    share = models.OneToOneField(Share, on_delete=models.PROTECT, related_name="transfer", verbose_name=_("share"))
    amount = models.PositiveIntegerField(_("amount (minor units)"))
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCY_CHOICES)
    destination = models.CharField(_("destination"), max_length=64)
    idempotency_key = models.CharField(_("idempotency key"), max_length=100, unique=True)
    stripe_transfer_id = models.CharField(_("Stripe transfer ID"), max_length=255, unique=True, null=True, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.STARTED)
    error = models.CharField(_("error"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ("-created_at",)
        verbose_name = _("transfer")
        verbose_name_plural = _("transfers")
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="transfer_amount_positive")]

    def __str__(self):
        return self.stripe_transfer_id or _("transfer for share %(share)s") % {"share": self.share_id}


class TransferReversal(models.Model):
    class Status(models.TextChoices):
        STARTED = "started", _("Started")
        CREATED = "created", _("Reversed at Stripe")
        FAILED = "failed", _("Failed: kept as a receivable")

    transfer = models.ForeignKey(
        Transfer, on_delete=models.PROTECT, related_name="reversals", verbose_name=_("transfer")
    )
    amount = models.PositiveIntegerField(_("amount (minor units)"))
    idempotency_key = models.CharField(_("idempotency key"), max_length=100, unique=True)
    stripe_reversal_id = models.CharField(_("Stripe reversal ID"), max_length=255, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.STARTED)
    error = models.CharField(_("error"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ("-created_at",)
        verbose_name = _("transfer reversal")
        verbose_name_plural = _("transfer reversals")

    def __str__(self):
        return self.stripe_reversal_id or _("reversal of transfer %(transfer)s") % {"transfer": self.transfer_id}


class OutboxMessage(models.Model):
    """Work written in the same transaction as the change that causes it; a relay publishes it."""

    topic = models.CharField(_("topic"), max_length=60)
    payload = models.JSONField(_("payload"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)

    class Meta:
        ordering = ("id",)
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox messages")
        indexes = [models.Index(fields=["id"], condition=Q(published_at__isnull=True), name="outbox_unpublished")]

    def __str__(self):
        return f"{self.topic} {self.payload}"


class PayoutBatch(TimeStamped):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        EXPORTED = "exported", _("Exported to the bank")
        PAID = "paid", _("All lines paid")

    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCY_CHOICES)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.DRAFT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, verbose_name=_("created by")
    )
    exported_at = models.DateTimeField(_("exported at"), null=True, blank=True)

    class Meta:
        ordering = ("-created_at",)
        verbose_name = _("payout batch")
        verbose_name_plural = _("payout batches")
        permissions = [("manage_payouts", _("Can create, export and mark paid bank payout batches"))]

    def __str__(self):
        return f"#{self.pk} {self.currency} {self.get_status_display()}"


class PayoutLine(RecipientFields):
    batch = models.ForeignKey(PayoutBatch, on_delete=models.PROTECT, related_name="lines", verbose_name=_("batch"))
    amount = models.PositiveIntegerField(_("amount (minor units)"))
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCY_CHOICES)
    bank_name = models.CharField(_("bank"), max_length=80)
    bank_account_holder = models.CharField(_("account holder"), max_length=120)
    bank_cci = models.CharField(_("CCI"), max_length=20)
    bank_reference = models.CharField(_("bank reference"), max_length=120, blank=True)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)

    class Meta:
        ordering = ("batch", "id")
        verbose_name = _("payout line")
        verbose_name_plural = _("payout lines")
        constraints = [
            RecipientFields.exactly_one_recipient("payout_line_exactly_one_recipient"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="payout_line_amount_positive"),
            models.CheckConstraint(
                condition=Q(paid_at__isnull=True) | ~Q(bank_reference=""), name="payout_line_paid_has_reference"
            ),
        ]

    def __str__(self):
        return f"{self.recipient} {Money(self.amount, self.currency)}"


class ReconciliationRun(models.Model):
    started_at = models.DateTimeField(_("started at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    bookings_checked = models.PositiveIntegerField(_("bookings checked"), default=0)
    issue_count = models.PositiveIntegerField(_("issues"), default=0)

    class Meta:
        ordering = ("-started_at",)
        verbose_name = _("reconciliation run")
        verbose_name_plural = _("reconciliation runs")
        permissions = [("run_reconciliation", _("Can run the ledger reconciliation"))]

    def __str__(self):
        return _("reconciliation %(started)s") % {"started": f"{self.started_at:%Y-%m-%d %H:%M}"}


class ReconciliationIssue(models.Model):
    class Kind(models.TextChoices):
        MISSING_AT_STRIPE = "missing_at_stripe", _("Transfer in the ledger, missing at Stripe")
        MISSING_IN_LEDGER = "missing_in_ledger", _("Transfer at Stripe, missing in the ledger")
        AMOUNT_MISMATCH = "amount_mismatch", _("Amounts differ")
        REVERSAL_MISMATCH = "reversal_mismatch", _("Reversed amounts differ")
        FEE_MISMATCH = "fee_mismatch", _("Fee differs from the balance transaction")
        UNBALANCED_ENTRY = "unbalanced_entry", _("Journal entry does not sum to zero")
        BOOKING_EQUATION = "booking_equation", _("Shares + revenue + fees ≠ captured − refunded")
        PAYABLE_MONTH_MISMATCH = "payable_month_mismatch", _("Monthly payable total differs from its legs")

    run = models.ForeignKey(ReconciliationRun, on_delete=models.CASCADE, related_name="issues", verbose_name=_("run"))
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    booking = models.ForeignKey(
        "bookings.Booking", on_delete=models.SET_NULL, null=True, blank=True, verbose_name=_("booking")
    )
    detail = models.CharField(_("detail"), max_length=500)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("resolved by"),
    )
    resolution = models.CharField(_("resolution"), max_length=500, blank=True)

    class Meta:
        ordering = ("run", "id")
        verbose_name = _("reconciliation issue")
        verbose_name_plural = _("reconciliation issues")
        permissions = [("resolve_reconciliationissue", _("Can resolve a reconciliation issue"))]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.detail}"
