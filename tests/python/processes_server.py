"""pygeoapi as a partner city's model server, on loopback, for tests/tests/model_processes.rs.

Writes a configuration with pygeoapi's built-in HelloWorld process (id "hello-world") and its Echo process
(id "echo", which the agreement hides) and a TinyDB job manager in DIR, generates the OpenAPI document pygeoapi
needs, then runs pygeoapi's Flask app in this process on 127.0.0.1 and a free port (`pygeoapi serve` reads its
settings from elsewhere). The first line printed is the landing page's URL (nothing is printed after it); the
test polls /conformance before using it and stops this process by its id. Its log goes to standard error.

Usage: processes_server.py DIR
"""

import json
import os
import socket
import subprocess
import sys


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    work = sys.argv[1]
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    config = {
        "server": {
            "bind": {"host": "127.0.0.1", "port": port},
            "url": url,
            "mimetype": "application/json; charset=UTF-8",
            "encoding": "utf-8",
            "language": "en-US",
            "cors": False,
            "pretty_print": False,
            "limits": {"default_items": 10, "max_items": 50},
            # JSON is YAML too, so the tile template's braces need no further quoting.
            "map": {"url": "https://tile.openstreetmap.org/{z}/{x}/{y}.png", "attribution": "OpenStreetMap"},
            "manager": {
                "name": "TinyDB",
                "connection": os.path.join(work, "jobs.db"),
                "output_dir": os.path.join(work, "outputs"),
            },
        },
        "logging": {"level": "ERROR"},
        "metadata": {
            "identification": {
                "title": "Partner city model server",
                "description": "Models of a partner city, run through Twinport",
                "keywords": ["models"],
                "keywords_type": "theme",
                "terms_of_service": "https://creativecommons.org/licenses/by/4.0/",
                "url": "https://city-a.example",
            },
            "license": {"name": "CC-BY 4.0", "url": "https://creativecommons.org/licenses/by/4.0/"},
            "provider": {"name": "City A", "url": "https://city-a.example"},
            "contact": {
                "name": "Digital twin team",
                "position": "Operator",
                "address": "Town hall",
                "city": "City A",
                "stateorprovince": "Province",
                "postalcode": "0000",
                "country": "NL",
                "phone": "+31-00-0000000",
                "fax": "+31-00-0000000",
                "email": "twin@city-a.example",
                "url": "https://city-a.example",
                "hours": "9-17",
                "instructions": "During hours of service",
                "role": "pointOfContact",
            },
        },
        "resources": {
            "hello-world": {"type": "process", "processor": {"name": "HelloWorld"}},
            "echo": {"type": "process", "processor": {"name": "Echo"}},
        },
    }
    os.makedirs(os.path.join(work, "outputs"), exist_ok=True)
    config_file = os.path.join(work, "pygeoapi-config.yml")
    openapi_file = os.path.join(work, "pygeoapi-openapi.yml")
    with open(config_file, "w", encoding="utf-8") as f:
        json.dump(config, f)
    cli = os.path.join(os.path.dirname(sys.executable), "pygeoapi")
    subprocess.run(
        [cli, "openapi", "generate", config_file, "--output-file", openapi_file],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    os.environ["PYGEOAPI_CONFIG"] = config_file
    os.environ["PYGEOAPI_OPENAPI"] = openapi_file
    print(url, flush=True)
    # The test stops reading after that line: anything printed later (Flask's banner) would fail on a closed pipe.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    sys.stdout = open(os.devnull, "w", encoding="utf-8")
    from pygeoapi.flask_app import APP  # reads the two variables when imported

    APP.run(host="127.0.0.1", port=port, debug=False, use_reloader=False, threaded=True)


if __name__ == "__main__":
    main()
