"""Usage charges for completed experiments, computed without a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from subgraphs.billing.handlers import usage_charge_cents

FINISHED = datetime(2026, 12, 1, 12, tzinfo=UTC)


def test_charge_is_hours_times_price() -> None:
    assert usage_charge_cents(FINISHED - timedelta(hours=2), FINISHED, 120) == 240


def test_charge_rounds_up_to_cents() -> None:
    assert usage_charge_cents(FINISHED - timedelta(seconds=61), FINISHED, 120) == 3


def test_short_run_costs_one_cent() -> None:
    assert usage_charge_cents(FINISHED - timedelta(seconds=1), FINISHED, 90) == 1


def test_free_plan_costs_nothing() -> None:
    assert usage_charge_cents(FINISHED - timedelta(hours=5), FINISHED, 0) == 0


def test_never_started_costs_minimum() -> None:
    assert usage_charge_cents(None, FINISHED, 120) == 1
