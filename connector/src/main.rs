//! The `twinport` command.

fn main() -> std::process::ExitCode {
    twinport::cli::main()
}
