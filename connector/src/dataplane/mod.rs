//! The data plane: where agreed data actually flows. The consumer side lives in [`consumer`] (the local endpoint
//! for this city's applications) and [`push`] (payloads a provider pushes to us, and pushing as a provider).

pub mod consumer;
