//! The README's demos, run as a user runs them: each step checks what it shows (a demo that no longer works fails
//! here, not in front of a city's team).

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_runs_to_the_end() {
    twinport::cli::demo::run(false, false).await.expect("demo");
}

/// With DCP the demo ends by revoking city B's membership; it fails if city A still serves B.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dcp_demo_runs_to_the_end_and_the_revoked_city_is_refused() {
    twinport::cli::demo::run(false, true)
        .await
        .expect("demo --dcp");
}
