"""The mock site's GraphQL API (`POST /api/graphql`) over real HTTP: the SPA's operations, billing
rules as userErrors, Money parsing, 401/403, and that nothing changes on any error."""

from __future__ import annotations

from contextlib import closing
from typing import Any

import httpx
import pytest

from fixtures.jobber_site.auth import SESSION_COOKIE
from fixtures.jobber_site.server import MockJobber
from tests.plugin_mock_jobber import gql as plugin_gql
from tests.plugin_mock_jobber import sign_in

Json = dict[str, Any]

ACME = "Acme Lawn Care"
INVOICE_FIELDS = "id number subject status statusLabel issuedDate dueDate total balance client { id name }"
PAYMENT_FIELDS = ("id kind method methodLabel amount date reference details invoice { id number status balance } "
                  "quote { id number } client { name }")
PAYMENT_CREATE = f"""mutation PaymentCreate($input: PaymentCreateInput!) {{
  paymentCreate(input: $input) {{ payments {{ {PAYMENT_FIELDS} }} userErrors {{ message path }} }} }}"""
PAYMENT_EDIT = f"""mutation PaymentEdit($id: ID!, $input: PaymentEditInput!) {{
  paymentEdit(paymentId: $id, input: $input) {{ payments {{ {PAYMENT_FIELDS} }} userErrors {{ message path }} }} }}"""
PAYMENT_DELETE = """mutation PaymentDelete($id: ID!) {
  paymentDelete(paymentId: $id) { deletedPaymentId userErrors { message path } } }"""
INVOICES = f"""query InvoicesList($searchTerm: String, $status: InvoiceStatus) {{
  invoices(searchTerm: $searchTerm, status: $status) {{ {INVOICE_FIELDS} }} }}"""
INVOICE_SHOW = f"""query InvoiceShow($id: ID!) {{ invoice(id: $id) {{ {INVOICE_FIELDS}
  lineItems {{ name description quantity unitPrice total }} payments {{ {PAYMENT_FIELDS} }} }} }}"""
QUOTE_SHOW = f"""query QuoteShow($id: ID!) {{ quote(id: $id) {{ id number title status statusLabel total depositsPaid
  client {{ id name }} invoice {{ id number status }} lineItems {{ name total }} deposits {{ {PAYMENT_FIELDS} }} }} }}"""
MARK_SENT = """mutation InvoiceMarkSent($id: ID!) {
  invoiceMarkSent(invoiceId: $id) { invoice { id status } userErrors { message path } } }"""
MARK_BAD_DEBT = """mutation InvoiceMarkBadDebt($id: ID!) {
  invoiceMarkBadDebt(invoiceId: $id) { invoice { id status } userErrors { message path } } }"""
QUOTE_CONVERT = f"""mutation QuoteConvert($id: ID!) {{ quoteConvert(quoteId: $id) {{
  quote {{ id status invoice {{ id }} }}
  invoice {{ {INVOICE_FIELDS} lineItems {{ name }} payments {{ {PAYMENT_FIELDS} }} }}
  userErrors {{ message path }} }} }}"""


# -- helpers ---------------------------------------------------------------------------------
def post(client: httpx.Client, operation_name: str, query: str, variables: Json | None = None,
         **kw: Any) -> httpx.Response:
    return client.post("/api/graphql", json={"operationName": operation_name, "query": query,
                                             "variables": variables or {}}, **kw)


def gql(client: httpx.Client, operation_name: str, query: str, variables: Json | None = None) -> Json:
    """Run an operation that must succeed as GraphQL (no `errors`) and return its data."""
    body = plugin_gql(client, operation_name, query, variables)
    assert "errors" not in body, body
    return body["data"]


@pytest.fixture
def api(jobber_api: httpx.Client) -> httpx.Client:
    """Signed in to the demo's Acme Lawn Care over HTTP (identity host, TOTP), sending X-CSRF-Token."""
    return jobber_api


SOLO_EMAIL, SOLO_PASSWORD = "solo@test.test", "pw-123456"


def state(server: MockJobber) -> Json:
    """`/_mock/state` minus the ticking clock, for before/after comparisons."""
    assert server.admin is not None
    st = server.admin.state()
    st.pop("now", None)
    return st


def invoices(api: httpx.Client, **variables: Any) -> list[Json]:
    return gql(api, "InvoicesList", INVOICES, variables)["invoices"]


def invoice_by_number(api: httpx.Client, number: int) -> Json:
    (inv,) = [i for i in invoices(api, searchTerm=str(number)) if i["number"] == number]
    return gql(api, "InvoiceShow", INVOICE_SHOW, {"id": inv["id"]})["invoice"]


def quote_by_number(api: httpx.Client, number: int) -> Json:
    quotes = gql(api, "QuotesList", "query QuotesList { quotes { id number } }")["quotes"]
    qid = next(q["id"] for q in quotes if q["number"] == number)
    return gql(api, "QuoteShow", QUOTE_SHOW, {"id": qid})["quote"]


