//! Transparency-log building blocks for the audit log: RFC 9162 Merkle hashing and proofs, C2SP signed notes and
//! checkpoints, and `tlog-proof` receipts. Pure: the connector stores entries and calls these.

pub mod checkpoint;
pub mod merkle;
pub mod note;
pub mod proof;
pub mod tree;
