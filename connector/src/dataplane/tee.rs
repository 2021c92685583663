//! A body stream that digests what passes through it: SHA-256 and byte count of exactly the bytes handed to the
//! partner, reported once when the body ends, fails, or is dropped early (the partner disconnected), so the access
//! is recorded in every case without holding the body.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::Stream;
use sha2::{Digest, Sha256};

use super::backend::BodyStream;

/// The length a message's `Content-Length` declares, if it is a number.
pub fn declared_length(headers: &axum::http::HeaderMap) -> Option<u64> {
    headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

/// How a body ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub bytes: u64,
    /// Lowercase hex SHA-256 of the bytes served.
    pub sha256: String,
    /// False when the body was cut short.
    pub complete: bool,
}

/// Wraps `inner`; `on_end` runs exactly once.
pub struct Tee<F: FnOnce(Outcome) + Send + Unpin> {
    inner: BodyStream,
    hasher: Sha256,
    bytes: u64,
    /// The declared length: the server stops polling once it is sent, so reaching it means complete.
    expected: Option<u64>,
    on_end: Option<F>,
}

impl<F: FnOnce(Outcome) + Send + Unpin> Tee<F> {
    /// `expected` is the `Content-Length` the response declares, if any.
    pub fn new(inner: BodyStream, expected: Option<u64>, on_end: F) -> Self {
        Tee {
            inner,
            hasher: Sha256::new(),
            bytes: 0,
            expected,
            on_end: Some(on_end),
        }
    }

    fn finish(&mut self, complete: bool) {
        if let Some(f) = self.on_end.take() {
            let sha256 = hex::encode(std::mem::take(&mut self.hasher).finalize());
            f(Outcome {
                bytes: self.bytes,
                sha256,
                complete,
            });
        }
    }
}

impl<F: FnOnce(Outcome) + Send + Unpin> Stream for Tee<F> {
    type Item = Result<Bytes, std::io::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        match this.inner.as_mut().poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => {
                this.hasher.update(&chunk);
                this.bytes += chunk.len() as u64;
                Poll::Ready(Some(Ok(chunk)))
            }
            Poll::Ready(Some(Err(e))) => {
                this.finish(false);
                Poll::Ready(Some(Err(e)))
            }
            Poll::Ready(None) => {
                this.finish(true);
                Poll::Ready(None)
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<F: FnOnce(Outcome) + Send + Unpin> Drop for Tee<F> {
    fn drop(&mut self) {
        let whole = self.expected.is_some_and(|n| n == self.bytes);
        self.finish(whole);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;
    use std::sync::{Arc, Mutex};

    fn source(chunks: Vec<&'static [u8]>) -> BodyStream {
        Box::pin(futures_util::stream::iter(
            chunks.into_iter().map(|c| Ok(Bytes::from_static(c))),
        ))
    }

    #[tokio::test]
    async fn the_digest_covers_exactly_the_bytes_served() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s = seen.clone();
        let tee = Tee::new(source(vec![b"ab", b"c"]), None, move |o| {
            s.lock().unwrap().push(o)
        });
        let out: Vec<u8> = tee.map(|c| c.unwrap().to_vec()).concat().await;
        assert_eq!(out, b"abc");
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 1);
        assert_eq!(
            seen[0],
            Outcome {
                bytes: 3,
                sha256: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad".into(),
                complete: true
            }
        );
    }

    #[tokio::test]
    async fn a_body_dropped_early_is_reported_incomplete_once() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s = seen.clone();
        let mut tee = Tee::new(source(vec![b"ab", b"c"]), Some(3), move |o| {
            s.lock().unwrap().push(o)
        });
        assert_eq!(
            tee.next().await.unwrap().unwrap(),
            Bytes::from_static(b"ab")
        );
        drop(tee);
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0].bytes, 2);
        assert!(!seen[0].complete);
    }

    #[tokio::test]
    async fn a_body_dropped_after_its_declared_length_is_complete() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s = seen.clone();
        let mut tee = Tee::new(source(vec![b"abc"]), Some(3), move |o| {
            s.lock().unwrap().push(o)
        });
        assert_eq!(
            tee.next().await.unwrap().unwrap(),
            Bytes::from_static(b"abc")
        );
        drop(tee);
        assert!(seen.lock().unwrap()[0].complete);
    }
}
