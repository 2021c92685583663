//! Twinport's usage-policy engine: the ODRL 2.2 model read from DSP's compact JSON-LD, an evaluator that explains
//! every decision in a compliance report, and local Rego rules evaluated in-process with `regorus`.
//!
//! Pure by design: no I/O, no async. The connector supplies the request context and stores the results.