def pay(api: httpx.Client, inv: Json, amount: Any, method: str = "CREDIT_CARD", **extra: Any) -> Json:
    """paymentCreate on one invoice; returns the payload."""
    body = {"clientId": inv["client"]["id"], "method": method,
            "allocations": [{"invoiceId": inv["id"], "amount": amount}], **extra}
    return gql(api, "PaymentCreate", PAYMENT_CREATE, {"input": body})["paymentCreate"]


def refused(payload: Json) -> list[tuple[str, list[str]]]:
    """The payload's userErrors as (message, path); asserts it changed nothing it could show."""
    assert payload.get("payments", []) == [] and payload.get("invoice") is None, payload
    return [(e["message"], e["path"]) for e in payload["userErrors"]]


def one_client_doc(invoices_: list[Json], payment_ui: str = "dialog", quotes: list[Json] | None = None) -> Json:
    """A scenario with one account (no 2FA) and one or two clients."""
    return {"accounts": [{"email": SOLO_EMAIL, "password": SOLO_PASSWORD, "name": "Solo", "company": "Solo Co",
                          "payment_ui": payment_ui, "two_factor": None, "clients": [
                              {"name": "Ann Able", "invoices": invoices_, "quotes": quotes or []},
                              {"name": "Bob Baker", "invoices": [
                                  {"number": 500, "subject": "Bob's", "status": "awaiting_payment",
                                   "line_items": [{"name": "x", "quantity": "1", "unit_price": "70.00"}]}]}]}]}


# -- queries ---------------------------------------------------------------------------------
def test_current_account(api: httpx.Client) -> None:
    """newLogin: this sign-in used no remembered device (the session's flag, shown as a banner)."""
    acc = gql(api, "CurrentAccount", "query CurrentAccount { account { id name paymentUi layoutVariant today "
                                     "safeMode newLogin switchable } }")["account"]
    assert acc["id"].isdigit() and len(acc["today"]) == 10
    assert {k: v for k, v in acc.items() if k not in ("id", "today")} == {
        "name": ACME, "paymentUi": "DIALOG", "layoutVariant": None, "safeMode": False, "newLogin": True,
        "switchable": False}


def test_demo_invoices_and_quotes(api: httpx.Client) -> None:
    got = {i["number"]: (i["status"], i["statusLabel"], i["total"], i["balance"]) for i in invoices(api)}
    assert got == {
        1042: ("AWAITING_PAYMENT", "Awaiting Payment", "150.00", "150.00"),
        1043: ("DRAFT", "Draft", "80.00", "80.00"),
        1050: ("AWAITING_PAYMENT", "Awaiting Payment", "220.00", "220.00"),
        1051: ("PAST_DUE", "Past Due", "95.50", "95.50"),
        1060: ("PAID", "Paid", "60.00", "0.00"),
        1061: ("BAD_DEBT", "Bad Debt", "45.00", "45.00"),
        1070: ("AWAITING_PAYMENT", "Awaiting Payment", "1250.00", "1000.00"),
    }
    quotes = gql(api, "QuotesList", "query QuotesList($status: QuoteStatus) { quotes(status: $status) "
                                    "{ number status statusLabel total depositsPaid client { name } } }")["quotes"]
    assert [(q["number"], q["status"], q["total"], q["client"]["name"]) for q in quotes] == [
        (12, "APPROVED", "400.00", "Margaret Chen"), (13, "DRAFT", "120.00", "Margaret Chen"),
        (14, "AWAITING_RESPONSE", "300.00", "Priya Patel")]
    approved = gql(api, "QuotesList", "query QuotesList($status: QuoteStatus) { quotes(status: $status) "
                                      "{ number } }", {"status": "APPROVED"})["quotes"]
    assert approved == [{"number": 12}]


def test_search_by_number_and_client_and_status(api: httpx.Client) -> None:
    def nums(**v: Any) -> list[int]:
        return [i["number"] for i in invoices(api, **v)]

    assert nums(searchTerm="1042") == [1042]
    assert nums(searchTerm="#1042") == [1042]
    assert nums(searchTerm="okafor") == [1050, 1051]
    assert nums(searchTerm="Lawn mowing") == []  # the subject is not searched: number or client name
    assert nums(status="PAST_DUE") == [1051]
    assert nums(status="AWAITING_PAYMENT", searchTerm="chen") == [1042]
    assert nums(status="VOIDED") == []
    clients = gql(api, "ClientsList", "query ClientsList($s: String) { clients(searchTerm: $s) { name balance } }",
                  {"s": "pat"})["clients"]
    assert clients == [{"name": "Priya Patel", "balance": "0.00"}]


