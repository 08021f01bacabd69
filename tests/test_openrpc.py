"""rpc.discover is a valid OpenRPC 1.3.2 document, checked offline against the meta-schema.

The meta-schemas live in tests/data/ with their licenses (Apache-2.0): the OpenRPC
meta-schema (@open-rpc/meta-schema 1.14.9) and the JSON Schema meta-schema it refers to
as https://meta.json-schema.tools (@json-schema-tools/meta-schema 1.8.0). No network:
the registry has no retriever, so any reference it cannot resolve locally fails.
"""

from __future__ import annotations

import copy
import json
import pathlib

import pytest
from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from rwachain.rpc.methods import openrpc
from rwachain.rpc.methods.modules import chain_table
from tests.rpcnode import RpcNode

METHODS = chain_table()  # the table the node serves

DATA = pathlib.Path(__file__).resolve().parent / "data"
TOOLS_URI = "https://meta.json-schema.tools"


def _load(name: str):
    return json.loads((DATA / name).read_text())


@pytest.fixture(scope="module")
def validator() -> Draft7Validator:
    for name in ("openrpc-meta-schema", "json-schema-tools-meta-schema"):
        assert (DATA / f"{name}.json").is_file()
        assert "Apache License" in (DATA / f"{name}.LICENSE.md").read_text()
    meta = _load("openrpc-meta-schema.json")
    tools = Resource.from_contents(_load("json-schema-tools-meta-schema.json"), default_specification=DRAFT7)
    registry = Registry().with_resources([(TOOLS_URI, tools), (TOOLS_URI + "/", tools)])
    Draft7Validator.check_schema(meta)
    return Draft7Validator(meta, registry=registry)


@pytest.fixture(scope="module")
def local_doc() -> dict:
    # through JSON, as it goes over the wire (tuples become lists and so on)
    return json.loads(json.dumps(openrpc.document(METHODS)))


@pytest.fixture(scope="module")
def served_doc(tmp_path_factory) -> dict:
    with RpcNode(tmp_path_factory.mktemp("openrpc") / "home", mining="manual") as node:
        return node.call("rpc.discover")


def _errors(validator: Draft7Validator, doc) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(doc)]


def test_in_process_document_is_valid_openrpc(validator, local_doc):
    assert local_doc["openrpc"] == "1.3.2"
    assert _errors(validator, local_doc) == []


def test_served_document_is_valid_and_equals_the_in_process_one(validator, served_doc, local_doc):
    assert _errors(validator, served_doc) == []
    assert served_doc == local_doc


def test_every_dispatched_method_is_documented_with_schemas(local_doc, served_doc):
    for doc in (local_doc, served_doc):
        by_name = {m["name"]: m for m in doc["methods"]}
        assert len(by_name) == len(doc["methods"]), "a method is listed twice"
        assert set(by_name) == set(METHODS)
        for name, method in METHODS.items():
            entry = by_name[name]
            assert [p["name"] for p in entry["params"]] == [p.name for p in method.params], name
            for p, spec in zip(entry["params"], method.params, strict=True):
                assert isinstance(p.get("schema"), dict) and p["schema"], (name, p["name"])
                Draft7Validator.check_schema(p["schema"])
                assert p["required"] is spec.required, (name, p["name"])
            assert isinstance(entry["result"].get("schema"), dict), name
            Draft7Validator.check_schema(entry["result"]["schema"])
            assert entry["result"]["name"], name


def test_the_subscription_and_discover_methods_are_listed(local_doc):
    names = {m["name"] for m in local_doc["methods"]}
    assert {"rpc.discover", "chain_subscribe", "chain_unsubscribe", "chain_status"} <= names
    dev = [m for m in local_doc["methods"] if m["name"].startswith("dev_")]
    assert dev and all(any(t["name"] == "dev" for t in m.get("tags", [])) for m in dev)


def _broken_copies(doc: dict):
    d = copy.deepcopy(doc)
    d["openrpc"] = "9.9.9"  # not a version the meta-schema knows
    yield "openrpc version", d
    d = copy.deepcopy(doc)
    del d["info"]
    yield "no info", d
    d = copy.deepcopy(doc)
    del d["methods"][0]["name"]
    yield "method without a name", d
    d = copy.deepcopy(doc)
    d["methods"][0]["params"] = {"not": "an array"}
    yield "params not an array", d
    d = copy.deepcopy(doc)
    del d["methods"][0]["result"]["name"]
    yield "result without a name", d
    d = copy.deepcopy(doc)
    first_with_params = next(m for m in d["methods"] if m["params"])
    first_with_params["params"][0]["schema"] = {"type": "no-such-type"}
    yield "param schema with an invalid type", d
    d = copy.deepcopy(doc)
    d["unexpected"] = 1  # additionalProperties false at the top
    yield "unknown top-level field", d


@pytest.mark.slow
@pytest.mark.parametrize("which", ["openrpc version", "no info", "method without a name",
                                   "params not an array", "result without a name",
                                   "param schema with an invalid type", "unknown top-level field"])
def test_the_validator_is_not_vacuous(validator, local_doc, which):
    broken = dict(_broken_copies(local_doc))[which]
    assert _errors(validator, broken), f"a document with {which} passed validation"
    assert _errors(validator, local_doc) == []  # the copy, not the original, was broken
