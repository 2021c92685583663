//! The sample catalogue `twinport init` and the demo write: one resource of each MIM8 kind a city typically shares
//! first, under two ready policies, so a new operator sees the shape of every file.

/// (file name, contents) of the sample policies.
pub const POLICIES: &[(&str, &str)] = &[
    (
        "partner-use.json",
        r#"{
  "permission": [
    { "action": "use" }
  ]
}
"#,
    ),
    (
        "research-only.json",
        r#"{
  "permission": [
    {
      "action": "use",
      "constraint": [
        { "leftOperand": "purpose", "operator": "isAnyOf", "rightOperand": ["https://w3id.org/dpv#ResearchAndDevelopment"] }
      ]
    }
  ],
  "prohibition": [
    { "action": "distribute" }
  ]
}
"#,
    ),
];

/// (file name, contents) of the sample resources; `{backend}` is replaced by the platform's base URL.
pub const RESOURCES: &[(&str, &str)] = &[
    (
        "traffic-counts.toml",
        r#"id = "urn:ldt:sample-city:traffic-counts"
kind = "dataset"
stage = "raw"
title = "Traffic counts per road segment"
description = "Vehicles per hour from the city's induction loops, as NGSI-LD TrafficFlowObserved entities."
# Listed on the open catalogue (DCAT-AP at /catalog.ttl, OGC API Records at /records, CSW at /csw) for anyone to
# find; the data itself still needs a contract. Leave it out to show the resource to partners only.
discoverable = true
keywords = ["traffic", "mobility", "ngsi-ld"]
# EU data themes by code (TRAN, ENVI, REGI, ...) or any concept as { id = "...", label = "..." }.
themes = ["TRAN"]
update_frequency = "hourly"
# [west, south, east, north] in WGS 84 longitude/latitude.
bbox = [4.73, 52.28, 5.07, 52.43]
spatial = "http://publications.europa.eu/resource/authority/place/NLD_AMS"
conforms_to = ["https://smartdatamodels.org/dataModel.Transportation/TrafficFlowObserved"]

[temporal]
start = "2024-01-01"

[[distributions]]
format = "application/ld+json"
backend = "{backend}/ngsi-ld/v1/entities?type=TrafficFlowObserved"

[[offers]]
policy = "partner-use"
"#,
    ),
    (
        "flood-model.toml",
        r#"id = "urn:ldt:sample-city:flood-model"
kind = "model-or-service"
title = "Pluvial flood simulation"
description = "Runs a rainfall scenario over the city's terrain model (OGC API - Processes)."
discoverable = true
keywords = ["flooding", "simulation", "climate adaptation"]
themes = ["ENVI"]
# A discoverable model names the description of the API it is called through.
endpoint_description = "https://models.city.example/processes/flood-simulation"
conforms_to = ["http://www.opengis.net/spec/ogcapi-processes-1/1.0"]

[[distributions]]
format = "application/json"
backend = "{backend}/processes/flood-simulation"

[[offers]]
policy = "research-only"

# What the model needs and gives: another city checks its data fits with `twinport align` before it negotiates.
[model]
api = "ogc-api-processes"
process = "flood-simulation"
job_control = ["sync-execute", "async-execute"]

[model.method]
description = "Shallow-water equations on the city's 5 m terrain grid: rain falls on every cell and flows by slope."
version = "2.1.0"

# Hourly rain intensity in mm/h over the city, in the Dutch national grid (RD New).
[model.inputs.rainfall]
title = "Rain intensity"
schema = { type = "object", required = ["intensity"], properties = { intensity = { type = "number", minimum = 0 } } }
units = { intensity = "mm/h" }
crs = "EPSG:28992"
extent = { bbox = [110000, 476000, 135000, 492000] }
resolution = "PT1H"

[model.outputs.depths]
title = "Maximum water depth per cell"
schema = { type = "object", properties = { depth = { type = "number" } } }
units = { depth = "m" }
crs = "EPSG:28992"
"#,
    ),
    (
        "heat-scenario-output.toml",
        r#"id = "urn:ldt:sample-city:heat-scenario-2040"
kind = "published-output"
title = "Heat stress scenario 2040 (results)"
description = "Published output of the 2040 heat-stress scenario: surface temperature per neighbourhood."
keywords = ["heat", "scenario", "climate"]
themes = ["ENVI", "REGI"]

[[distributions]]
format = "application/geo+json"
backend = "{backend}/outputs/heat-2040.geojson"

[[offers]]
policy = "partner-use"

[[offers]]
policy = "research-only"
"#,
    ),
];