def test_duplicate_numbers_and_voided(jobber: MockJobber) -> None:
    assert jobber.admin is not None
    jobber.admin.reset(one_client_doc([
        {"number": 500, "subject": "Ann's", "status": "awaiting_payment",
         "line_items": [{"name": "a", "quantity": "2", "unit_price": "10.25"}]},
        {"number": 501, "subject": "Void", "status": "voided",
         "line_items": [{"name": "v", "quantity": "1", "unit_price": "30.00"}]}]))
    with closing(sign_in(jobber, SOLO_EMAIL, SOLO_PASSWORD)) as api:
        dupes = invoices(api, searchTerm="500")
        assert [(i["number"], i["client"]["name"], i["total"]) for i in dupes] == [
            (500, "Ann Able", "20.50"), (500, "Bob Baker", "70.00")]
        assert len({i["id"] for i in dupes}) == 2
        (void,) = invoices(api, status="VOIDED")
        assert (void["number"], void["statusLabel"], void["balance"]) == (501, "Voided", "30.00")
        before = state(jobber)
        assert refused(pay(api, void, "1.00")) == [
            ("Payments can't be recorded on a voided invoice.", ["input", "allocations", "0", "invoiceId"])]
        assert state(jobber) == before


def test_invoice_show_with_payments(api: httpx.Client) -> None:
    inv = invoice_by_number(api, 1070)
    assert (inv["subject"], inv["client"]["name"], inv["status"]) == ("Irrigation system", "Luis Garcia",
                                                                      "AWAITING_PAYMENT")
    assert len(inv["issuedDate"]) == 10 and len(inv["dueDate"]) == 10
    assert inv["lineItems"] == [{"name": "Irrigation system", "description": "Install, 6 zones", "quantity": "1",
                                 "unitPrice": "1250.00", "total": "1250.00"}]
    (p,) = inv["payments"]
    assert (p["kind"], p["method"], p["methodLabel"], p["amount"], p["reference"], p["details"]) == \
        ("payment", "CHECK", "Check", "250.00", "", "Check #2231")
    assert (p["invoice"]["number"], p["quote"], p["client"]["name"]) == (1070, None, "Luis Garcia")


def test_payment_show_and_unknown_ids(jobber: MockJobber, api: httpx.Client) -> None:
    pid = invoice_by_number(api, 1070)["payments"][0]["id"]
    show = f"query PaymentShow($id: ID!) {{ payment(id: $id) {{ {PAYMENT_FIELDS} }} }}"
    p = gql(api, "PaymentShow", show, {"id": pid})["payment"]
    assert (p["amount"], p["invoice"]["number"], p["client"]["name"]) == ("250.00", 1070, "Luis Garcia")
    assert jobber.admin is not None
    bravo = jobber.admin.account("sms@bravo.test")["invoices"][0]["id"]  # another account's invoice
    for unknown in ("999999", str(2**64), "abc", str(bravo)):
        assert gql(api, "PaymentShow", show, {"id": unknown})["payment"] is None
        assert gql(api, "InvoiceShow", INVOICE_SHOW, {"id": unknown})["invoice"] is None
        assert gql(api, "ClientShow", "query ClientShow($id: ID!) { client(id: $id) { id } }",
                   {"id": unknown})["client"] is None
        assert gql(api, "QuoteShow", QUOTE_SHOW, {"id": unknown})["quote"] is None


def test_client_show_and_billing_history(api: httpx.Client) -> None:
    clients = gql(api, "ClientsList", "query ClientsList { clients { id name } }")["clients"]
    cid = next(c["id"] for c in clients if c["name"] == "Luis Garcia")
    c = gql(api, "ClientShow", """query ClientShow($id: ID!) { client(id: $id) { name email phone address balance
        invoices { number } quotes { number } billingHistory { type number appliedTo date amount balance } } }""",
            {"id": cid})["client"]
    assert (c["name"], c["email"], c["balance"]) == ("Luis Garcia", "luis.garcia@example.com", "1000.00")
    assert c["invoices"] == [{"number": 1070}] and c["quotes"] == []
    assert [(h["type"], h["number"], h["appliedTo"], h["amount"], h["balance"]) for h in c["billingHistory"]] == [
        ("Invoice", "#1070", "Invoice #1070", "1250.00", "1250.00"),
        ("Payment", "Check", "Invoice #1070", "-250.00", "1000.00")]


# -- invoices' mutations ---------------------------------------------------------------------
def test_mark_sent_then_payable(jobber: MockJobber, api: httpx.Client) -> None:
    draft = invoice_by_number(api, 1043)
    before = state(jobber)
    assert refused(pay(api, draft, "10.00")) == [
        ("Payments can't be recorded on a draft invoice.", ["input", "allocations", "0", "invoiceId"])]
    assert state(jobber) == before
    out = gql(api, "InvoiceMarkSent", MARK_SENT, {"id": draft["id"]})["invoiceMarkSent"]
    assert out == {"invoice": {"id": draft["id"], "status": "AWAITING_PAYMENT"}, "userErrors": []}
    before = state(jobber)
    again = gql(api, "InvoiceMarkSent", MARK_SENT, {"id": draft["id"]})["invoiceMarkSent"]
    assert refused(again) == [("Only a draft invoice can be marked as sent.", ["invoiceId"])]
    assert state(jobber) == before
    assert pay(api, draft, "80.00")["payments"][0]["invoice"]["status"] == "PAID"


