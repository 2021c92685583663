"""OWSLib 0.35.0 as a city application running a partner's model through Twinport, for tests/tests/model_processes.rs.

Everything goes to the consumer connector's local endpoint for the transfer (no token): the landing page, the
conformance classes, the list of processes, a description, a hidden process, a synchronous execution, an
asynchronous one (the job URL from `Location`), the job polled, its results fetched by the link its status names,
the job dismissed, and a third execution, which the agreement's count limit of two refuses. Prints one JSON
document of what it saw; the test judges it.

OWSLib's `headers` dict is shared by every OGC API object of the process, so `Prefer` is cleared between calls.

Usage: processes_client.py LOCAL_ENDPOINT
"""

import json
import sys
import time

from owslib.ogcapi.processes import Processes
from owslib.util import http_delete, http_get

JSON = {"Accept": "application/json"}


def refused(call):
    """The problem document of a refused OWSLib call (OWSLib raises the response text)."""
    try:
        call()
    except RuntimeError as e:
        return json.loads(str(e))
    return "served"


def main():
    url = sys.argv[1]
    out = {}
    p = Processes(url)
    out["landing_links"] = [link["href"] for link in p.links]
    out["conformance"] = p.conformance()["conformsTo"]
    out["processes"] = [x["id"] for x in p.processes()]
    described = p.process("hello-world")
    out["described"] = {
        "id": described["id"],
        "inputs": sorted(described["inputs"]),
        "links": [link["href"] for link in described.get("links", [])],
    }
    out["hidden"] = refused(lambda: p.process("echo"))
    out["hidden_execute"] = refused(lambda: p.execute("echo", inputs={"echoInput": "x"}))
    p.headers.pop("Prefer", None)

    sync = p.execute("hello-world", inputs={"name": "City B", "message": "synchronous"})
    out["sync"] = sync
    out["sync_location"] = p.response_headers.get("Location")
    p.headers.pop("Prefer", None)

    answer = p.execute("hello-world", inputs={"name": "City B", "message": "asynchronous"}, async_=True)
    out["async_answer"] = answer
    location = p.response_headers["Location"]
    out["async_location"] = location
    out["async_preference_applied"] = p.response_headers.get("Preference-Applied")
    p.headers.pop("Prefer", None)

    status = {}
    for _ in range(200):
        status = http_get(location, headers=JSON).json()
        if status.get("status") in ("successful", "failed", "dismissed"):
            break
        time.sleep(0.05)
    out["status"] = status.get("status")
    out["status_links"] = [link["href"] for link in status.get("links", [])]
    results_link = next(
        link["href"]
        for link in status["links"]
        if link["rel"].endswith("/results") and link.get("type") == "application/json"
    )
    out["results_link"] = results_link
    out["results"] = http_get(results_link, headers=JSON).json()
    dismissed = http_delete(location, headers=JSON)
    out["dismissed"] = {"status": dismissed.status_code, "body": dismissed.json()}

    out["third"] = refused(
        lambda: p.execute("hello-world", inputs={"name": "City B", "message": "one too many"})
    )
    p.headers.pop("Prefer", None)
    # Reading what was run stays possible once the executions are used up.
    out["after_limit_processes"] = [x["id"] for x in p.processes()]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
