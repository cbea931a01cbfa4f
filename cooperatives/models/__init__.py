"""Cooperatives app models.

``directory`` — cooperatives, community funds, memberships: the recipients (bottom layer).
``ledger``    — revenue shares, the double-entry ledger, transfers, payouts, the outbox:
                the top layer, which points at bookings (see docs/architecture.md).
"""

from .directory import Certification, CommunityFund, Cooperative, Membership
from .ledger import (
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

__all__ = [
    "Certification",
    "CommunityFund",
    "Cooperative",
    "JournalEntry",
    "JournalLeg",
    "LedgerAccount",
    "Membership",
    "OutboxMessage",
    "PayoutBatch",
    "PayoutLine",
    "ReconciliationIssue",
    "ReconciliationRun",
    "Share",
    "ShareTransition",
    "Transfer",
    "TransferReversal",
]
