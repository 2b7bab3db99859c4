"""Tables of the users module, in its own SQLAlchemy registry so its migrations see only them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import Column, DateTime, Index
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

__all__ = ["UsersModel", "OrganisationRecord", "UserRecord"]


def _now() -> datetime:
    return datetime.now(UTC)


class UsersModel(SQLModel, registry=registry()):
    pass


class OrganisationRecord(UsersModel, table=True):
    __tablename__ = "organisation"
    __table_args__ = (Index("ix_organisation_created_at", "created_at", "id"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    name: str = Field(max_length=200)
    slug: str = Field(max_length=100, unique=True)
    created_at: datetime = Field(default_factory=_now, sa_column=Column(DateTime(timezone=True), nullable=False))


class UserRecord(UsersModel, table=True):
    __tablename__ = "user_profile"
    __table_args__ = (Index("ix_user_profile_created_at", "created_at", "id"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    email: str = Field(max_length=320, unique=True)
    display_name: str = Field(max_length=100)
    organisation_id: uuid.UUID = Field(foreign_key="organisation.id", index=True)
    created_at: datetime = Field(default_factory=_now, sa_column=Column(DateTime(timezone=True), nullable=False))
