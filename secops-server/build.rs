//! Rebuilds the server when the committed console bundle (`web/dist`, compiled in by `console`) changes.
fn main() {
    println!("cargo:rerun-if-changed=../web/dist");
}
