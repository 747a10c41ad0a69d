"""The settings reference in docs/settings.md, generated from the settings' own descriptions.

``python -m botschaft.settings_reference`` prints it; a test keeps the docs in step.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from botschaft.settings import ENV_PREFIX, Settings


def reference_rows(model: type[BaseModel] = Settings, prefix: str = ENV_PREFIX) -> list[str]:
    rows = []
    for name, field in model.model_fields.items():
        variable = prefix + name.upper()
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            rows.extend(reference_rows(annotation, variable + "__"))
            continue
        rows.append(f"| `{variable}` | {_default(field)} | {field.description or ''} |")
    return rows


def reference_table() -> str:
    header = "| variable | default | what it does |\n|---|---|---|"
    return header + "\n" + "\n".join(reference_rows())


def _default(field: FieldInfo) -> str:
    if field.is_required():
        return "required"
    value: Any = field.get_default(call_default_factory=True)
    if value is None or value == "":
        return "(empty)"
    if isinstance(value, list):
        return "`" + ",".join(str(v) for v in value) + "`"
    return f"`{value}`"


if __name__ == "__main__":
    print(reference_table())
