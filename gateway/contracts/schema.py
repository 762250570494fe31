"""The published JSON schema of a contract bundle, generated from the pydantic models."""

from __future__ import annotations

import json
from pathlib import Path

from gateway.contracts.models import Bundle

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "docs" / "contract-bundle.schema.json"
SCHEMA_ID = "https://example.invalid/ijw-iwmo-gateway/contract-bundle.schema.json"


def bundle_schema() -> dict:
    schema = Bundle.model_json_schema(mode="validation")
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **schema}
    schema["title"] = "Regional contract bundle (iJw/iWmo 3.2 gateway)"
    return schema


def schema_text() -> str:
    return json.dumps(bundle_schema(), indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def write_schema(path: Path = SCHEMA_PATH) -> Path:
    path.write_text(schema_text(), encoding="utf-8")
    return path


if __name__ == "__main__":
    print(write_schema())
