"""OWSLib's CSW 2.0.2 client against Twinport's /csw, as a geo portal or harvester would use it.

Usage: csw_client.py <CSW URL>
Prints one JSON object with what each call returned; tests/tests/open_csw.rs asserts on it.
"""

import json
import sys

from owslib.csw import CatalogueServiceWeb
from owslib.fes import And, BBox, Not, PropertyIsEqualTo, PropertyIsLike

EPSG_4326 = "urn:ogc:def:crs:EPSG::4326"
CRS84 = "urn:ogc:def:crs:OGC:1.3:CRS84"


def found(c, **kwargs):
    kwargs.setdefault("maxrecords", 100)
    c.getrecords2(**kwargs)
    return list(c.records.keys())


def main():
    url = sys.argv[1]
    c = CatalogueServiceWeb(url, timeout=10)
    out = {
        "title": c.identification.title,
        "service_type": c.identification.type,
        "version": c.identification.version,
        "operations": {op.name: sorted({m["url"] for m in op.methods}) for op in c.operations},
    }

    # Three at a time, from startPosition to startPosition until nextRecord is 0, as a harvester pages.
    c.getrecords2(esn="full", maxrecords=3)
    paged = {"matches": c.results["matches"], "ids": list(c.records.keys()), "next": [c.results["nextrecord"]]}
    while c.results["nextrecord"] != 0:
        c.getrecords2(esn="full", maxrecords=3, startposition=c.results["nextrecord"])
        paged["ids"] += list(c.records.keys())
        paged["next"].append(c.results["nextrecord"])
        if len(paged["next"]) > 20:
            raise RuntimeError("nextRecord never reaches 0")
    out["paged"] = paged

    out["anytext_flood"] = found(c, constraints=[PropertyIsLike("csw:AnyText", "%flood%")], esn="brief")
    out["title_flood"] = found(c, constraints=[PropertyIsLike("dc:title", "%Flood%")])
    out["abstract_cloudburst"] = found(c, constraints=[PropertyIsLike("dct:abstract", "%cloudburst%")])
    out["subject_raw"] = found(c, constraints=[PropertyIsEqualTo("dc:subject", "raw")])
    out["services"] = found(c, constraints=[PropertyIsEqualTo("dc:type", "http://purl.org/dc/dcmitype/Service")])
    out["heat_not_workflow"] = found(c, constraints=[[
        PropertyIsLike("csw:AnyText", "%heat%"),
        Not([PropertyIsEqualTo("dc:type", "workflow-template")]),
    ]])
    out["flood_or_traffic"] = found(c, constraints=[
        PropertyIsLike("csw:AnyText", "%flood%"),
        PropertyIsLike("csw:AnyText", "%traffic%"),
    ])
    # A box in the city centre: latitude first in EPSG:4326, longitude first in CRS84.
    out["bbox_epsg4326"] = found(c, constraints=[BBox([52.37, 4.88, 52.375, 4.89], crs=EPSG_4326)])
    out["bbox_crs84"] = found(c, constraints=[BBox([4.88, 52.37, 4.89, 52.375], crs=CRS84)])
    # The same numbers in the wrong order are a box off the coast of Somalia.
    out["bbox_swapped"] = found(c, constraints=[BBox([4.88, 52.37, 4.89, 52.375], crs=EPSG_4326)])
    out["cql_title"] = found(c, cql="dc:title like '%flood%'")

    c.getrecords2(resulttype="hits")
    out["hits"] = {"matches": c.results["matches"], "returned": c.results["returned"], "records": len(c.records)}

    c.getrecordbyid(id=["urn:ldt:example-city:air-quality-hourly", "urn:ldt:example-city:heatwave-workflow"])
    by_id = {}
    for rid, r in c.records.items():
        by_id[rid] = {
            "title": r.title,
            "type": r.type,
            "abstract": r.abstract,
            "subjects": r.subjects,
            "format": r.format,
            "modified": r.modified,
            "license": r.license,
            "accessrights": r.accessrights,
            "language": r.language,
            "publisher": r.publisher,
            "bbox": None if r.bbox is None else {
                "minx": float(r.bbox.minx), "miny": float(r.bbox.miny),
                "maxx": float(r.bbox.maxx), "maxy": float(r.bbox.maxy),
                "crs": str(r.bbox.crs.code) if r.bbox.crs is not None else None,
            },
        }
    out["by_id"] = by_id
    print(json.dumps(out))


if __name__ == "__main__":
    main()
