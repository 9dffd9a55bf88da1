"""Micro-credential specifications (the course a credential attests) and the public catalogue.

The full specification is kept as JSON in ``data``; the fields the catalogue filters on (title,
country, EQF level, ECTS, ISCED-F codes) are copied into columns by the caller, because filtering
inside JSON is not portable between SQLite and PostgreSQL and cannot use indexes.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, exists, select
from sqlalchemy.orm import Session

from app.errors import MalformedValueError, NotFoundError
from app.store._common import Page, clamp_limit, newest_first, page_of
from app.store.models import Specification, SpecificationIsced, utcnow


@dataclass(frozen=True)
class SpecificationRecord:
    id: str
    provider_id: int
    data: dict
    published: bool
    title: str
    country: str | None
    eqf: int | None
    ects: float | None
    isced: list[str]
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class CatalogueFilters:
    """Public catalogue filters; ``isced`` matches a code or any narrower code under it (``"06"`` ⊇ ``"0613"``)."""

    country: str | None = None
    eqf: int | None = None
    isced: str | None = None
    ects_min: float | None = None
    ects_max: float | None = None
    text: str | None = None
    provider_id: int | None = None


def _record(row: Specification) -> SpecificationRecord:
    return SpecificationRecord(
        row.id, row.provider_id, row.data, row.published, row.title, row.country, row.eqf, row.ects, list(row.isced or []), row.created_at, row.updated_at
    )


def _check(eqf: int | None, isced: Sequence[str]) -> list[str]:
    if eqf is not None and not 1 <= eqf <= 8:
        raise MalformedValueError("EQF level is 1 to 8")
    codes = list(dict.fromkeys(isced))
    if any(not c.isdigit() or not 2 <= len(c) <= 4 for c in codes):
        raise MalformedValueError("ISCED-F codes are 2 to 4 digits")
    return codes


def create_specification(
    session: Session,
    provider_id: int,
    data: dict,
    *,
    title: str,
    country: str | None = None,
    eqf: int | None = None,
    ects: float | None = None,
    isced: Sequence[str] = (),
    published: bool = False,
    spec_id: str | None = None,
) -> SpecificationRecord:
    codes = _check(eqf, isced)
    now = utcnow()
    row = Specification(
        id=spec_id or str(uuid.uuid4()),
        provider_id=provider_id,
        data=data,
        published=published,
        title=title,
        country=country,
        eqf=eqf,
        ects=ects,
        isced=codes,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.add_all(SpecificationIsced(specification_id=row.id, code=c) for c in codes)
    session.flush()
    return _record(row)


def get_specification(session: Session, spec_id: str, *, provider_id: int | None = None, published_only: bool = False) -> SpecificationRecord:
    query = select(Specification).where(Specification.id == spec_id)
    if provider_id is not None:
        query = query.where(Specification.provider_id == provider_id)
    if published_only:
        query = query.where(Specification.published.is_(True))
    row = session.scalars(query).one_or_none()
    if row is None:
        raise NotFoundError(f"no specification {spec_id}")
    return _record(row)


def update_specification(
    session: Session,
    provider_id: int,
    spec_id: str,
    data: dict,
    *,
    title: str,
    country: str | None = None,
    eqf: int | None = None,
    ects: float | None = None,
    isced: Sequence[str] = (),
) -> SpecificationRecord:
    codes = _check(eqf, isced)
    row = session.scalars(select(Specification).where(Specification.id == spec_id, Specification.provider_id == provider_id)).one_or_none()
    if row is None:
        raise NotFoundError(f"no specification {spec_id}")
    row.data, row.title, row.country, row.eqf, row.ects, row.isced, row.updated_at = data, title, country, eqf, ects, codes, utcnow()
    session.execute(delete(SpecificationIsced).where(SpecificationIsced.specification_id == spec_id))
    session.add_all(SpecificationIsced(specification_id=spec_id, code=c) for c in codes)
    session.flush()
    return _record(row)


def set_published(session: Session, provider_id: int, spec_id: str, published: bool) -> SpecificationRecord:
    row = session.scalars(select(Specification).where(Specification.id == spec_id, Specification.provider_id == provider_id)).one_or_none()
    if row is None:
        raise NotFoundError(f"no specification {spec_id}")
    row.published, row.updated_at = published, utcnow()
    session.flush()
    return _record(row)


def list_specifications(session: Session, provider_id: int, *, limit: int = 50, cursor: str | None = None) -> Page[SpecificationRecord]:
    """A provider's own specifications, published or not."""
    limit = clamp_limit(limit)
    query = newest_first(select(Specification).where(Specification.provider_id == provider_id), Specification.created_at, Specification.id, cursor)
    rows = session.scalars(query.limit(limit + 1)).all()
    return page_of(list(rows), limit, _record, lambda r: (r.created_at, r.id))


def list_catalogue(session: Session, filters: CatalogueFilters | None = None, limit: int = 50, cursor: str | None = None) -> Page[SpecificationRecord]:
    """Published specifications matching ``filters``, newest first, keyset-paginated."""
    limit = clamp_limit(limit)
    f = filters or CatalogueFilters()
    query = select(Specification).where(Specification.published.is_(True))
    if f.country:
        query = query.where(Specification.country == f.country.upper())
    if f.eqf is not None:
        query = query.where(Specification.eqf == f.eqf)
    if f.ects_min is not None:
        query = query.where(Specification.ects >= f.ects_min)
    if f.ects_max is not None:
        query = query.where(Specification.ects <= f.ects_max)
    if f.provider_id is not None:
        query = query.where(Specification.provider_id == f.provider_id)
    if f.text:
        query = query.where(Specification.title.icontains(f.text, autoescape=True))
    if f.isced:
        query = query.where(
            exists().where(SpecificationIsced.specification_id == Specification.id, SpecificationIsced.code.startswith(f.isced, autoescape=True))
        )
    query = newest_first(query, Specification.created_at, Specification.id, cursor)
    rows = session.scalars(query.limit(limit + 1)).all()
    return page_of(list(rows), limit, _record, lambda r: (r.created_at, r.id))


def catalogue_facets(session: Session) -> tuple[list[str], list[str]]:
    """(countries, ISCED-F codes) of the published specifications, sorted: what the catalogue's filters offer."""
    published = Specification.published.is_(True)
    countries = session.scalars(select(Specification.country).where(published, Specification.country.is_not(None)).distinct()).all()
    codes = session.scalars(
        select(SpecificationIsced.code).join(Specification, Specification.id == SpecificationIsced.specification_id).where(published).distinct()
    ).all()
    return sorted(countries), sorted(codes)
