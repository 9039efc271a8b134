"""The published JSON Schema of the inbound messages is the one the models generate."""

import json
from pathlib import Path

from domain.messages import MESSAGE_TYPES, contract_json_schema

SCHEMA_FILE = Path(__file__).parent.parent / "docs" / "inbound-messages.schema.json"


def test_docs_schema_is_generated_from_the_models() -> None:
    # Regenerate with: ledighed schema > docs/inbound-messages.schema.json
    assert json.loads(SCHEMA_FILE.read_text()) == contract_json_schema()


def test_schema_names_every_contract_type() -> None:
    schema = contract_json_schema()
    types = {
        definition["properties"]["type"]["const"]
        for definition in schema["$defs"].values()
        if "type" in definition.get("properties", {})
    }
    assert types == set(MESSAGE_TYPES) and len(types) == 17
