"""Harvests a DCAT catalogue as CKAN's DCAT harvester does (ckanext-dcat 2.4.4, profile euro_dcat_ap_3): HEAD then
GET each page, parse it with ckanext-dcat's RDFParser by the Content-Type, follow its next page until there is none.
No CKAN database is needed: the parser yields the CKAN dataset dicts a harvest would create.

Usage: ckan_harvest.py FIRST_PAGE_URL
Prints JSON: {"pages": n, "heads": [status...], "datasets": [ckan dataset dict...]}.
"""

import json
import sys

import requests
from ckanext.dcat.processors import RDFParser

url, seen, heads, datasets = sys.argv[1], set(), [], []
while url and url not in seen:
    seen.add(url)
    h = requests.head(url, timeout=30)
    heads.append(h.status_code)
    if h.status_code not in (200, 400, 405):
        sys.exit(f"HEAD {url}: {h.status_code}")
    r = requests.get(url, timeout=30)
    r.raise_for_status()
    parser = RDFParser(profiles=["euro_dcat_ap_3"])
    parser.parse(r.content.decode("utf-8"), _format=r.headers["content-type"].split(";")[0])
    datasets.extend(parser.datasets())
    url = parser.next_page()

print(json.dumps({"pages": len(seen), "heads": heads, "datasets": datasets}, indent=1, default=str))
