//! Twinport, the connector a city's Local Digital Twin puts in front of its platform to share data, models and
//! outputs with other cities' twins over the Dataspace Protocol 2025-1.
//!
//! The module tree is the architecture, in layers (the table in `docs/architecture.md`, kept by
//! `connector/tests/layers.rs`): foundations ([`config`], validated before anything binds; [`storage`], SQLite or
//! PostgreSQL; [`tls`]; [`telemetry`]; the pure alignment checks, [`align`]); records and identity ([`catalogue`],
//! [`identity`], the DSP [`client`]); the domain services ([`partners`], [`audit`], [`contracting`],
//! [`alignment`]); the HTTP surfaces ([`dsp`], [`dataplane`], [`management`], [`health`]); and on top the assembly
//! ([`app`]), which builds the services and gives each surface only what it uses, and the `twinport` command
//! ([`cli`]). Nothing imports upward.

pub mod align;
pub mod alignment;
pub mod app;
pub mod audit;
pub mod authority;
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
pub mod open;
pub mod partners;
pub mod paths;
pub mod server;
pub mod storage;
pub mod telemetry;
pub mod tls;
