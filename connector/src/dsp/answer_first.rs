//! "Respond first, then act": the answer to a message that creates a process (201 with our pid) reaches the
//! partner before anything we send it about that process. The outbox holds back the messages the creation queued
//! until the answer's body has been handed to the connection, so an offer, agreement or start never overtakes the
//! pid the partner needs to recognise it.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::Stream;

use crate::contracting::creation::Acknowledged;
use crate::contracting::Contracting;

/// The answer to a creating message: 201 when it created the process, 200 for a repeat (nothing was held then).
pub fn answer(state: &Contracting, ack: Acknowledged) -> Response {
    let bytes = Bytes::from(ack.body.to_string());
    let status = if ack.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let length = bytes.len();
    let body = ThenRelease {
        body: Some(bytes),
        _release: ack.created.then(|| Release {
            state: state.clone(),
            process_id: ack.process_id,
        }),
    };
    (
        status,
        [
            (header::CONTENT_TYPE, "application/json".to_string()),
            (header::CONTENT_LENGTH, length.to_string()),
        ],
        Body::from_stream(body),
    )
        .into_response()
}

/// The answer's one chunk; dropped by the server once it has been written (or the connection failed).
struct ThenRelease {
    body: Option<Bytes>,
    _release: Option<Release>,
}

impl Stream for ThenRelease {
    type Item = Result<Bytes, Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Poll::Ready(self.body.take().map(Ok))
    }
}

/// Releases the process's held messages and wakes the outbox when dropped.
struct Release {
    state: Contracting,
    process_id: String,
}

impl Drop for Release {
    fn drop(&mut self) {
        self.state.creations().answered(&self.process_id);
        self.state.outbox_signal().wake();
    }
}
