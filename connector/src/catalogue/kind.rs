//! The MIM8 resource taxonomy: five kinds of LDT resource and, for datasets, the four stages of MIM8 R1.2. Each
//! has a short name (used in files, the API and catalogue filters) and an IRI in Twinport's LDT vocabulary.

use serde::{Deserialize, Serialize};

/// Namespace of Twinport's LDT vocabulary, documented in `docs/catalogue.md`.
pub const LDT_NS: &str = "https://w3id.org/twinport/ldt#";

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

    /// The class IRI in our vocabulary.
    pub fn iri(self) -> String {
        let local = match self {
            ResourceKind::Dataset => "Dataset",
            ResourceKind::ModelOrService => "ModelOrService",
            ResourceKind::WorkflowTemplate => "WorkflowTemplate",
            ResourceKind::VisualisationAsset => "VisualisationAsset",
            ResourceKind::PublishedOutput => "PublishedOutput",
        };
        format!("{LDT_NS}{local}")
    }

    /// Parses a short name or a vocabulary IRI.
    pub fn parse(s: &str) -> Option<ResourceKind> {
        ResourceKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s || k.iri() == s)
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

    pub fn iri(self) -> String {
        let local = match self {
            DatasetStage::Raw => "RawData",
            DatasetStage::WorkflowReady => "WorkflowReadyData",
            DatasetStage::ModelInput => "ModelInput",
            DatasetStage::ModelOutput => "ModelOutput",
        };
        format!("{LDT_NS}{local}")
    }

    pub fn parse(s: &str) -> Option<DatasetStage> {
        DatasetStage::ALL
            .into_iter()
            .find(|k| k.as_str() == s || k.iri() == s)
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
        for k in ResourceKind::ALL {
            assert_eq!(ResourceKind::parse(k.as_str()), Some(k));
            assert_eq!(ResourceKind::parse(&k.iri()), Some(k));
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
        }
        for s in DatasetStage::ALL {
            assert_eq!(DatasetStage::parse(s.as_str()), Some(s));
            assert_eq!(DatasetStage::parse(&s.iri()), Some(s));
        }
        assert_eq!(ResourceKind::parse("model"), None);
    }
}
