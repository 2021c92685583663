"""Validates what Twinport's /records serves against the OGC API Records 1.0 and Features 1.0 OpenAPI schemas.

Usage: records_schema.py <records base URL> <testdata dir>
The testdata dir holds ogcapi-records-1/ and ogcapi-features-1/ (copies of the OGC repositories). Prints a JSON
object: how many documents were checked and every validation error found (an empty list when all pass).

The OpenAPI 3.0 schemas need two translations before a JSON Schema validator reads them as their authors meant:
- `nullable: true`. As a oneOf/anyOf branch `{type: object, nullable: true}` stands for "null" (the other branch
  gives the object); read literally it accepts every object and makes each non-null value match two branches.
  Elsewhere `nullable: true` adds "null" to the type.
- `$ref`s to https://schemas.opengis.net/ogcapi/features/part1/1.0/openapi/ point at the local Features copy.
One repair: Features' featureGeoJSON.yaml requires a geometry object, but GeoJSON (RFC 7946 section 3.2) and the
Records schema allow `geometry: null` for an unlocated feature; a record without a box is one.
"""

import json
import os
import sys
import urllib.error
import urllib.request

import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

FEATURES_URL = "https://schemas.opengis.net/ogcapi/features/part1/1.0/openapi/"


def translate(node, in_alternatives=False):
    if isinstance(node, list):
        return [translate(n, in_alternatives) for n in node]
    if not isinstance(node, dict):
        return node
    if in_alternatives and node.get("nullable") is True and set(node) <= {"type", "nullable"}:
        return {"type": "null"}
    out = {}
    for k, v in node.items():
        out[k] = translate(v, in_alternatives=k in ("oneOf", "anyOf"))
    if out.pop("nullable", False) is True and "type" in out:
        t = out["type"]
        out["type"] = (t if isinstance(t, list) else [t]) + ["null"]
    return out


class Schemas:
    def __init__(self, testdata):
        self.records = os.path.join(testdata, "ogcapi-records-1/core/openapi/schemas")
        self.features = os.path.join(testdata, "ogcapi-features-1/core/openapi")
        self.registry = Registry(retrieve=self.retrieve)

    def path_of(self, uri):
        if uri.startswith(FEATURES_URL):
            return os.path.join(self.features, uri[len(FEATURES_URL):])
        if uri.startswith("file://"):
            return uri[len("file://"):]
        raise LookupError(f"no local copy of {uri}")

    def retrieve(self, uri):
        path = self.path_of(uri)
        with open(path, encoding="utf-8") as f:
            contents = translate(yaml.safe_load(f))
        if os.path.basename(path) == "featureGeoJSON.yaml":
            contents["properties"]["geometry"] = {"oneOf": [{"type": "null"}, contents["properties"]["geometry"]]}
        return Resource.from_contents(contents, default_specification=DRAFT202012)

    def validator(self, uri):
        return Draft202012Validator({"$ref": uri}, registry=self.registry)

    def records_schema(self, name):
        return self.validator("file://" + os.path.join(self.records, name))

    def features_schema(self, name):
        return self.validator(FEATURES_URL + "schemas/" + name)


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def main():
    base, testdata = sys.argv[1], sys.argv[2]
    schemas = Schemas(testdata)
    errors, checked = [], 0

    def check(what, validator, doc):
        nonlocal checked
        checked += 1
        for e in validator.iter_errors(doc):
            errors.append({"document": what, "path": "/".join(map(str, e.absolute_path)), "error": e.message[:300]})

    _, landing = get(base)
    check("landing page", schemas.records_schema("landingPage.yaml"), landing)
    _, conformance = get(base + "/conformance")
    check("conformance", schemas.features_schema("confClasses.yaml"), conformance)
    _, collections = get(base + "/collections")
    check("collections", schemas.records_schema("catalogs.yaml"), collections)
    _, catalogue = get(base + "/collections/catalogue")
    check("catalogue", schemas.records_schema("collection.yaml"), catalogue)
    check("catalogue (as a catalog)", schemas.records_schema("catalog.yaml"), catalogue)
    items_url = next(link["href"] for link in catalogue["links"] if link["rel"] == "items")
    _, page = get(items_url + "?limit=100")
    check("items", schemas.records_schema("recordCollectionGeoJSON.yaml"), page)
    record_schema = schemas.records_schema("recordGeoJSON.yaml")
    for feature in page["features"]:
        self_href = next(link["href"] for link in feature["links"] if link["rel"] == "self")
        status, record = get(self_href)
        assert status == 200, (self_href, status)
        check(feature["id"], record_schema, record)
    status, refusal = get(items_url + "?limit=100000")
    assert status == 400, status
    check("exception", schemas.features_schema("exception.yaml"), refusal)
    print(json.dumps({"checked": checked, "records": len(page["features"]), "errors": errors}))


if __name__ == "__main__":
    main()