def test_mark_bad_debt(jobber: MockJobber, api: httpx.Client) -> None:
    inv = invoice_by_number(api, 1042)
    out = gql(api, "InvoiceMarkBadDebt", MARK_BAD_DEBT, {"id": inv["id"]})["invoiceMarkBadDebt"]
    assert out["invoice"]["status"] == "BAD_DEBT" and out["userErrors"] == []
    before = state(jobber)
    for number in (1042, 1060, 1043):  # already bad debt, paid, draft
        other = invoice_by_number(api, number)
        out = gql(api, "InvoiceMarkBadDebt", MARK_BAD_DEBT, {"id": other["id"]})["invoiceMarkBadDebt"]
        assert refused(out) == [("Only an unpaid sent invoice can be marked as bad debt.", ["invoiceId"])]
    out = gql(api, "InvoiceMarkBadDebt", MARK_BAD_DEBT, {"id": "999999"})["invoiceMarkBadDebt"]
    assert refused(out) == [("Invoice not found.", ["invoiceId"])]
    assert state(jobber) == before


# -- payments --------------------------------------------------------------------------------
def test_payment_create_to_paid(jobber: MockJobber, api: httpx.Client) -> None:
    inv = invoice_by_number(api, 1042)
    out = pay(api, inv, "100.00", date="2026-01-02", reference="ch_1", details="txn_1 Visa 4242")
    assert out["userErrors"] == []
    (p,) = out["payments"]
    assert (p["kind"], p["method"], p["methodLabel"], p["amount"], p["date"], p["reference"], p["details"]) == \
        ("payment", "CREDIT_CARD", "Credit card", "100.00", "2026-01-02", "ch_1", "txn_1 Visa 4242")
    assert (p["invoice"]["status"], p["invoice"]["balance"]) == ("AWAITING_PAYMENT", "50.00")
    today = gql(api, "CurrentAccount", "query CurrentAccount { account { today } }")["account"]["today"]
    p2 = pay(api, inv, 50, method="CASH")["payments"][0]  # a whole-dollar int is Money too; date defaults to today
    assert (p2["amount"], p2["date"], p2["methodLabel"]) == ("50.00", today, "Cash")
    assert p2["invoice"]["status"] == "PAID" and p2["invoice"]["balance"] == "0.00"
    assert jobber.admin is not None
    st = jobber.admin.invoice(1042)
    assert (st["status"], st["balance"]) == ("paid", "0.00")
    assert [(x["amount"], x["reference"], x["details"]) for x in st["payments"]] == [
        ("100.00", "ch_1", "txn_1 Visa 4242"), ("50.00", "", "")]
    before = state(jobber)
    assert refused(pay(api, inv, "1.00")) == [
        ("This invoice is already paid.", ["input", "allocations", "0", "invoiceId"])]
    assert state(jobber) == before


@pytest.mark.parametrize(("number", "amount", "message", "field"), [
    (1061, "1.00", "Payments can't be recorded on an invoice marked as bad debt.", "invoiceId"),
    (1070, "1000.01", "Amount can't be more than the invoice balance ($1000.00).", "amount"),
    (1042, "150.01", "Amount can't be more than the invoice balance ($150.00).", "amount"),
    (1042, "0", "Amount must be greater than 0.", "amount"),
    (1042, "0.00", "Amount must be greater than 0.", "amount"),
])
def test_payment_create_refused(jobber: MockJobber, api: httpx.Client, number: int, amount: str, message: str,
                                field: str) -> None:
    inv = invoice_by_number(api, number)
    before = state(jobber)
    assert refused(pay(api, inv, amount)) == [(message, ["input", "allocations", "0", field])]
    assert state(jobber) == before


