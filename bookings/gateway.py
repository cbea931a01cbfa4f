"""The Stripe boundary: the only module that talks to Stripe (or its simulated stand-in).

With ``STRIPE_SECRET_KEY`` set, stripe-python is used (pointed at ``STRIPE_API_BASE`` when
that is set: the tests' loopback Stripe-shaped server). Without it, and only where
``SIMULATED_CHECKOUT`` is allowed (DEBUG / tests), a built-in simulated checkout stands in
for Stripe's hosted page and feeds the same event handling as a real webhook.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import urllib.request
from dataclasses import dataclass

import requests
import stripe
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse

WEBHOOK_TOLERANCE_SECONDS = 300


@dataclass(frozen=True)
class CheckoutSession:
    id: str
    url: str


def stripe_enabled() -> bool:
    return bool(settings.STRIPE_SECRET_KEY)


def _client() -> stripe.StripeClient:
    """One client per process and configuration: its HTTP sessions (one per thread) keep their
    connections to Stripe alive between calls instead of opening one per call."""
    return _client_for(
        os.getpid(), settings.STRIPE_SECRET_KEY, settings.STRIPE_API_BASE, settings.STRIPE_TIMEOUT_SECONDS
    )


class _RequestsWithoutEnvironment:
    """The ``requests`` module as stripe's RequestsClient uses it, with sessions that do not read
    proxy settings and .netrc from the environment on every call (a third of the client's CPU
    per call). Used only when no proxy is configured in the environment."""

    def __getattr__(self, name):
        return getattr(requests, name)

    @staticmethod
    def Session() -> requests.Session:
        session = requests.Session()
        session.trust_env = False
        return session


@functools.lru_cache(maxsize=8)
def _client_for(pid: int, secret_key: str, api_base: str, timeout: float) -> stripe.StripeClient:
    lib = None if urllib.request.getproxies() else _RequestsWithoutEnvironment()
    kwargs = {"max_network_retries": 2, "http_client": stripe.RequestsClient(timeout=timeout, _lib=lib)}
    if api_base:
        kwargs["base_addresses"] = {"api": api_base}
    return stripe.StripeClient(secret_key, **kwargs)


def _require_simulation() -> None:
    if not settings.SIMULATED_CHECKOUT:
        raise ImproperlyConfigured("No Stripe key is configured and the simulated checkout is not allowed here.")


def checkout_session_create(*, payment_id: int, params: dict, idempotency_key: str) -> CheckoutSession:
    """Create a Checkout Session (a network call: never inside a transaction)."""
    if stripe_enabled():
        session = _client().v1.checkout.sessions.create(params=params, options={"idempotency_key": idempotency_key})
        return CheckoutSession(id=session.id, url=session.url)
    _require_simulation()
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]
    session_id = f"cs_sim_{digest}"
    return CheckoutSession(id=session_id, url=reverse("bookings:simulated_checkout", kwargs={"session_id": session_id}))


@dataclass(frozen=True)
class ChargeFacts:
    charge_id: str
    fee: int  # Stripe's processing fee in minor units (0 when unknown)
    fee_currency: str


def payment_intent_charge(payment_intent_id: str) -> ChargeFacts:
    """The charge of a PaymentIntent and Stripe's fee from its balance transaction."""
    if not payment_intent_id:
        return ChargeFacts("", 0, "")
    if not stripe_enabled():
        return ChargeFacts(payment_intent_id.replace("pi_", "ch_", 1), 0, "")
    # One call: the charge and its balance transaction come expanded.
    intent = _client().v1.payment_intents.retrieve(
        payment_intent_id, params={"expand": ["latest_charge.balance_transaction"]}
    )
    # stripe-python ≥ 15 objects are not dicts (no .get); latest_charge is an id or, expanded, a Charge.
    charge = getattr(intent, "latest_charge", None) or ""
    if not charge:
        return ChargeFacts("", 0, "")
    if isinstance(charge, str):
        return ChargeFacts(charge, *charge_fee(charge))
    return ChargeFacts(charge.id, *_balance_fee(getattr(charge, "balance_transaction", None)))


def charge_fee(charge_id: str) -> tuple[int, str]:
    """Stripe's processing fee of a charge, from its balance transaction (one call, expanded):
    (fee, CURRENCY); (0, "") while the charge has no balance transaction yet."""
    charge = _client().v1.charges.retrieve(charge_id, params={"expand": ["balance_transaction"]})
    return _balance_fee(getattr(charge, "balance_transaction", None))


