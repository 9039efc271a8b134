"""The published JSON Schemas (docs/*.schema.json) are the ones the contract's models generate."""

import json
from pathlib import Path

import pytest

from domain.messages import MESSAGE_TYPES, contract_json_schema
from infra.cli import SCHEMAS

DOCS = Path(__file__).parents[2] / "docs"


@pytest.mark.parametrize("name", ["inbound", "handover", "case"])
def test_docs_schema_is_generated_from_the_models(name: str) -> None:
    # Regenerate with: ledighed schema NAME > docs/NAME.schema.json
    assert json.loads((DOCS / f"{name}.schema.json").read_text()) == SCHEMAS[name]()


def test_inbound_schema_names_every_contract_type() -> None:
    schema = contract_json_schema()
    types = {
        definition["properties"]["type"]["const"]
        for definition in schema["$defs"].values()
        if "type" in definition.get("properties", {})
    }
    assert types == set(MESSAGE_TYPES) and len(types) == 17
