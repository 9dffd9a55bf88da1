"""Specifications and the public catalogue of micro-credentials (MICROBOL: catalogues of the
micro-credentials offered by registered providers).

A provider publishes a specification once (the offering: title, outcomes, workload, level, assessment,
participation, quality assurance…) and issues against it with only the learner's data. Published
specifications are listed publicly, filterable by provider, country, EQF level, ISCED-F field and ECTS.
"""

from __future__ import annotations

from typing import Any

from app.credentials import issuance_pointers, specification_of, validate_specification
from app.credentials.model import CompositeRules
from app.errors import MalformedValueError, NotFoundError
from app.settings import Settings
from app.store import Database, providers, specifications
from app.xsd import format_datetime_stamp

#: how many specifications a cycle search visits (a bound: a catalogue's composites nest a few levels deep)
MAX_CYCLE_STEPS = 500


class Catalogue:
    def __init__(self, settings: Settings, db: Database):
        self.settings = settings
        self.db = db

    def create(self, provider, data: Any, *, published: bool = False, once=None) -> Any:
        """The new specification's view; with ``once`` (app/issuance/idempotent.py), the stored response of an earlier
        request with the same ``Idempotency-Key`` instead of a second specification."""
        if not isinstance(data, dict):
            raise MalformedValueError("the specification must be a JSON object", errors=[{"pointer": "/specification", "detail": "required object"}])
        # A full record (the EU example as it is) is its offering: the per-learner fields are left out, never stored
        # in the public catalogue, and named in the answer so that nothing is dropped silently.
        ignored = issuance_pointers(data)
        if ignored:
            data = specification_of(data)
        spec = validate_specification(data, ects_min=self.settings.ects_min, ects_max=self.settings.ects_max)
        clean = spec.model_dump(mode="json", exclude_none=True)
        lang = spec.primaryLanguage
        body = spec.awardingBodies[0]
        with self.db.transaction() as session:
            if once is not None and (replay := once.replay(session)) is not None:
                return replay
            if spec.composite is not None:
                self._check_components(session, provider, spec.composite)
            record = specifications.create_specification(
                session,
                provider.id,
                clean,
                title=spec.title[lang],
                country=body.country,
                eqf=spec.level.eqf,
                ects=float(spec.workload.ects) if spec.workload.ects is not None else None,
                isced=list(spec.fieldsOfEducation),
                published=published,
            )
            view = {**self._view(record, provider), "ignoredFields": ignored}
            if once is not None:
                once.keep(session, view)
        return view

    def local_ref(self, ref: str) -> str | None:
        """The catalogue id a component reference names on this service (the id, or this service's
        ``/catalogue/{id}`` URL), or ``None`` for another service's URL."""
        prefix = self.settings.base_url.rstrip("/") + "/catalogue/"
        if ref.startswith(prefix):
            return ref[len(prefix) :].removesuffix("/page")
        return None if "://" in ref else ref

    def _check_components(self, session, provider, rules: CompositeRules) -> None:
        """Every component a composite names exists: a published specification of this service (any provider's)
        or the provider's own draft, or another service's specification by its https URL (checked when presented)."""
        errors = []
        for i, rule in enumerate(rules.components):
            pointer = f"/specification/composite/components/{i}/specification"
            local = self.local_ref(rule.specification)
            if local is None:
                if not rule.specification.startswith("https://"):
                    errors.append({"pointer": pointer, "detail": "a catalogue id of this service or an https URL"})
                continue
            try:
                found = specifications.get_specification(session, local)
            except NotFoundError:
                errors.append({"pointer": pointer, "detail": f"no specification {local[:100]} in this catalogue"})
                continue
            if not found.published and found.provider_id != provider.id:
                errors.append({"pointer": pointer, "detail": f"specification {local[:100]} is not published"})
                continue
            loop = self._cycle_from(session, local)
            if loop is not None:
                detail = f"specification {local[:100]} leads to a cycle of composites: {' → '.join(loop)}"
                errors.append({"pointer": pointer, "detail": detail, "rule": "cycle"})
        if errors:
            exc = MalformedValueError(f"the composite names {len(errors)} component(s) that cannot be used: {errors[0]['detail']}", errors=errors)
            exc.status = 422
            raise exc

    def _cycle_from(self, session, start: str) -> list[str] | None:
        """A cycle of composite rules reachable from the specification ``start`` (each step a specification and the
        rule of it that names the next), or ``None``. A new composite cannot be named by an older one (its id is
        assigned as it is created), so it closes no cycle itself; this refuses building on a catalogue whose rules
        already loop (written by ``specifications.update_specification``), which an evaluation could never finish."""
        path: list[tuple[str, int]] = []
        on_path: set[str] = set()
        done: set[str] = set()
        steps = 0

        def visit(spec_id: str) -> list[str] | None:
            nonlocal steps
            steps += 1
            if spec_id in on_path:
                first = next(i for i, (s, _) in enumerate(path) if s == spec_id)
                return [f"{s} components/{r}" for s, r in path[first:]] + [spec_id]
            if spec_id in done or steps > MAX_CYCLE_STEPS:
                return None
            try:
                data = specifications.get_specification(session, spec_id[:64]).data
            except NotFoundError:
                return None
            on_path.add(spec_id)
            for i, rule in enumerate((data.get("composite") or {}).get("components") or []):
                ref = self.local_ref(rule.get("specification", "")) if isinstance(rule, dict) else None
                if ref is None:
                    continue
                path.append((spec_id, i))
                found = visit(ref)
                path.pop()
                if found is not None:
                    return found
            on_path.discard(spec_id)
            done.add(spec_id)
            return None

        return visit(start)

    def stacks_into(self, spec_id: str) -> list[dict[str, Any]]:
        """The published composites that list ``spec_id`` among their components (its page's "stacks into")."""
        found, cursor = [], None
        with self.db.read() as session:
            while True:
                page = specifications.list_catalogue(session, limit=500, cursor=cursor)
                for r in page.items:
                    rules = (r.data.get("composite") or {}).get("components") or []
                    if any(self.local_ref(c.get("specification", "")) == spec_id for c in rules):
                        found.append({"id": r.id, "title": r.data.get("title")})
                if not page.next_cursor:
                    return found
                cursor = page.next_cursor

    def components_of(self, spec: dict[str, Any]) -> list[dict[str, Any]]:
        """A composite's component rules with the title of each component of this catalogue (its page)."""
        out = []
        with self.db.read() as session:
            for rule in (spec.get("composite") or {}).get("components") or []:
                local = self.local_ref(rule.get("specification", ""))
                title = None
                if local is not None:
                    try:
                        title = specifications.get_specification(session, local, published_only=True).data.get("title")
                    except NotFoundError:
                        title = None
                out.append({**rule, "id": local, "title": title})
        return out

    def publish(self, provider, spec_id: str, published: bool) -> dict[str, Any]:
        with self.db.transaction() as session:
            record = specifications.set_published(session, provider.id, spec_id, published)
        return self._view(record, provider)

    def get_own(self, provider, spec_id: str) -> dict[str, Any]:
        with self.db.read() as session:
            return self._view(specifications.get_specification(session, spec_id, provider_id=provider.id), provider)

    def list_own(self, provider, *, limit: int, cursor: str | None) -> dict[str, Any]:
        with self.db.read() as session:
            page = specifications.list_specifications(session, provider.id, limit=limit, cursor=cursor)
        return {"items": [self._view(r, provider) for r in page.items], "next": page.next_cursor}

    def public(
        self,
        *,
        provider: str | None = None,
        country: str | None = None,
        eqf: int | None = None,
        isced: str | None = None,
        ects_min: float | None = None,
        ects_max: float | None = None,
        text: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> dict[str, Any]:
        with self.db.read() as session:
            provider_id = None
            if provider:
                try:
                    provider_id = providers.get_provider_by_slug(session, provider).id
                except NotFoundError:
                    return {"items": [], "next": None}
            filters = specifications.CatalogueFilters(
                country=country, eqf=eqf, isced=isced, ects_min=ects_min, ects_max=ects_max, text=text, provider_id=provider_id
            )
            page = specifications.list_catalogue(session, filters, limit=limit, cursor=cursor)
            owners = {p.id: p for p in providers.list_providers(session)}
        return {"items": [self._view(r, owners.get(r.provider_id)) for r in page.items], "next": page.next_cursor}

    def facets(self) -> dict[str, list[str]]:
        """The countries and ISCED-F fields (with their broad fields) of the published specifications."""
        with self.db.read() as session:
            countries, codes = specifications.catalogue_facets(session)
        fields = sorted({c[:2] for c in codes} | set(codes))
        return {"countries": countries, "fields": fields}

    def public_one(self, spec_id: str) -> dict[str, Any]:
        with self.db.read() as session:
            record = specifications.get_specification(session, spec_id, published_only=True)
            owner = providers.get_provider(session, record.provider_id)
        return self._view(record, owner)

    @staticmethod
    def _view(record, provider) -> dict[str, Any]:
        return {
            "id": record.id,
            "title": record.data.get("title"),
            "provider": {"slug": provider.slug, "name": provider.legal_name, "did": provider.did, "country": provider.country} if provider else None,
            "country": record.country,
            "eqf": record.eqf,
            "ects": record.ects,
            "fieldsOfEducation": record.isced,
            "published": record.published,
            "updatedAt": format_datetime_stamp(record.updated_at),
            "specification": record.data,
        }
