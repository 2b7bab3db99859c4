"""The deterministic seed data set shared by every module.

Ids are name-based UUIDs derived from a fixed namespace and an ordinal, and every random choice
comes from one seeded generator, so two runs produce the same rows byte for byte and tests or
benchmarks can name a seeded user by its ordinal.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

__all__ = [
    "Dataset",
    "SeedOrganisation",
    "SeedUser",
    "SeedExperiment",
    "SeedPlan",
    "SeedSubscription",
    "SeedInvoice",
    "SeedInvoiceLine",
    "build_dataset",
    "seed_id",
]

NAMESPACE = uuid.UUID("6b8a4c1e-64a0-4c4b-9a64-1ab5640e0064")
EPOCH = datetime(2025, 1, 1, tzinfo=UTC)

ORGANISATIONS = 50
USERS = 1_000
EXPERIMENTS = 10_000
INVOICES_PER_USER = 20

_FIRST_NAMES = [
    "Ada", "Alan", "Barbara", "Claude", "Donald", "Edsger", "Frances", "Grace", "Hedy", "Ivan",
    "John", "Katherine", "Leslie", "Margaret", "Niklaus", "Ole", "Radia", "Shafi", "Tim", "Vint",
]
_LAST_NAMES = [
    "Lovelace", "Turing", "Liskov", "Shannon", "Knuth", "Dijkstra", "Allen", "Hopper", "Lamarr",
    "Sutherland", "McCarthy", "Johnson", "Lamport", "Hamilton", "Wirth", "Dahl", "Perlman",
    "Goldwasser", "Berners-Lee", "Cerf",
]
_ORG_WORDS = [
    "Quantum", "Helix", "Nimbus", "Vertex", "Orbit", "Photon", "Cobalt", "Aurora", "Lattice", "Meridian",
]
_ORG_SUFFIXES = ["Labs", "Research", "Analytics", "Systems", "Bio"]
_TOPICS = ["protein folding", "catalyst yield", "battery cycling", "crop resilience", "signal denoising", "drug binding"]


def seed_id(kind: str, ordinal: int) -> uuid.UUID:
    """Id of the ``ordinal``-th seeded object of ``kind`` (``user``, ``experiment``...).

    The UUIDv5 hash carries version 4 bits, because Fief, which holds the seeded users under the
    same ids, accepts only version 4 UUIDs in its admin API and dashboard.
    """
    return uuid.UUID(bytes=uuid.uuid5(NAMESPACE, f"{kind}:{ordinal}").bytes, version=4)


@dataclass(frozen=True)
class SeedOrganisation:
    id: uuid.UUID
    name: str
    slug: str
    created_at: datetime


@dataclass(frozen=True)
class SeedUser:
    id: uuid.UUID
    email: str
    display_name: str
    organisation_id: uuid.UUID
    created_at: datetime


@dataclass(frozen=True)
class SeedExperiment:
    id: uuid.UUID
    owner_id: uuid.UUID
    member_ids: list[uuid.UUID]
    title: str
    status: str
    parameters: dict[str, Any]
    result_summary: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    compute_hours: float


@dataclass(frozen=True)
class SeedPlan:
    id: uuid.UUID
    code: str
    name: str
    monthly_price_cents: int
    experiment_quota: int
    compute_hour_price_cents: int


@dataclass(frozen=True)
class SeedSubscription:
    id: uuid.UUID
    user_id: uuid.UUID
    plan_id: uuid.UUID
    status: str
    created_at: datetime


@dataclass(frozen=True)
class SeedInvoiceLine:
    id: uuid.UUID
    invoice_id: uuid.UUID
    description: str
    amount_cents: int
    experiment_id: uuid.UUID | None
    created_at: datetime


@dataclass(frozen=True)
class SeedInvoice:
    id: uuid.UUID
    user_id: uuid.UUID
    number: str
    period_start: datetime
    status: str
    currency: str
    created_at: datetime
    lines: list[SeedInvoiceLine] = field(default_factory=list)

    @property
    def total_cents(self) -> int:
        return sum(line.amount_cents for line in self.lines)


@dataclass(frozen=True)
class Dataset:
    organisations: list[SeedOrganisation]
    users: list[SeedUser]
    experiments: list[SeedExperiment]
    plans: list[SeedPlan]
    subscriptions: list[SeedSubscription]
    invoices: list[SeedInvoice]


def _plans() -> list[SeedPlan]:
    return [
        SeedPlan(seed_id("plan", 0), "free", "Free", 0, 10, 0),
        SeedPlan(seed_id("plan", 1), "team", "Team", 4_900, 200, 120),
        SeedPlan(seed_id("plan", 2), "enterprise", "Enterprise", 49_900, 5_000, 90),
    ]


def _month_start(index: int) -> datetime:
    year, month = divmod(index, 12)
    return datetime(EPOCH.year + year, month + 1, 1, tzinfo=UTC)


def build_dataset(users: int = USERS, organisations: int = ORGANISATIONS, experiments: int = EXPERIMENTS) -> Dataset:
    """Build the whole data set; about 0.5 s for the default sizes."""
    rng = random.Random(64)

    orgs = []
    for i in range(organisations):
        name = f"{_ORG_WORDS[i % len(_ORG_WORDS)]} {_ORG_SUFFIXES[(i // len(_ORG_WORDS)) % len(_ORG_SUFFIXES)]}"
        if i >= len(_ORG_WORDS) * len(_ORG_SUFFIXES):
            name = f"{name} {i}"
        slug = f"{name.lower().replace(' ', '-')}"
        orgs.append(SeedOrganisation(seed_id("organisation", i), name, slug, EPOCH + timedelta(days=i)))

    people = []
    for i in range(users):
        first = _FIRST_NAMES[i % len(_FIRST_NAMES)]
        last = _LAST_NAMES[(i // len(_FIRST_NAMES)) % len(_LAST_NAMES)]
        org = orgs[i % organisations]
        email = f"{first}.{last}.{i}@{org.slug}.example".lower()
        people.append(SeedUser(seed_id("user", i), email, f"{first} {last}", org.id, EPOCH + timedelta(days=60, hours=i)))

    members_by_org: dict[uuid.UUID, list[SeedUser]] = {}
    for person in people:
        members_by_org.setdefault(person.organisation_id, []).append(person)

    statuses = ["draft"] * 10 + ["running"] * 15 + ["completed"] * 60 + ["failed"] * 15
    work = []
    for i in range(experiments):
        owner = people[rng.randrange(users)]
        colleagues = [p.id for p in members_by_org[owner.organisation_id] if p.id != owner.id]
        member_ids = rng.sample(colleagues, k=min(len(colleagues), rng.randint(0, 3)))
        status = rng.choice(statuses)
        created_at = EPOCH + timedelta(days=90, minutes=i * 79)
        started_at = created_at + timedelta(hours=rng.randint(1, 48)) if status != "draft" else None
        compute_hours = round(rng.uniform(0.5, 120.0), 2) if status in ("completed", "failed") else 0.0
        finished_at = started_at + timedelta(hours=compute_hours) if started_at and compute_hours else None
        topic = _TOPICS[i % len(_TOPICS)]
        summary = None
        if status == "completed":
            summary = f"{topic.capitalize()} improved by {rng.uniform(0.5, 30):.1f}% over baseline."
        elif status == "failed":
            summary = rng.choice(["Diverged after warm-up.", "Sample contamination detected.", "Out of memory on node."])
        work.append(
            SeedExperiment(
                id=seed_id("experiment", i),
                owner_id=owner.id,
                member_ids=member_ids,
                title=f"{topic.capitalize()} run {i}",
                status=status,
                parameters={"temperature_c": rng.choice([4, 20, 37, 80]), "replicates": rng.randint(1, 12), "seed": i},
                result_summary=summary,
                created_at=created_at,
                started_at=started_at,
                finished_at=finished_at,
                compute_hours=compute_hours,
            )
        )

    plans = _plans()
    subscriptions = [
        SeedSubscription(seed_id("subscription", i), person.id, plans[i % 3].id, "active", person.created_at)
        for i, person in enumerate(people)
    ]

    invoices = _invoices(people, subscriptions, plans, work)
    return Dataset(orgs, people, work, plans, subscriptions, invoices)


def _invoices(
    people: list[SeedUser], subscriptions: list[SeedSubscription], plans: list[SeedPlan], work: list[SeedExperiment]
) -> list[SeedInvoice]:
    """Build one invoice per user per month: the plan fee plus a usage line per finished experiment."""
    plan_by_id = {plan.id: plan for plan in plans}
    plan_of_user = {sub.user_id: plan_by_id[sub.plan_id] for sub in subscriptions}
    finished = {}
    for experiment in work:
        if experiment.finished_at is not None:
            finished.setdefault(experiment.owner_id, []).append(experiment)

    invoices = []
    line_ordinal = 0
    for user_ordinal, person in enumerate(people):
        plan = plan_of_user[person.id]
        for month in range(INVOICES_PER_USER):
            ordinal = user_ordinal * INVOICES_PER_USER + month
            period_start = _month_start(month)
            period_end = _month_start(month + 1)
            invoice_id = seed_id("invoice", ordinal)
            # The newest month is still open; earlier ones were paid.
            status = "open" if month == INVOICES_PER_USER - 1 else "paid"
            lines = [SeedInvoiceLine(seed_id("invoice-line", line_ordinal), invoice_id, f"{plan.name} plan", plan.monthly_price_cents, None, period_start)]
            line_ordinal += 1
            for experiment in finished.get(person.id, []):
                if period_start <= experiment.finished_at < period_end:  # type: ignore[operator]
                    amount = round(experiment.compute_hours * plan.compute_hour_price_cents)
                    lines.append(
                        SeedInvoiceLine(
                            seed_id("invoice-line", line_ordinal), invoice_id, f"Compute for {experiment.title}", amount, experiment.id, experiment.finished_at  # type: ignore[arg-type]
                        )
                    )
                    line_ordinal += 1
            invoices.append(
                SeedInvoice(invoice_id, person.id, f"INV-{period_start:%Y%m}-{user_ordinal:05d}", period_start, status, "EUR", period_end, lines)
            )
    return invoices