def test_payment_create_refused_inputs(jobber: MockJobber, api: httpx.Client) -> None:
    inv = invoice_by_number(api, 1042)  # Margaret Chen's
    other = invoice_by_number(api, 1050)  # Jonas Okafor's
    cases: list[tuple[Json, list[tuple[str, list[str]]]]] = [
        ({"clientId": "999999", "allocations": [{"invoiceId": inv["id"], "amount": "1"}]},
         [("Client not found.", ["input", "clientId"])]),
        ({"clientId": inv["client"]["id"], "allocations": [{"invoiceId": other["id"], "amount": "1"}]},
         [("Invoice not found for this client.", ["input", "allocations", "0", "invoiceId"])]),
        ({"clientId": inv["client"]["id"], "allocations": []},
         [("Enter a payment amount for at least one invoice.", ["input", "allocations"])]),
        ({"clientId": inv["client"]["id"]}, [("Enter a payment amount for at least one invoice.", ["input", "allocations"])]),
        ({"clientId": inv["client"]["id"], "allocations": [{"invoiceId": inv["id"], "amount": "1"},
                                                            {"invoiceId": inv["id"], "amount": "1"}]},
         [("Each invoice can be paid only once per payment.", ["input", "allocations", "1", "invoiceId"])]),
        ({"clientId": inv["client"]["id"], "allocations": [{"invoiceId": inv["id"], "amount": "1"}],
          "details": "x" * 2001},
         [("Details can't be longer than 2000 characters.", ["input", "details"])]),
        ({"clientId": inv["client"]["id"], "allocations": [{"invoiceId": inv["id"], "amount": "10"}], "amount": "9.99"},
         [("Amount must equal the sum of the invoice payments.", ["input", "amount"])]),
    ]
    before = state(jobber)
    for body, errors in cases:
        out = gql(api, "PaymentCreate", PAYMENT_CREATE, {"input": {"method": "CASH", **body}})["paymentCreate"]
        assert refused(out) == errors, body
    assert state(jobber) == before
    out = gql(api, "PaymentCreate", PAYMENT_CREATE, {"input": {  # a top-level amount equal to the sum is fine
        "clientId": inv["client"]["id"], "method": "CASH", "amount": "10.00",
        "allocations": [{"invoiceId": inv["id"], "amount": "10"}]}})["paymentCreate"]
    assert out["userErrors"] == [] and [p["amount"] for p in out["payments"]] == ["10.00"]


@pytest.mark.parametrize("amount", ["1e2", "1,0", "-5", "1.234", "NaN", "Infinity", "", " 5", "5 ", "$5", "1.",
                                    ".5", "0x10", 1.5, True, -1, None])
def test_bad_money_is_a_request_error(jobber: MockJobber, api: httpx.Client, amount: Any) -> None:
    """Money parses only digits with at most 2 decimals: anything else is refused before any resolver runs."""
    inv = invoice_by_number(api, 1042)
    pid = invoice_by_number(api, 1070)["payments"][0]["id"]
    before = state(jobber)
    r = post(api, "PaymentCreate", PAYMENT_CREATE, {"input": {
        "clientId": inv["client"]["id"], "method": "CASH", "allocations": [{"invoiceId": inv["id"], "amount": amount}]}})
    assert r.status_code == 400, r.text
    (err,) = r.json()["errors"]
    assert err["extensions"]["code"] == "BAD_USER_INPUT"
    if amount is not None:  # our scalar's own sentence; graphql-core's in `detail`
        assert err["message"].startswith("Amount must be a number like 150.00"), err
        assert "Money" in err["extensions"]["detail"]
    else:
        assert "Money" in err["message"]
    if amount is not None:  # null is fine for an optional edit field: it means "unchanged"
        r = post(api, "PaymentEdit", PAYMENT_EDIT, {"id": pid, "input": {"amount": amount}})
        assert r.status_code == 400 and r.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert state(jobber) == before


def test_money_inline_literals(api: httpx.Client) -> None:
    pid = invoice_by_number(api, 1070)["payments"][0]["id"]
    q = 'mutation PaymentEdit { paymentEdit(paymentId: "%s", input: {amount: %s}) { payments { amount } } }'
    r = post(api, "PaymentEdit", q % (pid, "1.5"))  # a float literal
    assert r.status_code == 400 and "errors" in r.json()
    assert gql(api, "PaymentEdit", q % (pid, '"260.5"'))["paymentEdit"]["payments"] == [{"amount": "260.50"}]
    assert gql(api, "PaymentEdit", q % (pid, "251"))["paymentEdit"]["payments"] == [{"amount": "251.00"}]


def test_bad_enum_and_date_are_request_errors(jobber: MockJobber, api: httpx.Client) -> None:
    inv = invoice_by_number(api, 1042)
    before = state(jobber)
    for extra in ({"method": "BITCOIN"}, {"date": "2026-13-45"}, {"date": "02/03/2026"}, {"date": "yesterday"}):
        body = {"clientId": inv["client"]["id"], "method": "CASH",
                "allocations": [{"invoiceId": inv["id"], "amount": "1"}], **extra}
        r = post(api, "PaymentCreate", PAYMENT_CREATE, {"input": body})
        assert r.status_code == 400, extra
        assert r.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert state(jobber) == before


