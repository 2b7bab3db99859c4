"""Who sees and changes experiments: the labs module's rules, run in-process against real PostgreSQL."""

from __future__ import annotations

from identity.catalog import EXPERIMENTS_READ
from identity.verifier import Principal
from labs64.dataset import build_dataset, seed_id
from subgraphs.kit import Database, RequestContext
from subgraphs.labs.schema import schema
from tests.identity.principals import ADMIN_PRINCIPAL, principal, seeded_principal

DATASET = build_dataset()


async def _execute(database: Database, caller: Principal | None, query: str, **variables: object):  # type: ignore[no-untyped-def]
    return await schema.execute(query, variable_values=variables, context_value=RequestContext(database=database, principal=caller))


def _visible_ids(user: int) -> set[str]:
    subject = seed_id("user", user)
    return {str(e.id) for e in DATASET.experiments if e.owner_id == subject or subject in e.member_ids}


def _stranger_experiment(user: int) -> str:
    subject = seed_id("user", user)
    return str(next(e.id for e in DATASET.experiments if e.owner_id != subject and subject not in e.member_ids))


async def test_experiments_lists_only_the_callers_own_and_shared(labs_database: Database) -> None:
    result = await _execute(labs_database, seeded_principal(3), "{ experiments(first: 100) { totalCount edges { node { id } } } }")

    assert result.errors is None
    ids = {edge["node"]["id"] for edge in result.data["experiments"]["edges"]}
    assert ids == _visible_ids(3)
    assert result.data["experiments"]["totalCount"] == len(_visible_ids(3))


async def test_admin_lists_every_experiment(labs_database: Database) -> None:
    result = await _execute(labs_database, ADMIN_PRINCIPAL, "{ experiments(first: 1) { totalCount } }")

    assert result.data["experiments"]["totalCount"] >= len(DATASET.experiments)


async def test_foreign_experiment_is_forbidden_on_that_field_only(labs_database: Database) -> None:
    own = next(iter(_visible_ids(3)))
    query = "query($own: ID!, $other: ID!) { mine: experiment(id: $own) { id } theirs: experiment(id: $other) { id } }"

    result = await _execute(labs_database, seeded_principal(3), query, own=own, other=_stranger_experiment(3))

    assert result.data["mine"] == {"id": own}
    assert result.data["theirs"] is None
    assert [error.extensions["code"] for error in result.errors] == ["FORBIDDEN"]
    assert result.errors[0].path == ["theirs"]


async def test_without_experiments_read_nothing_is_listed(labs_database: Database) -> None:
    caller = principal(seed_id("user", 3))

    result = await _execute(labs_database, caller, "{ experiments(first: 1) { totalCount } }")

    assert result.data == {"experiments": None}
    assert result.errors[0].extensions == {"code": "FORBIDDEN", "permission": EXPERIMENTS_READ}


async def test_no_caller_is_unauthenticated(labs_database: Database) -> None:
    result = await _execute(labs_database, None, "{ experiments(first: 1) { totalCount } }")

    assert result.data == {"experiments": None}
    assert result.errors[0].extensions["code"] == "UNAUTHENTICATED"


async def test_entities_hide_experiments_the_caller_may_not_see(labs_database: Database) -> None:
    own, other = next(iter(_visible_ids(3))), _stranger_experiment(3)
    representations = [{"__typename": "Experiment", "id": own}, {"__typename": "Experiment", "id": other}]
    query = "query($r: [_Any!]!) { _entities(representations: $r) { ... on Experiment { id } } }"

    result = await _execute(labs_database, seeded_principal(3), query, r=representations)

    assert result.data["_entities"] == [{"id": own}, None]


CREATE = """
mutation($owner: ID!) { createExperiment(input: {ownerId: $owner, title: "Authorized run"}) { __typename ... on Experiment { id } } }
"""


async def test_viewer_cannot_create_experiments(labs_database: Database) -> None:
    result = await _execute(labs_database, seeded_principal(2), CREATE, owner=str(seed_id("user", 2)))

    assert result.errors[0].extensions["code"] == "FORBIDDEN"
    assert result.data == {"createExperiment": None}


async def test_researcher_creates_only_their_own(labs_database: Database) -> None:
    own = await _execute(labs_database, seeded_principal(3), CREATE, owner=str(seed_id("user", 3)))
    foreign = await _execute(labs_database, seeded_principal(3), CREATE, owner=str(seed_id("user", 4)))

    assert own.errors is None
    assert own.data["createExperiment"]["__typename"] == "Experiment"
    assert foreign.errors[0].extensions["code"] == "FORBIDDEN"


async def test_only_participants_change_an_experiment(labs_database: Database) -> None:
    transition = 'mutation($id: ID!) { transitionExperiment(input: {id: $id, status: RUNNING}) { __typename } }'
    created = await _execute(labs_database, seeded_principal(3), CREATE, owner=str(seed_id("user", 3)))
    experiment = created.data["createExperiment"]["id"]

    outsider = await _execute(labs_database, seeded_principal(4), transition, id=experiment)
    owner = await _execute(labs_database, seeded_principal(3), transition, id=experiment)

    assert outsider.errors[0].extensions["code"] == "FORBIDDEN"
    assert owner.errors is None
    assert owner.data["transitionExperiment"]["__typename"] == "Experiment"
