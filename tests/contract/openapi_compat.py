"""A small backwards-compatibility comparison of two OpenAPI documents (issue 12, "the API is versioned").

What breaks a client written against ``old``: an operation removed; in a component schema, a property
removed, a type narrowed (a type ``old`` allowed is no longer allowed), an enum value removed, a field newly
required. ``breaking(old, new)`` lists them; such a change is allowed only with a new major version.
"""

from __future__ import annotations

_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def _types(schema: dict) -> set[str]:
    out: set[str] = set()
    t = schema.get("type")
    if isinstance(t, str):
        out.add(t)
    elif isinstance(t, list):
        out.update(t)
    for key in ("anyOf", "oneOf"):
        for sub in schema.get(key, []):
            if isinstance(sub, dict):
                out |= {"$ref:" + sub["$ref"]} if "$ref" in sub else _types(sub)
    return out


def _enum(schema: dict) -> set | None:
    values = set()
    found = False
    for sub in [schema] + [s for k in ("anyOf", "oneOf") for s in schema.get(k, []) if isinstance(s, dict)]:
        if "enum" in sub:
            found = True
            values.update(map(str, sub["enum"]))
        if "const" in sub:
            found = True
            values.add(str(sub["const"]))
    return values if found else None


def _schema(where: str, old: dict, new: dict, out: list[str]) -> None:
    old_types, new_types = _types(old), _types(new)
    if old_types and new_types and not old_types <= new_types:
        out.append(f"{where}: type narrowed from {sorted(old_types)} to {sorted(new_types)}")
    old_enum, new_enum = _enum(old), _enum(new)
    if old_enum is not None and (new_enum is not None and not old_enum <= new_enum):
        out.append(f"{where}: enum values removed: {sorted(old_enum - new_enum)}")
    if old_enum is None and new_enum is not None:
        out.append(f"{where}: now restricted to an enum")
    for name, prop in old.get("properties", {}).items():
        if name not in new.get("properties", {}):
            out.append(f"{where}: property {name} removed")
        elif isinstance(prop, dict):
            _schema(f"{where}.{name}", prop, new["properties"][name], out)
    added = set(new.get("required", [])) - set(old.get("required", []))
    if added:
        out.append(f"{where}: newly required {sorted(added)}")
    if isinstance(old.get("items"), dict) and isinstance(new.get("items"), dict):
        _schema(f"{where}[]", old["items"], new["items"], out)


def breaking(old: dict, new: dict) -> list[str]:
    out: list[str] = []
    for path, item in old.get("paths", {}).items():
        for method in _METHODS:
            if method in item and method not in new.get("paths", {}).get(path, {}):
                out.append(f"{method.upper()} {path}: operation removed")
    new_schemas = new.get("components", {}).get("schemas", {})
    for name, schema in old.get("components", {}).get("schemas", {}).items():
        if name not in new_schemas:
            out.append(f"components/schemas/{name}: removed")
        else:
            _schema(name, schema, new_schemas[name], out)
    return out


def major(version: str) -> int:
    return int(version.split(".")[0])
