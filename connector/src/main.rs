//! The `twinport` command.

/// mimalloc instead of the C library's allocator: a proxied request allocates and frees many small buffers (headers,
/// JSON, futures) across worker threads, and glibc's malloc and free were 15 % of the data plane's CPU under load.
/// Version 2 of it (see `Cargo.toml`): it returns freed memory to the system within milliseconds.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    twinport::cli::main()
}
