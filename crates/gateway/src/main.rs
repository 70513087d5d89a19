//! The `uplink` binary: everything lives in the library.

/// mimalloc: glibc's malloc/free and its page faults were a fifth of a large
/// translation's CPU. Built with `no_thp`: huge pages nearly doubled RSS.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    uplink_gateway::cli::main()
}