def test_allocations_over_two_invoices(jobber: MockJobber, api: httpx.Client) -> None:
    a, b = invoice_by_number(api, 1050), invoice_by_number(api, 1051)
    assert a["client"]["id"] == b["client"]["id"]

    def create(amount_a: str, amount_b: str) -> Json:
        return gql(api, "PaymentCreate", PAYMENT_CREATE, {"input": {
            "clientId": a["client"]["id"], "method": "BANK_TRANSFER", "reference": "ach_9", "details": "ACH",
            "allocations": [{"invoiceId": a["id"], "amount": amount_a}, {"invoiceId": b["id"], "amount": amount_b}],
        }})["paymentCreate"]

    before = state(jobber)
    assert refused(create("220.00", "95.51")) == [  # one bad allocation: nothing is recorded
        ("Amount can't be more than the invoice balance ($95.50).", ["input", "allocations", "1", "amount"])]
    assert refused(create("0", "95.51")) == [
        ("Amount must be greater than 0.", ["input", "allocations", "0", "amount"]),
        ("Amount can't be more than the invoice balance ($95.50).", ["input", "allocations", "1", "amount"])]
    assert state(jobber) == before
    out = create("200.00", "95.50")
    assert out["userErrors"] == []
    assert [(p["invoice"]["number"], p["amount"], p["methodLabel"], p["reference"], p["invoice"]["status"])
            for p in out["payments"]] == [(1050, "200.00", "Bank transfer", "ach_9", "AWAITING_PAYMENT"),
                                          (1051, "95.50", "Bank transfer", "ach_9", "PAID")]
    assert jobber.admin is not None
    assert jobber.admin.invoice(1050)["balance"] == "20.00" and jobber.admin.invoice(1051)["status"] == "paid"


def test_edit_down_to_zero_is_a_refund(jobber: MockJobber, api: httpx.Client) -> None:
    inv = invoice_by_number(api, 1042)
    p = pay(api, inv, "150.00", details="txn_1")["payments"][0]
    assert p["invoice"]["status"] == "PAID"
    out = gql(api, "PaymentEdit", PAYMENT_EDIT,
              {"id": p["id"], "input": {"amount": "0.00", "details": "txn_1\nrefund re_1 150.00"}})["paymentEdit"]
    assert out["userErrors"] == []
    (edited,) = out["payments"]
    assert (edited["amount"], edited["details"], edited["method"]) == ("0.00", "txn_1\nrefund re_1 150.00",
                                                                       "CREDIT_CARD")
    assert (edited["invoice"]["status"], edited["invoice"]["balance"]) == ("AWAITING_PAYMENT", "150.00")
    shown = invoice_by_number(api, 1042)["payments"]  # a payment refunded in full stays listed at $0.00
    assert [(x["amount"], x["details"]) for x in shown] == [("0.00", "txn_1\nrefund re_1 150.00")]
    out = gql(api, "PaymentEdit", PAYMENT_EDIT,
              {"id": p["id"], "input": {"method": "CHECK", "date": "2026-02-03", "reference": "r2"}})["paymentEdit"]
    assert [(x["method"], x["date"], x["reference"], x["amount"]) for x in out["payments"]] == [
        ("CHECK", "2026-02-03", "r2", "0.00")]


def test_edit_refused_changes_nothing(jobber: MockJobber, api: httpx.Client) -> None:
    pid = invoice_by_number(api, 1070)["payments"][0]["id"]
    before = state(jobber)
    out = gql(api, "PaymentEdit", PAYMENT_EDIT,
              {"id": pid, "input": {"amount": "1250.01", "details": "changed"}})["paymentEdit"]
    assert refused(out) == [("Amount can't be more than the invoice balance ($1250.00).", ["input", "amount"])]
    out = gql(api, "PaymentEdit", PAYMENT_EDIT, {"id": "999999", "input": {"amount": "1"}})["paymentEdit"]
    assert refused(out) == [("Payment not found.", ["paymentId"])]
    assert state(jobber) == before
    out = gql(api, "PaymentEdit", PAYMENT_EDIT, {"id": pid, "input": {"amount": "1250.00"}})["paymentEdit"]
    assert out["payments"][0]["invoice"]["status"] == "PAID"  # the whole total is allowed


def test_delete_restores_balance_and_status(jobber: MockJobber, api: httpx.Client) -> None:
    inv = invoice_by_number(api, 1042)
    p = pay(api, inv, "150.00")["payments"][0]
    assert p["invoice"]["status"] == "PAID"
    out = gql(api, "PaymentDelete", PAYMENT_DELETE, {"id": p["id"]})["paymentDelete"]
    assert out == {"deletedPaymentId": p["id"], "userErrors": []}
    after = invoice_by_number(api, 1042)
    assert (after["status"], after["balance"], after["payments"]) == ("AWAITING_PAYMENT", "150.00", [])
    before = state(jobber)
    for pid in (p["id"], "999999", str(2**64)):
        out = gql(api, "PaymentDelete", PAYMENT_DELETE, {"id": pid})["paymentDelete"]
        assert out == {"deletedPaymentId": None, "userErrors": [{"message": "Payment not found.",
                                                                 "path": ["paymentId"]}]}
    assert state(jobber) == before


