"""The loopback Stripe server's Connect side (accounts, links, transfers, reversals), via stripe-python."""

import threading
import time

import pytest
import stripe

from tests.stripe_server import StripeServer


@pytest.fixture
def server(monkeypatch):
    from stripe._http_client import HTTPClient

    monkeypatch.setattr(HTTPClient, "INITIAL_DELAY", 0.01)
    with StripeServer() as running:
        yield running


@pytest.fixture
def client(server):
    return stripe.StripeClient("sk_test_fake", base_addresses={"api": server.url}, max_network_retries=2)


@pytest.fixture
def charge(server, client):
    """A paid S/ 700.00 checkout: its charge can fund transfers (source_transaction)."""
    session = client.v1.checkout.sessions.create(
        params={
            "mode": "payment",
            "line_items": [
                {"price_data": {"currency": "pen", "unit_amount": 35000, "product_data": {"name": "A"}}, "quantity": 2}
            ],
            "success_url": "https://example.com/ok",
            "payment_intent_data": {"transfer_group": "KT-ABCDEF"},
        }
    )
    server.complete_session(session.id)
    return next(iter(server.charges))


def transfer_params(destination, charge, **overrides):
    params = {
        "amount": 10500,
        "currency": "pen",
        "destination": destination,
        "transfer_group": "KT-ABCDEF",
        "source_transaction": charge,
        "metadata": {"share_id": "7"},
    }
    params.update(overrides)
    return params


def test_transfers_are_created_listed_by_group_and_retrieved(server, client, charge):
    account = server.add_account("acct_1Coop")

    first = client.v1.transfers.create(params=transfer_params(account, charge), options={"idempotency_key": "t-1"})
    second = client.v1.transfers.create(params=transfer_params(account, charge, amount=500, metadata={"share_id": "8"}))
    server.add_stray_transfer(destination=account, amount=1, transfer_group="KT-OTHER")

    assert first.id.startswith("tr_") and first.object == "transfer"
    assert (first.amount, first.currency, first.destination, first.source_transaction) == (
        10500,
        "pen",
        account,
        charge,
    )
    assert (first.amount_reversed, first.reversed, first.transfer_group) == (0, False, "KT-ABCDEF")
    assert first.metadata.to_dict() == {"share_id": "7"}
    listed = client.v1.transfers.list(params={"transfer_group": "KT-ABCDEF", "limit": 100})
    assert [t.id for t in listed.data] == [second.id, first.id]  # newest first
    assert client.v1.transfers.retrieve(first.id).amount == 10500
    replay = client.v1.transfers.create(params=transfer_params(account, charge), options={"idempotency_key": "t-1"})
    assert replay.id == first.id and len(server.transfers) == 3


def test_transfers_are_refused_like_stripe(server, client, charge):
    server.add_account("acct_1Pending", transfers="inactive")
    server.add_account("acct_1Coop")

    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.transfers.create(params=transfer_params("acct_1Pending", charge))
    assert refused.value.code == "insufficient_capabilities_for_transfer"
    assert refused.value.user_message.startswith(
        "Your destination account needs to have at least one of the following capabilities enabled: transfers"
    )
    with pytest.raises(stripe.InvalidRequestError, match="No such destination: 'acct_1Nobody'"):
        client.v1.transfers.create(params=transfer_params("acct_1Nobody", charge))
    with pytest.raises(stripe.InvalidRequestError, match="No such charge: 'ch_nothing'"):
        client.v1.transfers.create(params=transfer_params("acct_1Coop", "ch_nothing"))
    with pytest.raises(stripe.InvalidRequestError, match="cannot exceed its amount"):
        client.v1.transfers.create(params=transfer_params("acct_1Coop", charge, amount=70001))
    with pytest.raises(stripe.InvalidRequestError, match="must be the same as the transfer currency"):
        client.v1.transfers.create(params=transfer_params("acct_1Coop", charge, currency="usd"))
    assert server.transfers == {}
    assert [r.status for r in server.requests_to("POST", "/v1/transfers")] == [400] * 5  # never retried


def test_reversals_need_enough_balance_on_the_connected_account(server, client, charge):
    account = server.add_account("acct_1Coop")
    server.set_balance(account, 0)
    transfer = client.v1.transfers.create(params=transfer_params(account, charge))
    assert server.balance(account) == 10500

    reversal = client.v1.transfers.reversals.create(transfer.id, params={"amount": 5250, "metadata": {"share_id": "7"}})

    assert (reversal.object, reversal.amount, reversal.transfer, reversal.currency) == (
        "transfer_reversal",
        5250,
        transfer.id,
        "pen",
    )
    assert server.balance(account) == 5250
    server.set_balance(account, 100)
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.transfers.reversals.create(transfer.id, params={"amount": 5250})
    assert refused.value.code == "balance_insufficient"
    server.set_balance(account, None)  # unlimited again
    with pytest.raises(stripe.InvalidRequestError, match="only 5250 remains"):
        client.v1.transfers.reversals.create(transfer.id, params={"amount": 5251})
    client.v1.transfers.reversals.create(transfer.id)  # the rest
    remote = server.transfers[transfer.id]
    assert (remote["amount_reversed"], remote["reversed"], remote["reversals"]["total_count"]) == (10500, True, 2)


def test_express_accounts_and_onboarding_links(server, client):
    account = client.v1.accounts.create(
        params={"type": "express", "country": "PE", "capabilities": {"transfers": {"requested": True}}}
    )

    assert account.id.startswith("acct_") and account.capabilities.transfers == "inactive"
    assert (account.payouts_enabled, account.charges_enabled) == (False, False)
    link = client.v1.account_links.create(
        params={
            "account": account.id,
            "refresh_url": "https://example.com/refresh",
            "return_url": "https://example.com/return",
            "type": "account_onboarding",
        }
    )
    assert link.url.startswith(f"https://connect.stripe.com/setup/e/{account.id}/")
    event = server.account_updated_event(account.id, "active")
    assert event["type"] == "account.updated"
    assert event["data"]["object"]["capabilities"] == {"transfers": "active"}
    assert event["data"]["object"]["payouts_enabled"] is True
    assert client.v1.accounts.retrieve(account.id).capabilities.transfers == "active"
    with pytest.raises(stripe.InvalidRequestError, match="No such account"):
        client.v1.account_links.create(
            params={"account": "acct_1Nobody", "refresh_url": "a", "return_url": "b", "type": "account_onboarding"}
        )


def test_latency_delays_and_arrivals(server, client):
    server.latency = 0.2
    started = time.monotonic()
    client.v1.accounts.create(params={"type": "express"})
    assert time.monotonic() - started >= 0.2
    server.latency = 0.0

    server.delay_next(1, seconds=0.5, method="POST", path="/v1/transfers")
    client.v1.accounts.create(params={"type": "express"})  # not matched: not delayed
    assert [r.injected for r in server.requests] == ["", ""]

    account = server.add_account()
    thread = threading.Thread(
        target=lambda: client.v1.transfers.create(params={"amount": 1, "currency": "pen", "destination": account})
    )
    thread.start()
    server.wait_for_arrival("POST", "/v1/transfers", timeout=5)
    assert server.transfers == {}  # arrived, still held
    thread.join(timeout=5)
    assert len(server.transfers) == 1
    assert server.requests[-1].injected == "delay"
    assert server.requests[-1].received_at <= time.time() - 0.4
