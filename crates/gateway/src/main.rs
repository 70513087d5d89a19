//! The `uplink` binary: everything lives in the library.

/// mimalloc: the request path allocates and frees many small buffers; glibc's
/// allocator spent ~12 % of the gateway's CPU on them.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    uplink_gateway::cli::main()
}
