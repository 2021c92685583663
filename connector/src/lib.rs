//! Twinport, the connector a city's Local Digital Twin puts in front of its platform to share data, models and
//! outputs with other cities' twins over the Dataspace Protocol 2025-1.
//!
//! The module tree is the architecture: [`config`] is validated before [`app`] binds anything; [`storage`] keeps
//! state in SQLite or PostgreSQL; [`identity`] signs what we send and authenticates partners; [`catalogue`] holds
//! the MIM8 resource catalogue and publishes it as DCAT-AP; [`dsp`] is the protocol as a provider and [`client`]
//! as a consumer; [`management`] is the operators' API; [`cli`] the `twinport` command.

pub mod app;
pub mod audit;
pub mod catalogue;
pub mod cli;
pub mod client;
pub mod config;
pub mod connections;
pub mod contracting;
pub mod dataplane;
pub mod dsp;
pub mod error;
pub mod health;
pub mod identity;
pub mod iri;
pub mod management;
pub mod partners;
pub mod paths;
pub mod server;
pub mod storage;
pub mod telemetry;
pub mod tls;
