"""The README's settings table, generated from ``app.settings.Settings`` so it cannot drift.

``microcred settings-table`` prints it; ``microcred settings-table --update README.md`` rewrites the
block between the ``<!-- settings-table:start -->`` and ``<!-- settings-table:end -->`` markers;
``tests/test_settings_doc.py`` fails when the README's block differs from the code.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices

from app.settings import ROOT, Settings

START = "<!-- settings-table:start -->"
END = "<!-- settings-table:end -->"


def env_names(name: str, field) -> list[str]:
    alias = field.validation_alias
    if isinstance(alias, AliasChoices):
        return [str(choice) for choice in alias.choices]
    if isinstance(alias, str):
        return [alias]
    return [Settings.model_config.get("env_prefix", "") + name.upper()]


def _default(value) -> str:
    if value is None:
        return "(unset)"
    if isinstance(value, bool):
        return "true" if value else "false"
    # Paths under the checkout would differ per machine: show them relative to the project folder.
    return str(value).replace(str(ROOT), "<project>")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def settings_table() -> str:
    """A Markdown table: environment variable(s), default, meaning; one row per setting, in class order."""
    rows = ["| Environment variable | Default | Meaning |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        env = " or ".join(f"`{e}`" for e in env_names(name, field))
        rows.append(f"| {env} | `{_cell(_default(field.default))}` | {_cell(field.description or '')} |")
    return "\n".join(rows) + "\n"


def replace_block(text: str, table: str) -> str:
    head, start, rest = text.partition(START)
    _, end, tail = rest.partition(END)
    if not start or not end:
        raise ValueError(f"markers {START} … {END} not found")
    return f"{head}{START}\n{table}{END}{tail}"


def readme_block(text: str) -> str:
    _, _, rest = text.partition(START)
    block, _, _ = rest.partition(END)
    return block.lstrip("\n")


def update(readme: Path) -> bool:
    """Rewrite the README's block; True when it changed."""
    old = readme.read_text(encoding="utf-8")
    new = replace_block(old, settings_table())
    if new != old:
        readme.write_text(new, encoding="utf-8")
    return new != old
