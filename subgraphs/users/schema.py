"""GraphQL schema of the users module: the ``User`` and ``Organisation`` entities."""

from __future__ import annotations

import logging
import re
import uuid
from datetime import UTC, datetime
from typing import Annotated

import strawberry
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from strawberry.types import Info

from events.catalog import UserDeletedV1
from events.outbox import record_event
from identity.catalog import ADMIN
from subgraphs.kit import (
    Connection,
    IsAuthenticated,
    NotFoundError,
    RequestContext,
    RequiresPermission,
    ValidationError,
    entity_loader,
    paginate,
    current_principal,
    parse_id,
    requires_permission,
    try_parse_id,
)
from subgraphs.users.models import OrganisationRecord, UserRecord

__all__ = ["schema", "User", "Organisation"]

logger = logging.getLogger(__name__)

EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_DISPLAY_NAME = 100


def _user_loader(info: Info[RequestContext, None]):
    return info.context.loader(UserRecord, lambda db: entity_loader(db, UserRecord))


def _organisation_loader(info: Info[RequestContext, None]):
    return info.context.loader(OrganisationRecord, lambda db: entity_loader(db, OrganisationRecord))


@strawberry.federation.type(keys=["id"], description="A person with an account on the platform.")
class User:
    id: strawberry.ID
    email: str
    display_name: str
    created_at: datetime
    organisation_id: strawberry.Private[uuid.UUID]

    @strawberry.field(description="Organisation the user belongs to.")
    async def organisation(self, info: Info[RequestContext, None]) -> Organisation:
        record = await _organisation_loader(info).load(self.organisation_id)
        return Organisation.from_record(record)

    @classmethod
    def from_record(cls, record: UserRecord) -> User:
        return cls(
            id=strawberry.ID(str(record.id)),
            email=record.email,
            display_name=record.display_name,
            created_at=record.created_at,
            organisation_id=record.organisation_id,
        )

    @classmethod
    async def resolve_reference(cls, info: Info[RequestContext, None], id: strawberry.ID) -> User | None:
        # Every representation goes through the request's loader, so N users cost one query.
        parsed = try_parse_id(id)
        if parsed is None:
            return None
        record = await _user_loader(info).load(parsed)
        return cls.from_record(record) if record is not None else None


@strawberry.federation.type(keys=["id"], description="A company or team that users belong to.")
class Organisation:
    id: strawberry.ID
    name: str
    slug: str
    created_at: datetime

    @strawberry.field(description="Users of this organisation, newest first.")
    async def members(
        self, info: Info[RequestContext, None], first: int | None = None, after: str | None = None
    ) -> Connection[User]:
        statement = select(UserRecord).where(UserRecord.organisation_id == uuid.UUID(self.id))
        return await paginate(info.context.database, statement, UserRecord, first=first, after=after, to_node=User.from_record)

    @classmethod
    def from_record(cls, record: OrganisationRecord) -> Organisation:
        return cls(id=strawberry.ID(str(record.id)), name=record.name, slug=record.slug, created_at=record.created_at)

    @classmethod
    async def resolve_reference(cls, info: Info[RequestContext, None], id: strawberry.ID) -> Organisation | None:
        parsed = try_parse_id(id)
        if parsed is None:
            return None
        record = await _organisation_loader(info).load(parsed)
        return cls.from_record(record) if record is not None else None


@strawberry.input(description="A new user profile.")
class CreateUserInput:
    email: str
    display_name: str
    organisation_id: strawberry.ID


@strawberry.input(description="The signed-in user's own profile, created once after signing up in Fief.")
class RegisterProfileInput:
    display_name: str
    organisation_id: strawberry.ID


CreateUserResult = Annotated[User | ValidationError | NotFoundError, strawberry.union("CreateUserResult")]


@strawberry.type(description="The id of a user profile that deleteUser removed.")
class DeletedUser:
    id: strawberry.ID


DeleteUserResult = Annotated[DeletedUser | ValidationError | NotFoundError, strawberry.union("DeleteUserResult")]


def _validate_new_user(data: CreateUserInput) -> ValidationError | None:
    if not EMAIL_PATTERN.match(data.email):
        return ValidationError(message=f"Invalid email {data.email!r}: expected an address such as 'ada@example.com'.", field="email")
    if not data.display_name.strip():
        return ValidationError(message="Invalid displayName: it must not be empty.", field="displayName")
    if len(data.display_name) > MAX_DISPLAY_NAME:
        return ValidationError(
            message=f"Invalid displayName: {len(data.display_name)} characters, at most {MAX_DISPLAY_NAME} allowed.",
            field="displayName",
        )
    if try_parse_id(data.organisation_id) is None:
        return ValidationError(message=f"Invalid organisationId {data.organisation_id!r}: expected a UUID.", field="organisationId")
    return None