# -- quotes ----------------------------------------------------------------------------------
def test_quote_deposit_and_convert(jobber: MockJobber, api: httpx.Client) -> None:
    q12, q13, q14 = (quote_by_number(api, n) for n in (12, 13, 14))
    assert (q12["statusLabel"], q14["statusLabel"], q12["depositsPaid"]) == ("Approved", "Awaiting Response", "0.00")

    def deposit(q: Json, amount: Any, **extra: Any) -> Json:
        return gql(api, "PaymentCreate", PAYMENT_CREATE, {"input": {
            "clientId": q["client"]["id"], "method": "CREDIT_CARD", "quoteId": q["id"], "amount": amount,
            **extra}})["paymentCreate"]

    before = state(jobber)
    for q in (q13, q14):
        assert refused(deposit(q, "10")) == [("Deposits can only be collected on an approved quote.",
                                              ["input", "quoteId"])]
        out = gql(api, "QuoteConvert", QUOTE_CONVERT, {"id": q["id"]})["quoteConvert"]
        assert out["quote"] is None and out["invoice"] is None
        assert out["userErrors"] == [{"message": "Only an approved quote can be converted to an invoice.",
                                      "path": ["quoteId"]}]
    assert refused(deposit(q12, "400.01")) == [("Amount can't be more than the quote balance ($400.00).",
                                                ["input", "amount"])]
    assert refused(deposit(q12, None)) == [("Amount can't be blank.", ["input", "amount"])]
    assert refused(deposit(q12, "0")) == [("Amount must be greater than 0.", ["input", "amount"])]
    assert refused(deposit(q14 | {"id": q12["id"]}, "10")) == [("Quote not found for this client.",
                                                               ["input", "quoteId"])]
    inv = invoice_by_number(api, 1042)
    assert refused(deposit(q12, "10", allocations=[{"invoiceId": inv["id"], "amount": "1"}])) == [
        ("Record either invoice payments or a quote deposit, not both.", ["input", "quoteId"])]
    assert state(jobber) == before

    (dep,) = deposit(q12, "100.00", details="txn_dep Visa 4242")["payments"]
    assert (dep["kind"], dep["amount"], dep["invoice"], dep["quote"]["number"]) == ("deposit", "100.00", None, 12)
    assert quote_by_number(api, 12)["depositsPaid"] == "100.00"
    assert refused(deposit(q12, "300.01")) == [("Amount can't be more than the quote balance ($300.00).",
                                                ["input", "amount"])]

    out = gql(api, "QuoteConvert", QUOTE_CONVERT, {"id": q12["id"]})["quoteConvert"]
    assert out["userErrors"] == []
    new = out["invoice"]
    assert out["quote"] == {"id": q12["id"], "status": "CONVERTED", "invoice": {"id": new["id"]}}
    assert (new["status"], new["total"], new["balance"], new["subject"]) == ("DRAFT", "400.00", "300.00",
                                                                             "Spring cleanup")
    assert new["number"] == 1071 and new["lineItems"] == [{"name": "Spring cleanup"}]
    assert [(p["kind"], p["amount"], p["details"]) for p in new["payments"]] == [("deposit", "100.00",
                                                                                  "txn_dep Visa 4242")]
    again = gql(api, "QuoteConvert", QUOTE_CONVERT, {"id": q12["id"]})["quoteConvert"]
    assert again["userErrors"][0]["message"] == "Only an approved quote can be converted to an invoice."
    assert refused(pay(api, new, "300.00"))[0][0] == "Payments can't be recorded on a draft invoice."
    gql(api, "InvoiceMarkSent", MARK_SENT, {"id": new["id"]})
    assert refused(pay(api, new, "300.01"))[0][0] == "Amount can't be more than the invoice balance ($300.00)."
    assert pay(api, new, "300.00")["payments"][0]["invoice"]["status"] == "PAID"
    assert jobber.admin is not None
    q = jobber.admin.quote(12)
    assert (q["status"], q["invoice_id"], q["deposits"][0]["amount"]) == ("converted", int(new["id"]), "100.00")


# -- the account's payment screen and faults -------------------------------------------------
def test_page_account_card_label_and_override(jobber: MockJobber) -> None:
    assert jobber.admin is not None
    jobber.admin.reset(one_client_doc([{"number": 7, "status": "awaiting_payment",
                                        "line_items": [{"name": "a", "quantity": "1", "unit_price": "10"}]}],
                                      payment_ui="page"))
    with closing(sign_in(jobber, SOLO_EMAIL, SOLO_PASSWORD)) as api:
        acc = "query CurrentAccount { account { paymentUi } }"
        assert gql(api, "CurrentAccount", acc)["account"]["paymentUi"] == "PAGE"
        p = pay(api, invoice_by_number(api, 7), "4.00")["payments"][0]
        assert p["methodLabel"] == "Credit/debit card"
        jobber.admin.faults(payment_ui={"Solo Co": "dialog"})
        assert gql(api, "CurrentAccount", acc)["account"]["paymentUi"] == "DIALOG"
        assert invoice_by_number(api, 7)["payments"][0]["methodLabel"] == "Credit card"


