"""The loopback Stripe server itself, exercised with stripe-python (no Django database needed)."""

import json
import time

import pytest
import stripe

from tests.stripe_server import StripeServer, decode_form, sign


@pytest.fixture
def server(monkeypatch):
    from stripe._http_client import HTTPClient

    monkeypatch.setattr(HTTPClient, "INITIAL_DELAY", 0.01)
    with StripeServer() as running:
        yield running


@pytest.fixture
def client(server):
    return stripe.StripeClient("sk_test_fake", base_addresses={"api": server.url}, max_network_retries=2)


def session_params(**overrides) -> dict:
    params = {
        "mode": "payment",
        "line_items": [
            {"price_data": {"currency": "pen", "unit_amount": 35000, "product_data": {"name": "Adult"}}, "quantity": 2},
            {"price_data": {"currency": "pen", "unit_amount": 17500, "product_data": {"name": "Child"}}, "quantity": 1},
        ],
        "metadata": {"booking_id": "7"},
        "payment_intent_data": {"transfer_group": "KT-ABCDEF"},
        "success_url": "https://example.com/ok",
        "cancel_url": "https://example.com/back",
        "expires_at": int(time.time()) + 3600,
    }
    params.update(overrides)
    return params


def test_decode_form_builds_nested_dicts_lists_and_integers():
    body = (
        "mode=payment&line_items[0][price_data][unit_amount]=100&line_items[0][quantity]=2"
        "&line_items[1][price_data][product_data][name]=Ni%C3%B1o&metadata[booking_id]=12&metadata[note]="
    )

    assert decode_form(body) == {
        "mode": "payment",
        "line_items": [
            {"price_data": {"unit_amount": 100}, "quantity": 2},
            {"price_data": {"product_data": {"name": "Niño"}}},
        ],
        "metadata": {"booking_id": "12", "note": ""},
    }


def test_sign_matches_stripes_own_verification():
    payload = json.dumps({"id": "evt_1", "type": "checkout.session.completed"}).encode()
    header = sign(payload, "whsec_test")

    assert stripe.WebhookSignature.verify_header(payload.decode(), header, "whsec_test", tolerance=300)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.WebhookSignature.verify_header(payload.decode() + " ", header, "whsec_test", tolerance=300)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.WebhookSignature.verify_header(
            payload.decode(), sign(payload, "whsec_test", int(time.time()) - 301), "whsec_test", tolerance=300
        )


def test_session_amount_is_computed_from_the_line_items(client, server):
    session = client.v1.checkout.sessions.create(params=session_params())

    assert session.object == "checkout.session"
    assert (session.amount_total, session.currency, session.payment_status, session.status) == (
        87500,
        "pen",
        "unpaid",
        "open",
    )
    assert session.payment_intent is None
    assert client.v1.checkout.sessions.retrieve(session.id).amount_total == 87500
    items = client.v1.checkout.sessions.line_items.list(session.id)
    assert [(i.description, i.quantity, i.amount_total) for i in items.data] == [
        ("Adult", 2, 70000),
        ("Child", 1, 17500),
    ]


def test_completing_a_session_creates_the_payment_intent_and_charge(client, server):
    session = client.v1.checkout.sessions.create(params=session_params())

    event = server.complete_session(session.id)

    paid = event["data"]["object"]
    assert (event["type"], paid["payment_status"], paid["status"]) == ("checkout.session.completed", "paid", "complete")
    intent = client.v1.payment_intents.retrieve(paid["payment_intent"])
    assert (intent.status, intent.amount_received, intent.transfer_group) == ("succeeded", 87500, "KT-ABCDEF")
    assert intent.latest_charge.startswith("ch_")
    assert "_payment_intent_data" not in paid


