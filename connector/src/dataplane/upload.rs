//! A request body on its way to the platform (or to the provider), watched. Two things depend on it: how long the
//! far side has been silent (a large upload is progress, so the wait for the answer counts from the last chunk the
//! far side took, not from the start of the request), and whose fault a failed exchange is (a client that sent a
//! malformed body gets a 400, not a 502 blaming the platform). Where it is asked for ([`watch_digested`]), what
//! was sent is also digested, so the consumer can check the receipt of a request whose body the provider covers.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Bytes;
use futures_util::Stream;
use sha2::{Digest, Sha256};
use tokio::time::Instant;

use super::backend::BodyStream;

/// What the watched body has done so far.
#[derive(Clone)]
pub struct Watch(Arc<Mutex<Seen>>);

struct Seen {
    last_progress: Instant,
    client_error: Option<String>,
    /// SHA-256 and size of what was taken so far, when asked for.
    digest: Option<(Sha256, u64)>,
    /// Whether the body was taken to its end.
    ended: bool,
}

/// Wraps `body`; the returned [`Watch`] sees each chunk taken and the first read error.
pub fn watch(body: BodyStream) -> (BodyStream, Watch) {
    watching(body, None)
}

/// As [`watch`], digesting what is taken: [`Watch::sent`] then tells the size and SHA-256 of a body sent whole.
pub fn watch_digested(body: BodyStream) -> (BodyStream, Watch) {
    watching(body, Some((Sha256::new(), 0)))
}

fn watching(body: BodyStream, digest: Option<(Sha256, u64)>) -> (BodyStream, Watch) {
    let watch = Watch(Arc::new(Mutex::new(Seen {
        last_progress: Instant::now(),
        client_error: None,
        digest,
        ended: false,
    })));
    let watched = Watched {
        inner: body,
        watch: watch.clone(),
    };
    (Box::pin(watched), watch)
}

impl Watch {
    fn seen(&self) -> std::sync::MutexGuard<'_, Seen> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// When the far side last took a chunk (or the watch began).
    pub fn last_progress(&self) -> Instant {
        self.seen().last_progress
    }

    /// Why reading the client's body failed, if it did: the client's mistake, not the far side's.
    pub fn client_error(&self) -> Option<String> {
        self.seen().client_error.clone()
    }

    /// Size and lowercase hex SHA-256 of the body, once it was taken whole (and digested: [`watch_digested`]).
    pub fn sent(&self) -> Option<(u64, String)> {
        let seen = self.seen();
        match (&seen.digest, seen.ended && seen.client_error.is_none()) {
            (Some((hasher, bytes)), true) => Some((*bytes, hex::encode(hasher.clone().finalize()))),
            _ => None,
        }
    }
}

struct Watched {
    inner: BodyStream,
    watch: Watch,
}

impl Stream for Watched {
    type Item = Result<Bytes, std::io::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let polled = self.inner.as_mut().poll_next(cx);
        match &polled {
            Poll::Ready(Some(Ok(chunk))) => {
                let mut seen = self.watch.seen();
                seen.last_progress = Instant::now();
                if let Some((hasher, bytes)) = seen.digest.as_mut() {
                    hasher.update(chunk);
                    *bytes += chunk.len() as u64;
                }
            }
            Poll::Ready(None) => self.watch.seen().ended = true,
            Poll::Ready(Some(Err(e))) => {
                let mut seen = self.watch.seen();
                if seen.client_error.is_none() {
                    seen.client_error = Some(e.to_string());
                }
            }
            _ => {}
        }
        polled
    }
}

/// How a silence-bounded wait ended.
pub enum Waited<T> {
    Done(T),
    /// The far side took no chunk and gave no answer for the whole timeout.
    Silent,
}

/// Awaits `answer`, giving up once `timeout` has passed since the later of the start and the last progress of the
/// upload `watch` (when there is one).
pub async fn within_silence<T>(
    answer: impl Future<Output = T>,
    watch: Option<&Watch>,
    timeout: Duration,
) -> Waited<T> {
    let started = Instant::now();
    tokio::pin!(answer);
    loop {
        let since = watch.map_or(started, |w| w.last_progress().max(started));
        tokio::select! {
            out = &mut answer => return Waited::Done(out),
            () = tokio::time::sleep_until(since + timeout) => {
                let moved = watch.is_some_and(|w| w.last_progress() > since);
                if !moved {
                    return Waited::Silent;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;

    fn chunks(n: usize, every: Duration) -> BodyStream {
        Box::pin(futures_util::stream::iter(0..n).then(move |_| async move {
            tokio::time::sleep(every).await;
            Ok(Bytes::from_static(b"chunk"))
        }))
    }

    #[tokio::test]
    async fn an_upload_that_keeps_moving_is_not_timed_out() {
        let (body, watch) = watch(chunks(10, Duration::from_millis(60)));
        // The far side reads the whole body (600 ms in all, past the 200 ms timeout) and then answers.
        let answer = async move { body.collect::<Vec<_>>().await.len() };
        match within_silence(answer, Some(&watch), Duration::from_millis(200)).await {
            Waited::Done(n) => assert_eq!(n, 10),
            Waited::Silent => panic!("timed out while the upload was moving"),
        }
    }

    #[tokio::test]
    async fn silence_after_the_upload_is_timed_out() {
        let (body, watch) = watch(chunks(2, Duration::from_millis(10)));
        let answer = async move {
            let _ = body.collect::<Vec<_>>().await;
            std::future::pending::<()>().await
        };
        assert!(matches!(
            within_silence(answer, Some(&watch), Duration::from_millis(200)).await,
            Waited::Silent
        ));
    }

    #[tokio::test]
    async fn a_digested_body_is_known_once_sent_whole() {
        let (mut body, digested) = watch_digested(chunks(2, Duration::from_millis(1)));
        assert_eq!(digested.sent(), None);
        let _ = body.next().await;
        assert_eq!(digested.sent(), None, "not whole yet");
        while body.next().await.is_some() {}
        assert_eq!(
            digested.sent(),
            Some((10, hex::encode(Sha256::digest(b"chunkchunk"))))
        );
        let (mut body, plain) = watch(chunks(1, Duration::from_millis(1)));
        while body.next().await.is_some() {}
        assert_eq!(plain.sent(), None, "not asked for");
    }

    #[tokio::test]
    async fn a_client_read_error_is_remembered() {
        let failing: BodyStream = Box::pin(futures_util::stream::iter(vec![
            Ok(Bytes::from_static(b"a")),
            Err(std::io::Error::other("invalid chunk extension")),
        ]));
        let (mut body, watch) = watch(failing);
        while body.next().await.is_some() {}
        assert_eq!(
            watch.client_error().as_deref(),
            Some("invalid chunk extension")
        );
    }
}
