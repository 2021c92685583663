"""Reads the open catalogue through each of its faces and prints what each says about every resource, so one test
can check they agree: DCAT-AP (rdflib on every Turtle page), OGC API Records (JSON items, paged) and CSW 2.0.2
(GetRecords, full Dublin Core records, paged).

Usage: consistency.py PUBLIC_URL
Prints JSON: {"dcat"|"records"|"csw": {id: {"title": ..., "kind": ...}}}.
"""

import json
import sys
import urllib.request
import xml.etree.ElementTree as ET

import rdflib
from rdflib.namespace import DCTERMS, RDF

base = sys.argv[1]
DCAT = rdflib.Namespace("http://www.w3.org/ns/dcat#")
HYDRA = rdflib.Namespace("http://www.w3.org/ns/hydra/core#")
VOCAB = f"{base}/vocab/ldt#"
KINDS = {"dataset", "model-or-service", "workflow-template", "visualisation-asset", "published-output"}


def get(url):
    with urllib.request.urlopen(url, timeout=30) as r:
        return r.read()


def dcat():
    out, url = {}, f"{base}/catalog.ttl"
    while url:
        g = rdflib.Graph()
        g.parse(data=get(url), format="turtle")
        for cls in (DCAT.Dataset, DCAT.DataService):
            for s in g.subjects(RDF.type, cls):
                if str(s) == f"{base}/dsp/2025-1":
                    continue
                kinds = [str(t)[len(VOCAB):] for t in g.objects(s, DCTERMS.type) if str(t)[len(VOCAB):] in KINDS]
                out[str(s)] = {"title": str(g.value(s, DCTERMS.title)), "kind": kinds[0] if kinds else None}
        nexts = [str(o) for p in g.subjects(RDF.type, HYDRA.PagedCollection) for o in g.objects(p, HYDRA.next)]
        url = nexts[0] if nexts else None
    return out


def records():
    out, url = {}, f"{base}/records/collections/catalogue/items?limit=3"
    while url:
        page = json.loads(get(url))
        for f in page["features"]:
            out[f["id"]] = {"title": f["properties"]["title"], "kind": f["properties"]["type"]}
        nexts = [link["href"] for link in page["links"] if link["rel"] == "next"]
        url = nexts[0] if nexts else None
    return out


def csw():
    ns = {
        "csw": "http://www.opengis.net/cat/csw/2.0.2",
        "dc": "http://purl.org/dc/elements/1.1/",
    }
    out, start = {}, 1
    while start:
        url = (
            f"{base}/csw?service=CSW&version=2.0.2&request=GetRecords&typenames=csw:Record"
            f"&elementsetname=full&resulttype=results&maxrecords=3&startposition={start}"
        )
        root = ET.fromstring(get(url))
        results = root.find("csw:SearchResults", ns)
        for rec in results.findall("csw:Record", ns):
            kinds = [
                s.text
                for s in rec.findall("dc:subject", ns)
                if s.get("scheme") == f"{base}/vocab/ldt" and s.text in KINDS
            ]
            out[rec.find("dc:identifier", ns).text] = {
                "title": rec.find("dc:title", ns).text,
                "kind": kinds[0] if kinds else None,
            }
        start = int(results.get("nextRecord", "0"))
    return out


print(json.dumps({"dcat": dcat(), "records": records(), "csw": csw()}, indent=1))
