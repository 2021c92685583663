"""OWSLib's OGC API Records client against Twinport's /records, as a portal would use it.

Usage: records_client.py <records base URL>
Prints one JSON object with what each call returned; tests/tests/open_records.rs asserts on it.
"""

import json
import sys
from urllib.parse import parse_qsl, urlsplit

from owslib.ogcapi.records import Records


def ids(page):
    return [f["id"] for f in page["features"]]


def read_all(w, cid, limit):
    """Reads the whole catalogue `limit` records at a time, following each page's next link with OWSLib."""
    page = w.collection_items(cid, limit=limit)
    seen, pages, next_hrefs = ids(page), [page["numberReturned"]], []
    matched = page["numberMatched"]
    while True:
        nxt = [link["href"] for link in page.get("links", []) if link["rel"] == "next"]
        if not nxt:
            break
        next_hrefs.append(nxt[0])
        # The next link's query is what to ask for next; OWSLib sends it as keyword parameters.
        params = dict(parse_qsl(urlsplit(nxt[0]).query))
        page = w.collection_items(cid, **params)
        seen += ids(page)
        pages.append(page["numberReturned"])
        if len(pages) > 50:
            raise RuntimeError("the next links never end")
    return {"matched": matched, "ids": seen, "pages": pages, "next_hrefs": next_hrefs}


def main():
    url = sys.argv[1]
    w = Records(url, timeout=10)
    out = {"landing_links": [link["rel"] for link in w.links]}
    out["api_paths"] = sorted(w.api()["paths"].keys())
    out["conformance"] = w.conformance()["conformsTo"]
    cids = w.records()
    out["catalogues"] = cids
    cid = cids[0]
    c = w.collection(cid)
    out["collection"] = {"id": c["id"], "type": c["type"], "itemType": c["itemType"], "title": c.get("title")}
    out["paged"] = read_all(w, cid, 2)
    out["by_bbox_inside"] = ids(w.collection_items(cid, bbox=[4.88, 52.37, 4.89, 52.375], limit=100))
    out["by_bbox_elsewhere"] = ids(w.collection_items(cid, bbox=[4.0, 50.0, 4.5, 50.5], limit=100))
    out["by_q"] = ids(w.collection_items(cid, q="flood"))
    out["by_q_any"] = ids(w.collection_items(cid, q="flood,traffic"))
    out["by_type"] = ids(w.collection_items(cid, type="model-or-service"))
    out["by_types"] = ids(w.collection_items(cid, type="dataset,workflow-template"))
    out["by_datetime"] = ids(w.collection_items(cid, datetime_="2040-07-01T12:00:00Z"))
    out["by_ids"] = ids(w.collection_items(cid, ids="urn:ldt:example-city:traffic-flow,urn:nothing"))
    one = w.collection_item(cid, "urn:ldt:example-city:flood-model")
    out["one"] = {"id": one["id"], "type": one["properties"]["type"], "title": one["properties"]["title"]}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
