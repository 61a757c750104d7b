"""The search filters as SQL conditions on provider and location rows.

Different kinds of filter are ANDed; the values of one kind are ORed (conditions may ask for all).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, case, false, func, literal, or_, select

from directory.listings.models import (
    Clinician,
    Location,
    OpeningInterval,
    Provider,
    ProviderClinician,
    ProviderCondition,
    ProviderService,
    ProviderStatus,
)
from directory.search.backends import SearchBackend
from directory.search.query import SearchQuery


def _has_condition(codes: list[str]) -> ColumnElement[bool]:
    return (
        select(1)
        .where(ProviderCondition.provider_id == Provider.id, ProviderCondition.condition_code.in_(codes))
        .exists()
    )


def _has_service(codes: list[str]) -> ColumnElement[bool]:
    return (
        select(1).where(ProviderService.provider_id == Provider.id, ProviderService.service_code.in_(codes)).exists()
    )


def _has_clinician(column: object, values: list[str]) -> ColumnElement[bool]:
    return (
        select(1)
        .select_from(ProviderClinician)
        .join(Clinician, Clinician.id == ProviderClinician.clinician_id)
        .where(ProviderClinician.provider_id == Provider.id, column.in_(values))  # type: ignore[attr-defined]
        .exists()
    )


def _like(column: object, word: str) -> ColumnElement[bool]:
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return func.lower(column).like(f"%{escaped}%", escape="\\")


def word_matches(word: str, conditions: list[str], services: list[str]) -> list[tuple[ColumnElement[bool], int]]:
    """Where a free-text word can match, with the weight relevance gives each place."""
    places = [(_like(Provider.name, word), 3)]
    taxonomy = ([_has_condition(conditions)] if conditions else []) + ([_has_service(services)] if services else [])
    if taxonomy:
        places.append((or_(*taxonomy), 2))
    places.append((_like(Provider.description, word), 1))
    return places


def relevance(query: SearchQuery) -> ColumnElement[int]:
    """Sum over the words of the best place each one matched: name 3, condition or service 2, description 1."""
    score: ColumnElement[int] = literal(0)
    for word, (conditions, services) in zip(query.words, query.word_codes, strict=True):
        score = score + case(*word_matches(word, conditions, services), else_=0)
    return score


def provider_filters(query: SearchQuery, backend: SearchBackend) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [Provider.status == ProviderStatus.published.value]
    if query.conditions:
        if query.condition_match == "all":
            where += [_has_condition([code]) for code in query.conditions]
        else:
            where.append(_has_condition(query.conditions))
    if query.services:
        where.append(_has_service(query.services))
    if query.routes:
        where.append(backend.json_has_any(Provider.routes, query.routes))
    if query.credentials:
        where.append(_has_clinician(Clinician.credential, query.credentials))
    if query.specialties:
        where.append(_has_clinician(Clinician.specialty, query.specialties))
    if query.telehealth is not None:
        where.append(Provider.telehealth == query.telehealth)
    if query.accepting_new_patients is not None:
        where.append(Provider.accepting_new_patients == query.accepting_new_patients)
    if query.insurance:
        where.append(backend.json_has_any(Provider.insurance_carriers, query.insurance))
    if query.payment:
        where.append(backend.json_has_any(Provider.payment_options, query.payment))
    if query.languages:
        where.append(backend.json_has_any(Provider.languages, query.languages))
    if query.max_price is not None:
        where.append(Provider.price_min <= query.max_price)
    if query.verified is True:
        where.append(Provider.verification_status == "verified")
    elif query.verified is False:
        where.append(Provider.verification_status != "verified")
    for word, (conditions, services) in zip(query.words, query.word_codes, strict=True):
        where.append(or_(*(condition for condition, _ in word_matches(word, conditions, services))))
    return where


def open_at(moment: datetime, zones: list[str]) -> ColumnElement[bool]:
    """The location is open at this moment in its own time zone (hours are local times)."""
    per_zone = []
    for zone in zones:
        local = moment.astimezone(ZoneInfo(zone))
        minute = local.hour * 60 + local.minute
        per_zone.append(
            and_(
                Location.timezone == zone,
                select(1)
                .where(
                    OpeningInterval.location_id == Location.id,
                    OpeningInterval.day == local.weekday(),
                    OpeningInterval.opens <= minute,
                    OpeningInterval.closes > minute,
                )
                .exists(),
            )
        )
    return or_(*per_zone) if per_zone else false()


def location_filters(query: SearchQuery, backend: SearchBackend, zones: list[str]) -> list[ColumnElement[bool]]:
    """Conditions on the location itself (the radius is handled apart, exactly)."""
    where: list[ColumnElement[bool]] = []
    if query.box is not None:
        where.append(backend.inside(query.box))
    if query.open_at is not None:
        where.append(open_at(query.open_at, zones))
    return where
