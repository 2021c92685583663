//! A resource's description as the alignment checks read it, and as partners receive it in the DSP catalogue
//! ([`Described`]): defaults resolved (the extent from `bbox`, GeoJSON's CRS), so a city checking a partner's
//! dataset compares exactly what the partner's own checks would. A model input becomes what is needed, a described
//! resource what is had.

use serde::{Deserialize, Serialize};

use crate::align::{self, Have, Need, Window};
use crate::catalogue::kind::ResourceKind;
use crate::catalogue::resource::{span, FieldError, Resource, Temporal};

use super::{DataDescription, Extent, ModelDescriptor, Port};

/// GeoJSON coordinates are CRS84 by definition (RFC 7946), so data served as GeoJSON states its CRS.
const GEOJSON: &str = "application/geo+json";
const CRS84: &str = "OGC:CRS84";

/// What can be checked about one resource: published to partners as the JSON value of `ldt#description`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Described {
    pub id: String,
    pub kind: ResourceKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<ModelDescriptor>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<DataDescription>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temporal: Option<Temporal>,
}

impl Described {
    /// `None` for a resource that describes nothing checkable.
    pub fn of(r: &Resource) -> Option<Described> {
        let geojson = r.distributions.iter().any(|x| x.format == GEOJSON);
        let data = match (&r.data, r.kind) {
            (_, ResourceKind::ModelOrService) => None,
            (None, _) if r.bbox.is_none() && r.temporal.is_none() && !geojson => None,
            (d, _) => {
                let mut d = d.clone().unwrap_or_default();
                if d.crs.is_none() && geojson {
                    d.crs = Some(CRS84.into());
                }
                if d.extent.is_none() {
                    d.extent = r.bbox.map(|bbox| Extent {
                        bbox,
                        crs: Some(CRS84.into()),
                    });
                }
                Some(d)
            }
        };
        if r.model.is_none() && data.is_none() {
            return None;
        }
        Some(Described {
            id: r.id.clone(),
            kind: r.kind,
            model: r.model.clone(),
            data,
            temporal: r.temporal.clone(),
        })
    }

    /// What does not hold in a description read from elsewhere (a partner's catalogue), with the checks a resource
    /// of ours passes when it is written: an unreadable date or unit must not read as "no limit".
    pub fn problems(&self) -> Vec<FieldError> {
        let mut out = super::problems(self.kind, self.model.as_ref(), self.data.as_ref());
        if let Some(t) = &self.temporal {
            for (name, v) in [("start", &t.start), ("end", &t.end)] {
                if v.as_deref().is_some_and(|v| span(v).is_none()) {
                    out.push(FieldError {
                        field: format!("temporal.{name}"),
                        problem: "must be a date (YYYY-MM-DD) or an RFC 3339 date-time".into(),
                    });
                }
            }
        }
        out
    }

    /// SHA-256 of the RFC 8785 form: which description a recorded check was made against.
    pub fn digest(&self) -> String {
        let value = serde_json::to_value(self).unwrap_or_default();
        let bytes = twinport_contracts::canonical::canonicalize(&value).unwrap_or_default();
        twinport_contracts::canonical::sha256_hex(&bytes)
    }

    /// What this dataset, asset or output has.
    pub fn have(&self) -> Have {
        let d = self.data.clone().unwrap_or_default();
        let units = d
            .attributes
            .iter()
            .filter_map(|(name, a)| Some((name.clone(), a.unit.clone()?)))
            .collect();
        let attributes = d
            .attributes
            .iter()
            .map(|(name, a)| {
                let attribute = align::Attribute {
                    r#type: a.kind.clone(),
                    unit: a.unit.clone(),
                };
                (name.clone(), attribute)
            })
            .collect();
        Have {
            extent: d.extent.as_ref().map(|e| extent(e, d.crs.as_deref())),
            schema: d.schema,
            entity_type: d.entity_type,
            attributes,
            context: d.context,
            unit: d.unit,
            units,
            crs: d.crs,
            window: self.temporal.as_ref().map(window),
            resolution: d.resolution,
        }
    }

    /// What a visualisation asset needs of the output it will show: the same place and time, in its CRS.
    pub fn visual_need(&self) -> Need {
        let h = self.have();
        Need {
            schema: None,
            context: None,
            unit: None,
            units: Default::default(),
            crs: h.crs,
            extent: h.extent,
            window: h.window,
            resolution: h.resolution,
        }
    }
}

/// What a model input needs.
pub fn need(port: &Port) -> Need {
    Need {
        schema: Some(port.schema.clone()),
        context: port.context.clone(),
        unit: port.unit.clone(),
        units: port.units.clone(),
        crs: port.crs.clone(),
        extent: port.extent.as_ref().map(|e| extent(e, port.crs.as_deref())),
        window: port.temporal.as_ref().map(window),
        resolution: port.resolution.clone(),
    }
}

fn extent(e: &Extent, default_crs: Option<&str>) -> align::Extent {
    align::Extent {
        bbox: e.bbox,
        crs: e
            .crs
            .as_deref()
            .or(default_crs)
            .unwrap_or(CRS84)
            .to_string(),
    }
}

/// Dates stand for whole days: a window from `2040-06-01` to `2040-08-31` covers all of both.
fn window(t: &Temporal) -> Window {
    Window {
        start: t.start.as_deref().and_then(span).map(|(first, _)| first),
        end: t.end.as_deref().and_then(span).map(|(_, last)| last),
    }
}
