//! The `graph-contract` command: parses arguments and hands over to the library.

fn main() {
    std::process::exit(graph_contract::cli::main());
}
