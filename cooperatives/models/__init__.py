"""Cooperatives app models.

``directory`` — cooperatives, community funds, memberships: the recipients (bottom layer).
``portal``    — invitations and payout-detail change requests of the leader portal.
``ledger``    — revenue shares, the double-entry ledger, transfers, payouts, the outbox:
                the top layer, which points at bookings (see docs/architecture.md).
"""

from .directory import Certification, CommunityFund, Cooperative, Membership
from .ledger import (
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
from .portal import Invitation, PayoutChangeRequest

__all__ = [
    "Certification",
    "CommunityFund",
    "Cooperative",
    "Invitation",
    "JournalEntry",
    "JournalLeg",
    "LedgerAccount",
    "Membership",
    "OutboxMessage",
    "PayableMonth",
    "PayoutBatch",
    "PayoutChangeRequest",
    "PayoutLine",
    "ReconciliationIssue",
    "ReconciliationRun",
    "Share",
    "ShareTransition",
    "Transfer",
    "TransferReversal",
]
