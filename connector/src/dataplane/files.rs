//! The directory backend: a file below the distribution's `file://` root, streamed in 64 KiB chunks with a media
//! type from its extension, and single byte ranges (`Range: bytes=a-b`) for partners resuming a large download.
//! The path was checked segment by segment before; here the resolved file must still lie under the root, so a
//! symbolic link cannot lead out of it either.

use std::path::Path;

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use super::backend::{BackendResponse, BodyStream};
use super::problem::Refusal;

const CHUNK: usize = 64 * 1024;

pub async fn open(
    root: &Path,
    path: &Path,
    head: bool,
    range: Option<&str>,
) -> Result<BackendResponse, Refusal> {
    let missing = || Refusal::not_found("no such file under this data address");
    let root = tokio::fs::canonicalize(root)
        .await
        .map_err(|e| Refusal::bad_gateway(format!("the file store is not available ({e})")))?;
    let real = tokio::fs::canonicalize(path).await.map_err(|_| missing())?;
    if !real.starts_with(&root) {
        return Err(Refusal::bad_request("the path leaves the data address"));
    }
    let meta = tokio::fs::metadata(&real).await.map_err(|_| missing())?;
    if !meta.is_file() {
        return Err(missing());
    }
    let size = meta.len();
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(media_type(&real)),
    );
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    let (status, start, len) = match range.map(|r| parse_range(r, size)) {
        None => (StatusCode::OK, 0, size),
        Some(Some((start, end))) => {
            let v = format!("bytes {start}-{end}/{size}");
            headers.insert(
                header::CONTENT_RANGE,
                HeaderValue::from_str(&v).map_err(Refusal::internal)?,
            );
            (StatusCode::PARTIAL_CONTENT, start, end - start + 1)
        }
        Some(None) => {
            return Err(Refusal::new(
                StatusCode::RANGE_NOT_SATISFIABLE,
                "range-not-satisfiable",
                format!("only one byte range within the file's {size} bytes can be served"),
            ))
        }
    };
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    if head {
        return Ok(BackendResponse {
            status,
            headers,
            body: Box::pin(futures_util::stream::empty()),
        });
    }
    let mut file = tokio::fs::File::open(&real).await.map_err(|_| missing())?;
    if start > 0 {
        file.seek(std::io::SeekFrom::Start(start))
            .await
            .map_err(|e| Refusal::bad_gateway(format!("cannot read the file ({e})")))?;
    }
    let body: BodyStream = Box::pin(futures_util::stream::unfold(
        (file, len),
        |(mut file, left)| async move {
            if left == 0 {
                return None;
            }
            let want = CHUNK.min(usize::try_from(left).unwrap_or(CHUNK));
            let mut buf = vec![0u8; want];
            match file.read(&mut buf).await {
                Ok(0) => Some((
                    Err(std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        "file shrank while served",
                    )),
                    (file, 0),
                )),
                Ok(n) => {
                    buf.truncate(n);
                    Some((Ok(Bytes::from(buf)), (file, left - n as u64)))
                }
                Err(e) => Some((Err(e), (file, 0))),
            }
        },
    ));
    Ok(BackendResponse {
        status,
        headers,
        body,
    })
}

/// `bytes=a-b`, `bytes=a-` or `bytes=-n` within `size`, as inclusive bounds; `None` when unsatisfiable or when
/// several ranges are asked for.
fn parse_range(value: &str, size: u64) -> Option<(u64, u64)> {
    let spec = value.trim().strip_prefix("bytes=")?;
    if spec.contains(',') || size == 0 {
        return None;
    }
    let (a, b) = spec.split_once('-')?;
    let (start, end) = match (a.trim(), b.trim()) {
        ("", n) => {
            let n: u64 = n.parse().ok()?;
            if n == 0 {
                return None;
            }
            (size.saturating_sub(n), size - 1)
        }
        (a, "") => (a.parse().ok()?, size - 1),
        (a, b) => (a.parse().ok()?, b.parse::<u64>().ok()?.min(size - 1)),
    };
    (start <= end && start < size).then_some((start, end))
}

fn media_type(path: &Path) -> &'static str {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    match ext.as_str() {
        "json" => "application/json",
        "jsonld" => "application/ld+json",
        "geojson" => "application/geo+json",
        "csv" => "text/csv",
        "txt" => "text/plain; charset=utf-8",
        "html" | "htm" => "text/html; charset=utf-8",
        "xml" => "application/xml",
        "gml" => "application/gml+xml",
        "ttl" => "text/turtle",
        "nt" => "application/n-triples",
        "tif" | "tiff" => "image/tiff",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "zip" => "application/zip",
        "gpkg" => "application/geopackage+sqlite3",
        "parquet" => "application/vnd.apache.parquet",
        "pdf" => "application/pdf",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;

    #[test]
    fn ranges_are_read_within_the_file() {
        assert_eq!(parse_range("bytes=0-9", 100), Some((0, 9)));
        assert_eq!(parse_range("bytes=90-", 100), Some((90, 99)));
        assert_eq!(parse_range("bytes=-10", 100), Some((90, 99)));
        assert_eq!(parse_range("bytes=50-500", 100), Some((50, 99)));
        assert_eq!(parse_range("bytes=100-", 100), None);
        assert_eq!(parse_range("bytes=0-1,5-6", 100), None);
        assert_eq!(parse_range("items=0-1", 100), None);
    }

    #[tokio::test]
    async fn a_file_streams_with_its_type_and_ranges_and_links_cannot_leave_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        std::fs::create_dir(&root).unwrap();
        std::fs::write(root.join("roads.geojson"), b"0123456789").unwrap();
        let r = open(&root, &root.join("roads.geojson"), false, None)
            .await
            .unwrap();
        assert_eq!(r.headers[header::CONTENT_TYPE], "application/geo+json");
        let body: Vec<u8> = r.body.map(|c| c.unwrap().to_vec()).concat().await;
        assert_eq!(body, b"0123456789");
        let r = open(&root, &root.join("roads.geojson"), false, Some("bytes=2-4"))
            .await
            .unwrap();
        assert_eq!(r.status, StatusCode::PARTIAL_CONTENT);
        let body: Vec<u8> = r.body.map(|c| c.unwrap().to_vec()).concat().await;
        assert_eq!(body, b"234");
        assert_eq!(
            open(&root, &root.join("nope"), false, None)
                .await
                .err()
                .unwrap()
                .status,
            404
        );
        std::fs::write(dir.path().join("secret"), b"s").unwrap();
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(dir.path().join("secret"), root.join("link")).unwrap();
            assert_eq!(
                open(&root, &root.join("link"), false, None)
                    .await
                    .err()
                    .unwrap()
                    .status,
                400
            );
        }
    }
}
