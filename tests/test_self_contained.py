"""A plain clone runs every test and benchmark: nothing under tests/ or bench/ reads outside the repository.

The vectors and samples the tests need are copied into ``tests/fixtures/``; ``tests/fixtures/SOURCES.md`` names the
origin and the sha256 of each, and the digests must match the bytes (a fixture edited by hand is a test that no
longer checks the standard).
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from tests.conftest import FIXTURES, ROOT, SHARED, VECTORS

# What a reference outside the repository looks like in this code base: the folder beside the checkout
# (``ROOT.parent``, a path component named shared), a relative climb, or a machine's absolute path.
_OUTSIDE = [
    re.compile(r"\bROOT\s*\.\s*parent\b"),
    re.compile(r"\bparents\s*\[\s*[2-9]\s*\]"),
    re.compile(r"/\s*[\"']shared[\"']"),
    re.compile(r"[\"']\.\./"),
    re.compile(r"[\"']\.\.[\"']"),
    re.compile(r"[\"']/(?:work|home|root|opt|srv)/[\w.-]"),
]
_ROW = re.compile(r"^\| `(?P<path>[^`]+)` \| (?P<origin>[^|]+) \| `(?P<sha>[0-9a-f]{64})` \|$")


def _sources() -> list[Path]:
    files = [*sorted((ROOT / "tests").rglob("*.py")), *sorted((ROOT / "bench").rglob("*.py"))]
    return [f for f in files if f.resolve() != Path(__file__).resolve()]


def test_no_test_or_benchmark_refers_to_a_path_outside_the_repository():
    offenders = []
    for path in _sources():
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if any(p.search(line) for p in _OUTSIDE):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == [], "references outside the repository:\n" + "\n".join(offenders)


def test_the_fixture_folders_are_inside_the_repository():
    for folder in (FIXTURES, SHARED, VECTORS):
        assert folder.resolve().is_relative_to(ROOT.resolve()), folder
        assert folder.is_dir(), folder
    from bench import http, http_issue

    for sample in (http.SAMPLE, http_issue.EXAMPLE):
        assert sample.resolve().is_relative_to(ROOT.resolve()), sample
        assert sample.is_file(), sample


def test_every_fixture_is_listed_in_sources_with_its_digest():
    listed: dict[str, str] = {}
    for line in (FIXTURES / "SOURCES.md").read_text().splitlines():
        match = _ROW.match(line)
        if match:
            assert match["origin"].strip(), line
            listed[match["path"]] = match["sha"]
    present = {p.relative_to(FIXTURES).as_posix(): p for p in FIXTURES.rglob("*") if p.is_file() and p.name != "SOURCES.md"}
    assert sorted(present) == sorted(listed), "tests/fixtures/SOURCES.md and tests/fixtures/ differ"
    wrong = [name for name, path in present.items() if hashlib.sha256(path.read_bytes()).hexdigest() != listed[name]]
    assert wrong == [], f"digest differs from SOURCES.md: {wrong}"


def test_the_vectors_the_tests_name_are_there():
    # The folders and files the tests open by name (tests/jsonld, tests/proofs, tests/dids, tests/status, ...).
    for rel in (
        "vectors/vc-di-eddsa/keyPair.json",
        "vectors/vc-di-eddsa/unsigned.json",
        "vectors/did-key/ed25519-x25519.json",
        "vectors/rdf-canon/manifest.csv",
        "vectors/bitstring-status-list/decoded-lists.json",
        "samples/microcredential-input.example.json",
        "samples/edc/ELM-repo_Sample-MC-Annex1-unsigned.jsonld",
        "samples/ob3/mynextid_open-badge-mc-example.json",
        "samples/ob3/1edtech_example_basicOpenBadgeCredential.json",
    ):
        assert (FIXTURES / rel).is_file(), rel
