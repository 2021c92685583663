//! Described models and datasets for the model-reuse tests: a flood model needing hourly rainfall in mm/h over an
//! Amsterdam box in the Dutch national grid (EPSG:28992) and a terrain height in metres, and datasets that fit it
//! exactly, after a conversion, or not at all.

use serde_json::{json, Value};

/// Amsterdam in RD New (EPSG:28992): what the model needs covered.
pub const MODEL_EXTENT_RD: [f64; 4] = [115_000.0, 480_000.0, 130_000.0, 492_000.0];
/// A CRS84 box well around it.
pub const AROUND_AMSTERDAM: [f64; 4] = [4.6, 52.2, 5.2, 52.6];

/// A model-or-service resource with an OGC API - Processes descriptor (no offers: [`crate::offer`] adds one).
pub fn flood_model(id: &str, backend: &str) -> Value {
    json!({
        "id": id, "kind": "model-or-service", "title": "Pluvial flood model",
        "description": "Simulates water depth from rainfall over the city's terrain.",
        "distributions": [{"format": "application/json", "backend": backend,
                           "ogc_api_processes": {"processes": ["flood"]}}],
        "model": {
            "api": "ogc-api-processes", "process": "flood",
            "job_control": ["sync-execute", "async-execute", "dismiss"],
            "inputs": {
                "rainfall": {
                    "title": "Rainfall intensity",
                    "schema": {"type": "object", "required": ["intensity"],
                               "properties": {"intensity": {"type": "number", "minimum": 0}}},
                    "units": {"intensity": "mm/h"},
                    "crs": "EPSG:28992", "extent": {"bbox": MODEL_EXTENT_RD},
                    "temporal": {"start": "2030-07-01", "end": "2030-07-31"},
                    "resolution": "PT1H", "media_type": "application/geo+json"
                },
                "terrain": {
                    "title": "Terrain height",
                    "schema": {"type": "object", "required": ["height"],
                               "properties": {"height": {"type": "number"}}},
                    "units": {"height": "m"}, "crs": "EPSG:28992", "extent": {"bbox": MODEL_EXTENT_RD}
                }
            },
            "outputs": {"depths": {"schema": {"type": "object", "properties": {"depth": {"type": "number"}}},
                                   "units": {"depth": "m"}, "crs": "EPSG:28992",
                                   "media_type": "application/geo+json"}},
            "parameters": {"duration_hours": {"schema": {"type": "integer", "minimum": 1}, "default": 6}},
            "method": {"description": "Shallow-water equations on a 5 m grid.", "version": "2.1"}
        }
    })
}

/// A raw rainfall dataset over CRS84 `bbox` covering July 2030, its intensity in `unit` every `resolution`.
pub fn rainfall(id: &str, unit: &str, resolution: &str, bbox: [f64; 4]) -> Value {
    json!({
        "id": id, "kind": "dataset", "stage": "raw", "title": "Rain gauges",
        "description": "Rain intensity from the city's gauges.",
        "bbox": bbox, "temporal": {"start": "2030-06-01", "end": "2030-08-31"},
        "distributions": [{"format": "application/geo+json", "backend": "http://platform.invalid/rain"}],
        "data": {"attributes": {"intensity": {"type": "number", "unit": unit},
                                "station": {"type": "string"}},
                 "resolution": resolution}
    })
}

/// A terrain model in RD New covering the model's extent, heights in `unit`.
pub fn terrain(id: &str, unit: &str) -> Value {
    json!({
        "id": id, "kind": "dataset", "stage": "workflow-ready", "title": "Terrain heights",
        "description": "Height of the ground per 5 m cell.",
        "distributions": [{"format": "text/csv", "backend": "http://platform.invalid/terrain.csv"}],
        "data": {"schema": {"type": "object", "required": ["x", "y", "height"],
                            "properties": {"x": {"type": "number"}, "y": {"type": "number"},
                                           "height": {"type": "integer"}}},
                 "attributes": {"height": {"type": "integer", "unit": unit}},
                 "crs": "EPSG:28992",
                 "extent": {"bbox": [100_000.0, 470_000.0, 140_000.0, 500_000.0]}}
    })
}