def _balance_fee(balance) -> tuple[int, str]:
    if not balance:
        return 0, ""
    if isinstance(balance, str):  # not expanded
        balance = _client().v1.balance_transactions.retrieve(balance)
    return int(getattr(balance, "fee", 0) or 0), str(getattr(balance, "currency", "")).upper()


# -- Stripe Connect: transfers to recipients' connected accounts ------------------------


class TransferRefused(Exception):
    """Stripe refused permanently (e.g. the account cannot receive transfers)."""


def transfer_create(
    *,
    amount: int,
    currency: str,
    destination: str,
    transfer_group: str,
    source_transaction: str,
    metadata: dict,
    idempotency_key: str,
) -> str:
    params = {
        "amount": amount,
        "currency": currency.lower(),
        "destination": destination,
        "transfer_group": transfer_group,
        "metadata": metadata,
    }
    if source_transaction:
        params["source_transaction"] = source_transaction
    if not stripe_enabled():
        _require_simulation()
        return "tr_sim_" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]
    try:
        transfer = _client().v1.transfers.create(params=params, options={"idempotency_key": idempotency_key})
    except (stripe.InvalidRequestError, stripe.PermissionError) as exc:
        raise TransferRefused(exc.user_message or str(exc)) from exc
    return transfer.id


def transfers_for_group(transfer_group: str) -> list[dict]:
    """Transfers Stripe holds for a booking (``transfer_group`` = its reference)."""
    if not stripe_enabled():
        return []
    result = _client().v1.transfers.list(params={"transfer_group": transfer_group, "limit": 100})
    return [
        {
            "id": t.id,
            "amount": t.amount,
            "currency": str(t.currency).upper(),
            "destination": t.destination if isinstance(t.destination, str) else t.destination.id,
            # stripe-python ≥ 15 objects are not mappings: dict(obj) raises TypeError
            "metadata": t.metadata.to_dict() if t.metadata else {},
            "amount_reversed": int(getattr(t, "amount_reversed", 0) or 0),
        }
        for t in result.data
    ]


def transfer_reversal_create(*, transfer_id: str, amount: int, idempotency_key: str, metadata: dict) -> str:
    if not stripe_enabled():
        _require_simulation()
        return "trr_sim_" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]
    try:
        reversal = _client().v1.transfers.reversals.create(
            transfer_id, params={"amount": amount, "metadata": metadata}, options={"idempotency_key": idempotency_key}
        )
    except (stripe.InvalidRequestError, stripe.PermissionError) as exc:
        raise TransferRefused(exc.user_message or str(exc)) from exc
    return reversal.id


def account_link_create(*, account_id: str, refresh_url: str, return_url: str) -> str:
    """An onboarding link for a connected (Express) account."""
    link = _client().v1.account_links.create(
        params={
            "account": account_id,
            "refresh_url": refresh_url,
            "return_url": return_url,
            "type": "account_onboarding",
        }
    )
    return link.url


def express_account_create(*, email: str, country: str = "PE", metadata: dict, idempotency_key: str) -> str:
    account = _client().v1.accounts.create(
        params={
            "type": "express",
            "country": country,
            "email": email,
            "metadata": metadata,
            "capabilities": {"transfers": {"requested": True}},
        },
        options={"idempotency_key": idempotency_key},
    )
    return account.id


def refund_create(*, payment_intent_id: str, amount: int, idempotency_key: str, metadata: dict) -> str:
    """Refund ``amount`` minor units of a PaymentIntent; return the refund id."""
    if stripe_enabled():
        refund = _client().v1.refunds.create(
            params={"payment_intent": payment_intent_id, "amount": amount, "metadata": metadata},
            options={"idempotency_key": idempotency_key},
        )
        return refund.id
    _require_simulation()
    return "re_sim_" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]


def webhook_event_construct(*, payload: bytes, signature: str | None) -> dict:
    """Verify the Stripe-Signature header; raise ValueError / SignatureVerificationError."""
    if not settings.STRIPE_WEBHOOK_SECRET:
        raise stripe.SignatureVerificationError("No webhook secret is configured", signature)
    stripe.WebhookSignature.verify_header(
        payload.decode("utf-8"), signature, settings.STRIPE_WEBHOOK_SECRET, tolerance=WEBHOOK_TOLERANCE_SECONDS
    )
    event = json.loads(payload)
    if not isinstance(event, dict) or not event.get("id") or not event.get("type"):
        raise ValueError("Not a Stripe event")
    return event
