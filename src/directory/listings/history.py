"""What a listing's history answers: who changed what and when."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class HistoryEntry(BaseModel):
    id: int
    at: datetime
    actor: str = Field(description="admin, or <role>:<account id>")
    action: str = Field(examples=["updated"])
    changes: dict[str, Any] = Field(description='{field: {"before": ..., "after": ...}}')
    reason: str | None


class HistoryPage(BaseModel):
    items: list[HistoryEntry]
    next_cursor: str | None