def test_idempotency_replays_and_refuses_other_parameters(client, server):
    first = client.v1.checkout.sessions.create(params=session_params(), options={"idempotency_key": "k-1"})
    again = client.v1.checkout.sessions.create(params=session_params(), options={"idempotency_key": "k-1"})

    assert again.id == first.id
    assert [r.replayed for r in server.requests] == [False, True]
    with pytest.raises(stripe.IdempotencyError):
        client.v1.checkout.sessions.create(
            params=session_params(client_reference_id="other"), options={"idempotency_key": "k-1"}
        )
    assert len(server.sessions) == 1


def test_refunds_cannot_exceed_what_remains(client, server):
    session = client.v1.checkout.sessions.create(params=session_params())
    intent_id = server.complete_session(session.id)["data"]["object"]["payment_intent"]

    refund = client.v1.refunds.create(params={"payment_intent": intent_id, "amount": 50000})
    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        client.v1.refunds.create(params={"payment_intent": intent_id, "amount": 37501})

    assert (refund.object, refund.status, refund.amount) == ("refund", "succeeded", 50000)
    assert client.v1.refunds.retrieve(refund.id).amount == 50000
    assert (excinfo.value.http_status, excinfo.value.code) == (400, "amount_too_large")
    assert excinfo.value.json_body["error"]["type"] == "invalid_request_error"
    charge = server.charges[server.payment_intents[intent_id]["latest_charge"]]
    assert charge["amount_refunded"] == 50000


def test_unknown_objects_and_bad_keys(client, server):
    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        client.v1.checkout.sessions.retrieve("cs_test_missing")
    assert (excinfo.value.http_status, excinfo.value.code) == (404, "resource_missing")

    other = stripe.StripeClient("rk_live_nope", base_addresses={"api": server.url})
    with pytest.raises(stripe.AuthenticationError):
        other.v1.refunds.retrieve("re_1")


def test_session_expiry_must_be_between_30_minutes_and_24_hours(client):
    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        client.v1.checkout.sessions.create(params=session_params(expires_at=int(time.time()) + 600))

    assert excinfo.value.param == "expires_at"


def test_injected_faults_are_logged(client, server):
    server.fail_next(1, status=500)
    server.fail_next(1, status=429)

    client.v1.checkout.sessions.create(params=session_params(), options={"idempotency_key": "k-2"})

    assert [(r.status, r.injected, r.idempotency_key) for r in server.requests] == [
        (500, "500", "k-2"),
        (429, "429", "k-2"),
        (200, "", "k-2"),
    ]


def test_expand_replaces_ids_with_their_objects_down_a_dotted_path(client, server):
    session = client.v1.checkout.sessions.create(params=session_params())
    intent_id = server.complete_session(session.id)["data"]["object"]["payment_intent"]
    charge_id = server.payment_intents[intent_id]["latest_charge"]

    intent = client.v1.payment_intents.retrieve(intent_id, params={"expand": ["latest_charge.balance_transaction"]})

    assert intent.latest_charge.id == charge_id
    assert intent.latest_charge.balance_transaction.fee == server.fee_for(87500)
    assert isinstance(server.payment_intents[intent_id]["latest_charge"], str)  # stored objects stay unexpanded
    with pytest.raises(stripe.InvalidRequestError, match="cannot be expanded"):
        client.v1.payment_intents.retrieve(intent_id, params={"expand": ["currency"]})


def test_an_outage_refuses_every_request_until_it_is_over(client, server):
    server.fail_next(1, status=429)
    server.fail_for(600)

    with pytest.raises(stripe.APIError):
        client.v1.checkout.sessions.create(params=session_params(), options={"idempotency_key": "k-3"})
    assert server.in_outage
    server.fail_for(0)  # over: the queued 429 comes next, then the request runs
    session = client.v1.checkout.sessions.create(params=session_params(), options={"idempotency_key": "k-3"})

    assert not server.in_outage
    assert [(r.status, r.injected) for r in server.requests] == [(500, "500")] * 3 + [(429, "429"), (200, "")]
    assert list(server.sessions) == [session.id]
