//! The `uplink` binary: everything lives in the library.

fn main() -> std::process::ExitCode {
    uplink_gateway::cli::main()
}
