"""The billing schema without a database: SDL, changePlan input checks, entity stubs and Money.

Every request runs against a context whose database raises on use, so a test fails loudly if a
path that should need no SQL reaches for a session. Where a resolver needs rows, the test puts a
fake DataLoader into the context under the key the schema uses.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
from strawberry.dataloader import DataLoader

from subgraphs.billing.loaders import EXPERIMENT_COST_LOADER
from subgraphs.billing.models import InvoiceLineRecord, InvoiceRecord, PlanRecord
from subgraphs.billing.schema import INVOICE_LINES_LOADER, Money, Plan, schema
from subgraphs.kit import RequestContext
from tests.identity.principals import ADMIN_PRINCIPAL


class _UnreachableDatabase:
    """Stand-in database that fails the test on any use."""

    def session(self) -> Any:
        raise AssertionError("this request was expected to run without a database session")

    @property
    def engine(self) -> Any:
        raise AssertionError("this request was expected to run without a database engine")


def _context() -> RequestContext:
    return RequestContext(database=_UnreachableDatabase(), principal=ADMIN_PRINCIPAL)  # type: ignore[arg-type]


class _RecordingLoad:
    """Load function for a fake DataLoader that records every batch of keys it receives."""

    def __init__(self, values: dict[Any, Any], default: Any = None) -> None:
        self.values = values
        self.default = default
        self.batches: list[list[Any]] = []

    async def __call__(self, keys: Sequence[Any]) -> list[Any]:
        self.batches.append(list(keys))
        return [self.values.get(key, self.default) for key in keys]


def _install_loader(context: RequestContext, key: Any, load: _RecordingLoad) -> None:
    context.loader(key, lambda _database: DataLoader(load_fn=load))


CHANGE_PLAN = """
mutation ($input: ChangePlanInput!) {
  changePlan(input: $input) {
    __typename
    ... on ValidationError { message field code }
  }
}
"""

ENTITIES = """
query ($representations: [_Any!]!) {
  _entities(representations: $representations) {
    __typename
    ... on User { id }
    ... on Experiment { id cost { amountCents currency } }
    ... on Invoice { id number status total { amountCents currency } lines { description amount { amountCents currency } experiment { id } } }
  }
}
"""


# --- SDL ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "declaration",
    [
        'type User @key(fields: "id")',
        'type Invoice @key(fields: "id")',
        'type Experiment @key(fields: "id")',
        "type Money @shareable",
        "union ChangePlanResult = PlanSubscription | ValidationError | NotFoundError",
        "enum SubscriptionStatus",
        "enum InvoiceStatus",
    ],
)
def test_sdl_declares_type(declaration: str) -> None:
    assert declaration in schema.as_str()


@pytest.mark.parametrize(
    ("type_name", "field_name", "field_type"),
    [
        ("User", "id", "ID!"),
        ("User", "plan", "Plan"),
        ("User", "subscription", "PlanSubscription"),
        ("User", "invoices", "InvoiceConnection"),
        ("Experiment", "id", "ID!"),
        ("Experiment", "cost", "Money"),
        ("Money", "amountCents", "Int!"),
        ("Money", "currency", "String!"),
        ("Plan", "monthlyPrice", "Money!"),
        ("Plan", "experimentQuota", "Int!"),
        ("Plan", "computeHourPrice", "Money!"),
        ("PlanSubscription", "plan", "Plan!"),
        ("PlanSubscription", "status", "SubscriptionStatus!"),
        ("PlanSubscription", "createdAt", "DateTime!"),
        ("Invoice", "user", "User!"),
        ("Invoice", "periodStart", "DateTime!"),
        ("Invoice", "status", "InvoiceStatus!"),
        ("Invoice", "total", "Money!"),
        ("Invoice", "lines", "[InvoiceLine!]!"),
        ("InvoiceLine", "amount", "Money!"),
        ("InvoiceLine", "experiment", "Experiment"),
        ("Query", "invoice", "Invoice"),
        ("Query", "plans", "[Plan!]!"),
        ("Query", "plan", "Plan"),
        ("Mutation", "changePlan", "ChangePlanResult"),
    ],
)
def test_sdl_field_type(type_name: str, field_name: str, field_type: str) -> None:
    graphql_type = schema._schema.type_map[type_name]

    assert field_name in graphql_type.fields, f"{type_name}.{field_name} is missing"
    assert str(graphql_type.fields[field_name].type) == field_type


def test_sdl_user_stub_owns_no_profile_fields() -> None:
    # The users module resolves the profile, so billing contributes only its own fields.
    assert set(schema._schema.type_map["User"].fields) == {"id", "plan", "subscription", "invoices"}


def test_sdl_invoices_paginate_arguments() -> None:
    arguments = schema._schema.type_map["User"].fields["invoices"].args

    assert str(arguments["first"].type) == "Int"
    assert str(arguments["after"].type) == "String"


def test_sdl_has_no_subscription_type() -> None:
    # Apollo composition would turn a type named Subscription into the subscription root.
    assert "Subscription" not in schema._schema.type_map
    assert schema._schema.subscription_type is None


def test_sdl_entities_union() -> None:
    assert "union _Entity = Experiment | Invoice | User" in schema.as_str()


# --- changePlan input checks -------------------------------------------------------------------


async def test_change_plan_invalid_user_id() -> None:
    result = await schema.execute(CHANGE_PLAN, variable_values={"input": {"userId": "user-42", "planCode": "team"}}, context_value=_context())

    assert result.errors is None
    payload = result.data["changePlan"]
    assert payload["__typename"] == "ValidationError"
    assert payload["field"] == "userId"
    assert payload["code"] == "INVALID_INPUT"
    assert "'user-42'" in payload["message"]


@pytest.mark.parametrize("plan_code", ["", "   "])
async def test_change_plan_blank_plan_code(plan_code: str) -> None:
    variables = {"input": {"userId": str(uuid.uuid4()), "planCode": plan_code}}
    result = await schema.execute(CHANGE_PLAN, variable_values=variables, context_value=_context())

    assert result.errors is None
    payload = result.data["changePlan"]
    assert payload["__typename"] == "ValidationError"
    assert payload["field"] == "planCode"
    assert "plans" in payload["message"]


async def test_change_plan_checks_user_id_first() -> None:
    result = await schema.execute(CHANGE_PLAN, variable_values={"input": {"userId": "", "planCode": ""}}, context_value=_context())

    assert result.errors is None
    assert result.data["changePlan"]["field"] == "userId"


# --- Query arguments ---------------------------------------------------------------------------


async def test_invoice_query_invalid_id() -> None:
    result = await schema.execute('{ invoice(id: "INV-1") { id } }', context_value=_context())

    assert result.errors is not None
    assert result.errors[0].extensions["code"] == "BAD_USER_INPUT"
    assert "'INV-1'" in result.errors[0].message


# --- entity stubs ------------------------------------------------------------------------------


async def test_user_reference_needs_no_sql() -> None:
    user_id = str(uuid.uuid4())
    result = await schema.execute(
        ENTITIES, variable_values={"representations": [{"__typename": "User", "id": user_id}]}, context_value=_context()
    )

    assert result.errors is None
    assert result.data["_entities"] == [{"__typename": "User", "id": user_id}]


@pytest.mark.parametrize("typename", ["User", "Experiment", "Invoice"])
async def test_reference_with_invalid_id_is_null(typename: str) -> None:
    result = await schema.execute(
        ENTITIES, variable_values={"representations": [{"__typename": typename, "id": "not-a-uuid"}]}, context_value=_context()
    )

    assert result.errors is None
    assert result.data["_entities"] == [None]


async def test_experiment_cost_batches_keys() -> None:
    charged, uncharged, other = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    context = _context()
    load = _RecordingLoad({charged: 1_234, other: 99}, default=0)
    _install_loader(context, EXPERIMENT_COST_LOADER, load)

    representations = [{"__typename": "Experiment", "id": str(key)} for key in (charged, uncharged, other)]
    result = await schema.execute(ENTITIES, variable_values={"representations": representations}, context_value=context)

    assert result.errors is None
    costs = [entity["cost"] for entity in result.data["_entities"]]
    assert costs == [
        {"amountCents": 1_234, "currency": "EUR"},
        {"amountCents": 0, "currency": "EUR"},
        {"amountCents": 99, "currency": "EUR"},
    ]
    assert load.batches == [[charged, uncharged, other]]


def _invoice(number: str, currency: str = "EUR") -> InvoiceRecord:
    return InvoiceRecord(
        user_id=uuid.uuid4(),
        number=number,
        period_start=datetime(2025, 3, 1, tzinfo=UTC),
        status="paid",
        currency=currency,
    )


def _line(invoice: InvoiceRecord, description: str, amount_cents: int, experiment_id: uuid.UUID | None = None) -> InvoiceLineRecord:
    return InvoiceLineRecord(invoice_id=invoice.id, description=description, amount_cents=amount_cents, experiment_id=experiment_id)


async def test_invoice_total_and_lines_share_one_batch() -> None:
    experiment_id = uuid.uuid4()
    first, second, empty = _invoice("INV-1"), _invoice("INV-2", currency="USD"), _invoice("INV-3")
    lines = {
        first.id: [_line(first, "Team plan", 4_900), _line(first, "Compute", 1_250, experiment_id)],
        second.id: [_line(second, "Free plan", 0)],
    }
    context = _context()
    invoice_load = _RecordingLoad({record.id: record for record in (first, second, empty)})
    lines_load = _RecordingLoad(lines, default=[])
    _install_loader(context, InvoiceRecord, invoice_load)
    _install_loader(context, INVOICE_LINES_LOADER, lines_load)

    representations = [{"__typename": "Invoice", "id": str(record.id)} for record in (first, second, empty)]
    result = await schema.execute(ENTITIES, variable_values={"representations": representations}, context_value=context)

    assert result.errors is None
    entities = result.data["_entities"]
    assert [entity["total"] for entity in entities] == [
        {"amountCents": 6_150, "currency": "EUR"},
        {"amountCents": 0, "currency": "USD"},
        {"amountCents": 0, "currency": "EUR"},
    ]
    assert entities[0]["lines"] == [
        {"description": "Team plan", "amount": {"amountCents": 4_900, "currency": "EUR"}, "experiment": None},
        {"description": "Compute", "amount": {"amountCents": 1_250, "currency": "EUR"}, "experiment": {"id": str(experiment_id)}},
    ]
    assert entities[1]["lines"][0]["amount"] == {"amountCents": 0, "currency": "USD"}
    assert entities[2]["lines"] == []
    assert entities[0]["status"] == "PAID"
    # Three invoices, each asking for lines and total, cost one batch of each loader.
    assert len(invoice_load.batches) == 1
    assert lines_load.batches == [[first.id, second.id, empty.id]]


async def test_unknown_invoice_reference_is_null() -> None:
    context = _context()
    _install_loader(context, InvoiceRecord, _RecordingLoad({}))

    representations = [{"__typename": "Invoice", "id": str(uuid.uuid4())}]
    result = await schema.execute(ENTITIES, variable_values={"representations": representations}, context_value=context)

    assert result.errors is None
    assert result.data["_entities"] == [None]


# --- Money -------------------------------------------------------------------------------------


def test_money_defaults_to_euro() -> None:
    money = Money.from_cents(4_900)

    assert money.amount_cents == 4_900
    assert money.currency == "EUR"


def test_money_keeps_given_currency() -> None:
    assert Money.from_cents(100, "USD").currency == "USD"


def test_plan_prices_become_money() -> None:
    record = PlanRecord(code="team", name="Team", monthly_price_cents=4_900, experiment_quota=200, compute_hour_price_cents=120)

    plan = Plan.from_record(record)

    assert plan.monthly_price == Money(amount_cents=4_900, currency="EUR")
    assert plan.compute_hour_price == Money(amount_cents=120, currency="EUR")
    assert plan.experiment_quota == 200
    assert plan.id == str(record.id)