def test_layout_variant_and_safe_mode_faults(jobber: MockJobber, api: httpx.Client) -> None:
    assert jobber.admin is not None
    jobber.admin.faults(layout_variant="more_actions", safe_mode=True)
    acc = gql(api, "CurrentAccount", "query CurrentAccount { account { layoutVariant safeMode } }")["account"]
    assert acc == {"layoutVariant": "more_actions", "safeMode": True}
    assert pay(api, invoice_by_number(api, 1042), "1.00")["userErrors"] == []  # payments work in safe mode


def test_error_fault(jobber: MockJobber, api: httpx.Client) -> None:
    assert jobber.admin is not None
    jobber.admin.faults(error_rate=1.0)
    r = post(api, "CurrentAccount", "query CurrentAccount { account { id } }")
    assert r.status_code == 500 and r.json() == {"errors": [{"message": "Internal server error"}]}
    jobber.admin.clear_faults()
    assert post(api, "CurrentAccount", "query CurrentAccount { account { id } }").status_code == 200


# -- the HTTP edge ---------------------------------------------------------------------------
def test_unauthenticated_and_csrf(jobber: MockJobber, api: httpx.Client) -> None:
    inv = invoice_by_number(api, 1042)
    mutation = {"input": {"clientId": inv["client"]["id"], "method": "CASH",
                          "allocations": [{"invoiceId": inv["id"], "amount": "1.00"}]}}
    before = state(jobber)
    unauth = {"errors": [{"message": "Unauthorized", "extensions": {"code": "UNAUTHENTICATED"}}]}
    forbidden = {"errors": [{"message": "Invalid CSRF token", "extensions": {"code": "FORBIDDEN"}}]}
    with jobber.client() as anon:
        anon.headers["X-CSRF-Token"] = api.headers["X-CSRF-Token"]
        r = post(anon, "PaymentCreate", PAYMENT_CREATE, mutation)
        assert (r.status_code, r.json()) == (401, unauth)
        anon.cookies.set(SESSION_COOKIE, "not-a-session")
        r = post(anon, "CurrentAccount", "query CurrentAccount { account { id } }")
        assert (r.status_code, r.json()) == (401, unauth)
    for headers in ({"X-CSRF-Token": ""}, {"X-CSRF-Token": "wrong"}):
        r = post(api, "PaymentCreate", PAYMENT_CREATE, mutation, headers=headers)
        assert (r.status_code, r.json()) == (403, forbidden)
    token = api.headers.pop("X-CSRF-Token")
    r = post(api, "CurrentAccount", "query CurrentAccount { account { id } }")  # no header at all
    api.headers["X-CSRF-Token"] = token
    assert (r.status_code, r.json()) == (403, forbidden)
    assert state(jobber) == before


def test_ended_session_is_unauthenticated(jobber: MockJobber, api: httpx.Client) -> None:
    assert post(api, "CurrentAccount", "query CurrentAccount { account { id } }").status_code == 200
    assert jobber.admin is not None
    jobber.admin.faults(end_app_sessions=True)
    r = post(api, "CurrentAccount", "query CurrentAccount { account { id } }")
    assert r.status_code == 401 and r.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_malformed_requests(api: httpx.Client) -> None:
    for content in (b"not json", b"[]", b'{"query": 5}', b'{"query": "{ account { id } }", "variables": []}'):
        r = api.post("/api/graphql", content=content, headers={"content-type": "application/json"})
        assert r.status_code == 400 and r.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST", content
    r = post(api, "Nope", "query Nope { nope }")
    assert r.status_code == 400 and r.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


def test_several_accounts_under_one_login_see_only_their_own(jobber: MockJobber) -> None:
    from tests.plugin_mock_jobber import FRANCHISE_EMAIL, FRANCHISE_PASSWORD

    with closing(sign_in(jobber, FRANCHISE_EMAIL, FRANCHISE_PASSWORD, account="Delta Lawn North")) as north:
        acc = gql(north, "CurrentAccount", "query CurrentAccount { account { name switchable } }")["account"]
        assert acc == {"name": "Delta Lawn North", "switchable": True}
        north_ids = [i["id"] for i in invoices(north)]
        dupes = invoices(north, searchTerm="3005")
        assert [(i["number"], i["client"]["name"]) for i in dupes] == [(3005, "Omar Haddad"), (3005, "Omar Haddad")]
    with closing(sign_in(jobber, FRANCHISE_EMAIL, FRANCHISE_PASSWORD, account="Delta Lawn South")) as south:
        assert sorted(i["number"] for i in invoices(south)) == [4001, 4002, 4010]
        for iid in north_ids:
            assert gql(south, "InvoiceShow", INVOICE_SHOW, {"id": iid})["invoice"] is None
