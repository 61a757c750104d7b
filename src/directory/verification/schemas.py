"""What the verification routes return."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class VerificationRecordPublic(BaseModel):
    id: int
    clinician_id: uuid.UUID | None = Field(description="null for the listing's own NPI")
    npi: str | None
    source: str = Field(examples=["nppes"])
    checked_at: datetime
    result: str = Field(description="passed, failed, or error (the registry could not be asked; retried later)")
    details: list[Any]
