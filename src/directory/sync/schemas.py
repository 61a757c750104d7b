"""What the change feed answers."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from directory.sync.models import ChangeKind


class Change(BaseModel):
    cursor: str = Field(description="this entry's position: pass it as `after` to read on from here")
    id: uuid.UUID = Field(description="the listing's id (GET /v1/providers/{id})")
    version: int = Field(description="the listing's version after this change (its ETag)")
    kind: ChangeKind = Field(description="created: fetch and add; updated: fetch and replace; removed: delete")
    at: datetime


class ChangePage(BaseModel):
    items: list[Change]
    next_cursor: str = Field(
        description="pass as `after` for the next page; when `has_more` is false, poll with it later for new changes"
    )
    has_more: bool = Field(description="true when more entries wait right now")