@strawberry.type
class Query:
    @strawberry.field(description="The signed-in user's profile, or null when the users module has none yet.", permission_classes=[IsAuthenticated])
    async def me(self, info: Info[RequestContext, None]) -> User | None:
        principal = await current_principal(info)
        record = await _user_loader(info).load(principal.subject)
        return User.from_record(record) if record is not None else None

    @strawberry.field(description="One user by id, or null when none has it.", permission_classes=[IsAuthenticated])
    async def user(self, info: Info[RequestContext, None], id: strawberry.ID) -> User | None:
        record = await _user_loader(info).load(parse_id(id))
        return User.from_record(record) if record is not None else None

    @strawberry.field(description="One user by email address, or null.", permission_classes=[IsAuthenticated])
    async def user_by_email(self, info: Info[RequestContext, None], email: str) -> User | None:
        async with info.context.database.session() as session:
            record = (await session.execute(select(UserRecord).where(UserRecord.email == email.lower()))).scalar_one_or_none()
        return User.from_record(record) if record is not None else None

    # Guarded root fields are nullable, so an anonymous caller's error nulls only this field and the
    # public fields of the same request (such as billing's plans) still return.
    @strawberry.field(description="All users, newest first.", permission_classes=[IsAuthenticated])
    async def users(
        self, info: Info[RequestContext, None], first: int | None = None, after: str | None = None
    ) -> Connection[User] | None:
        return await paginate(info.context.database, select(UserRecord), UserRecord, first=first, after=after, to_node=User.from_record)

    @strawberry.field(description="One organisation by id, or null.", permission_classes=[IsAuthenticated])
    async def organisation(self, info: Info[RequestContext, None], id: strawberry.ID) -> Organisation | None:
        record = await _organisation_loader(info).load(parse_id(id))
        return Organisation.from_record(record) if record is not None else None

    @strawberry.field(description="All organisations, newest first.", permission_classes=[IsAuthenticated])
    async def organisations(
        self, info: Info[RequestContext, None], first: int | None = None, after: str | None = None
    ) -> Connection[Organisation] | None:
        return await paginate(
            info.context.database, select(OrganisationRecord), OrganisationRecord, first=first, after=after, to_node=Organisation.from_record
        )


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Create a user profile in an existing organisation.",
        permission_classes=[requires_permission(ADMIN)],
        directives=[RequiresPermission(name=ADMIN)],
    )
    async def create_user(self, info: Info[RequestContext, None], input: CreateUserInput) -> CreateUserResult | None:
        invalid = _validate_new_user(input)
        if invalid is not None:
            return invalid

        record = UserRecord(email=input.email.strip().lower(), display_name=input.display_name.strip(), organisation_id=uuid.UUID(input.organisation_id))
        return await _insert_profile(info, record)

    @strawberry.mutation(
        description="Create the signed-in user's profile under their Fief id and email, once, after signing up.",
        permission_classes=[IsAuthenticated],
    )
    async def register_profile(self, info: Info[RequestContext, None], input: RegisterProfileInput) -> CreateUserResult | None:
        principal = await current_principal(info)
        email = str((await info.context.userinfo()).get("email", ""))
        invalid = _validate_new_user(CreateUserInput(email=email, display_name=input.display_name, organisation_id=input.organisation_id))
        if invalid is not None:
            return invalid
        if await _user_loader(info).load(principal.subject) is not None:
            return ValidationError(message=f"User {principal.subject} already has a profile: query `me` instead.", code="PROFILE_EXISTS")

        record = UserRecord(
            id=principal.subject, email=email.lower(), display_name=input.display_name.strip(), organisation_id=uuid.UUID(input.organisation_id)
        )
        return await _insert_profile(info, record)

    @strawberry.mutation(
        description="Delete a user profile. The other modules react to the event: labs archives the user's "
        "experiments and billing cancels the subscription, shortly after this returns.",
        permission_classes=[requires_permission(ADMIN)],
        directives=[RequiresPermission(name=ADMIN)],
    )
    async def delete_user(self, info: Info[RequestContext, None], id: strawberry.ID) -> DeleteUserResult | None:
        user_id = try_parse_id(id)
        if user_id is None:
            return ValidationError(message=f"Invalid id {id!r}: expected a user's UUID.", field="id")

        async with info.context.database.session() as session:
            record = await session.get(UserRecord, user_id, with_for_update=True)
            if record is None:
                return NotFoundError(message=f"User {id} not found.", id=id)
            await session.delete(record)
            await record_event(session, UserDeletedV1(user_id=user_id, deleted_at=datetime.now(UTC)))
            await session.commit()
        logger.info("user deleted", extra={"user_id": str(user_id)})
        return DeletedUser(id=strawberry.ID(str(user_id)))


async def _insert_profile(info: Info[RequestContext, None], record: UserRecord) -> User | ValidationError | NotFoundError:
    async with info.context.database.session() as session:
        if await session.get(OrganisationRecord, record.organisation_id) is None:
            return NotFoundError(message=f"Organisation {record.organisation_id} not found.", id=strawberry.ID(str(record.organisation_id)))
        session.add(record)
        try:
            await session.commit()
        except IntegrityError:
            return ValidationError(
                message=f"Email {record.email!r} is already registered: sign in instead, or use another address.",
                field="email",
                code="EMAIL_TAKEN",
            )
    return User.from_record(record)


schema = strawberry.federation.Schema(query=Query, mutation=Mutation, types=[User, Organisation])
