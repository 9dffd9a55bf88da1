"""The README's settings table is generated from the Settings class and must match it."""

from __future__ import annotations

from app.settings import Settings
from app.settings_doc import readme_block, replace_block, settings_table
from tests.conftest import ROOT


def test_readme_settings_table_matches_the_code():
    block = readme_block((ROOT / "README.md").read_text())
    assert block == settings_table(), "run `python3 dev.py run settings-table --update README.md` and commit README.md"


def test_every_setting_has_a_row_and_a_description():
    table = settings_table()
    for name, field in Settings.model_fields.items():
        assert field.description, f"setting {name} has no description"
    assert len(table.splitlines()) == 2 + len(Settings.model_fields)
    assert "| `MICROCRED_DATABASE_URL` or `DATABASE_URL` |" in table
    assert "| `PROMETHEUS_MULTIPROC_DIR` | `(unset)` |" in table
    assert "/work/" not in table and str(ROOT) not in table  # machine-independent defaults


def test_update_rewrites_only_the_block():
    text = "intro\n<!-- settings-table:start -->\nold\n<!-- settings-table:end -->\noutro\n"
    new = replace_block(text, "| t |\n")
    assert new == "intro\n<!-- settings-table:start -->\n| t |\n<!-- settings-table:end -->\noutro\n"
