"""The read model's words: folded text for free-text search, the terms names are made of, and
SQLite's FTS5 index of the words (PostgreSQL indexes the column itself)."""

from __future__ import annotations

import uuid

from sqlalchemy import Column, String, Table, insert, literal, select
from sqlalchemy import column as sql_column
from sqlalchemy import table as sql_table
from sqlalchemy.orm import Session
from sqlmodel import SQLModel

from directory.database import insert_or_skip
from directory.listings.models import Provider
from directory.words import tokens

#: The words names are made of (listings' and clinicians'), folded: what a misspelt word in free
#: text is compared with. Terms are added as listings are written and never taken away (a term no
#: listing has any more only leads to a search that finds nothing).
search_term = Table("search_term", SQLModel.metadata, Column("term", String(64), primary_key=True))

def folded(text: str) -> str:
    """The text's folded words, a space between each."""
    return " ".join(tokens(text))


def name_terms(provider: Provider) -> set[str]:
    """The words of the listing's and its clinicians' names: the terms misspellings are compared with."""
    names = [provider.name] + [f"{role.clinician.first_name} {role.clinician.last_name}" for role in provider.clinician_roles]
    return {term for name in names for term in tokens(name) if 3 <= len(term) <= 64 and not term.isdigit()}


#: SQLite's FTS5 index of the rows' words (PostgreSQL's is an ordinary index on the column).
_words_fts = sql_table("search_location_words", sql_column("rowid"), sql_column("words"), sql_column("search_location_words"))


def words_index(session: Session, projection: Table, action: str, provider_ids: list[uuid.UUID] | None = None) -> None:
    """Keep SQLite's FTS5 index of the rows' words in step: entries taken out before the rows are
    deleted, put in after they are inserted, one statement for a whole batch (the index flushes at
    the end of each statement: row by row, as a trigger would, it is twenty times slower)."""
    if session.get_bind().dialect.name != "sqlite":
        return
    fts = _words_fts
    if action == "rebuild":  # the whole index again from the rows, in one pass
        session.execute(insert(fts).values(search_location_words="rebuild"))
        return
    rows = projection.c
    batch = rows.provider_id.in_(provider_ids or [])
    if action == "delete":
        session.execute(insert(fts).from_select(["search_location_words", "rowid", "words"], select(literal("delete"), rows.location_id, rows.words).where(batch)))
    else:
        session.execute(insert(fts).from_select(["rowid", "words"], select(rows.location_id, rows.words).where(batch)))


def add_terms(session: Session, terms: set[str]) -> None:
    """Add the terms not known yet (a term another writer adds at the same moment is no conflict)."""
    session.execute(insert_or_skip(session, search_term), [{"term": term} for term in sorted(terms)])
