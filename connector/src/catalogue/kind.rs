//! The MIM8 resource taxonomy: five kinds of LDT resource and, for datasets, the four stages of MIM8 R1.2. Each
//! has a short name (used in files, the API, catalogue filters and policies) that is also the concept's name in
//! Twinport's LDT vocabulary (`vocab/ldt.ttl`), which every connector serves under its public URL.

use serde::{Deserialize, Serialize};

/// The connector-independent namespace each served concept is an exact match of (`skos:exactMatch`).
pub const LDT_NS: &str = "https://w3id.org/twinport/ldt#";

/// Earlier releases published kinds and stages as classes in [`LDT_NS`] (`ldt:Dataset`, `ldt:RawData`, ...);
/// filters still accept those names.
const LEGACY_KINDS: [&str; 5] = [
    "Dataset",
    "ModelOrService",
    "WorkflowTemplate",
    "VisualisationAsset",
    "PublishedOutput",
];
const LEGACY_STAGES: [&str; 4] = ["RawData", "WorkflowReadyData", "ModelInput", "ModelOutput"];

/// The concept IRI of `name` in the vocabulary served under `public_url`.
pub fn concept_iri(public_url: &str, name: &str) -> String {
    format!("{public_url}{}#{name}", crate::paths::VOCAB_PATH)
}

/// The concept name of a served concept IRI (any connector's), of a connector-independent one, or the name itself.
fn concept_name(s: &str) -> &str {
    if let Some(name) = s.strip_prefix(LDT_NS) {
        return name;
    }
    match s.rsplit_once(crate::paths::VOCAB_PATH) {
        Some((base, rest)) if base.contains("://") => rest.strip_prefix('#').unwrap_or(s),
        _ => s,
    }
}

/// The kind of an LDT resource (MIM8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ResourceKind {
    Dataset,
    ModelOrService,
    WorkflowTemplate,
    VisualisationAsset,
    PublishedOutput,
}

/// The stage of a dataset (MIM8 R1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum DatasetStage {
    Raw,
    WorkflowReady,
    ModelInput,
    ModelOutput,
}

impl ResourceKind {
    pub const ALL: [ResourceKind; 5] = [
        ResourceKind::Dataset,
        ResourceKind::ModelOrService,
        ResourceKind::WorkflowTemplate,
        ResourceKind::VisualisationAsset,
        ResourceKind::PublishedOutput,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ResourceKind::Dataset => "dataset",
            ResourceKind::ModelOrService => "model-or-service",
            ResourceKind::WorkflowTemplate => "workflow-template",
            ResourceKind::VisualisationAsset => "visualisation-asset",
            ResourceKind::PublishedOutput => "published-output",
        }
    }

    /// The concept IRI in the vocabulary served under `public_url`.
    pub fn concept(self, public_url: &str) -> String {
        concept_iri(public_url, self.as_str())
    }

    /// The concept's labels in the vocabulary (English, Dutch).
    pub fn labels(self) -> (&'static str, &'static str) {
        match self {
            ResourceKind::Dataset => ("Data resource", "Databron"),
            ResourceKind::ModelOrService => ("Model or service", "Model of dienst"),
            ResourceKind::WorkflowTemplate => (
                "Workflow or scenario template",
                "Workflow- of scenariosjabloon",
            ),
            ResourceKind::VisualisationAsset => ("Visualisation asset", "Visualisatie"),
            ResourceKind::PublishedOutput => ("Published output", "Gepubliceerde uitkomst"),
        }
    }

    /// Parses a short name or a concept IRI (served by any connector, connector-independent, or a legacy class).
    pub fn parse(s: &str) -> Option<ResourceKind> {
        let name = concept_name(s);
        ResourceKind::ALL
            .into_iter()
            .enumerate()
            .find_map(|(i, k)| (k.as_str() == name || LEGACY_KINDS[i] == name).then_some(k))
    }
}

impl DatasetStage {
    pub const ALL: [DatasetStage; 4] = [
        DatasetStage::Raw,
        DatasetStage::WorkflowReady,
        DatasetStage::ModelInput,
        DatasetStage::ModelOutput,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DatasetStage::Raw => "raw",
            DatasetStage::WorkflowReady => "workflow-ready",
            DatasetStage::ModelInput => "model-input",
            DatasetStage::ModelOutput => "model-output",
        }
    }

    /// The concept IRI in the vocabulary served under `public_url`.
    pub fn concept(self, public_url: &str) -> String {
        concept_iri(public_url, self.as_str())
    }

    /// The concept's labels in the vocabulary (English, Dutch).
    pub fn labels(self) -> (&'static str, &'static str) {
        match self {
            DatasetStage::Raw => ("Raw data", "Ruwe data"),
            DatasetStage::WorkflowReady => ("Workflow-ready data", "Workflow-klare data"),
            DatasetStage::ModelInput => ("Model input", "Modelinvoer"),
            DatasetStage::ModelOutput => ("Model output", "Modeluitvoer"),
        }
    }

    pub fn parse(s: &str) -> Option<DatasetStage> {
        let name = concept_name(s);
        DatasetStage::ALL
            .into_iter()
            .enumerate()
            .find_map(|(i, k)| (k.as_str() == name || LEGACY_STAGES[i] == name).then_some(k))
    }
}

impl std::fmt::Display for ResourceKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Display for DatasetStage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_iris_parse_back() {
        let base = "https://twin.city-a.example";
        for k in ResourceKind::ALL {
            assert_eq!(ResourceKind::parse(k.as_str()), Some(k));
            assert_eq!(ResourceKind::parse(&k.concept(base)), Some(k));
            assert_eq!(ResourceKind::parse(&format!("{LDT_NS}{k}")), Some(k));
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
        }
        for s in DatasetStage::ALL {
            assert_eq!(DatasetStage::parse(s.as_str()), Some(s));
            assert_eq!(DatasetStage::parse(&s.concept(base)), Some(s));
        }
        assert_eq!(
            ResourceKind::concept(ResourceKind::Dataset, base),
            "https://twin.city-a.example/vocab/ldt#dataset"
        );
        assert_eq!(
            ResourceKind::parse(&format!("{LDT_NS}Dataset")),
            Some(ResourceKind::Dataset)
        );
        assert_eq!(
            DatasetStage::parse(&format!("{LDT_NS}RawData")),
            Some(DatasetStage::Raw)
        );
        assert_eq!(ResourceKind::parse("model"), None);
        assert_eq!(ResourceKind::parse("/vocab/ldt#dataset"), None);
    }

    /// Every kind and stage is a concept of the vocabulary file, named as in the code.
    #[test]
    fn the_vocabulary_file_defines_every_kind_and_stage() {
        let ttl = include_str!("../../vocab/ldt.ttl");
        for name in ResourceKind::ALL
            .iter()
            .map(|k| k.as_str())
            .chain(DatasetStage::ALL.iter().map(|s| s.as_str()))
        {
            assert!(ttl.contains(&format!("<#{name}> a skos:Concept")), "{name}");
            assert!(
                ttl.contains(&format!("skos:exactMatch ldt:{name} .")),
                "{name}"
            );
        }
        for (en, nl) in ResourceKind::ALL
            .iter()
            .map(|k| k.labels())
            .chain(DatasetStage::ALL.iter().map(|s| s.labels()))
        {
            assert!(
                ttl.contains(&format!("skos:prefLabel \"{en}\"@en, \"{nl}\"@nl")),
                "{en}"
            );
        }
    }
}
