//! Link settings for the shipped static binary.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let target_feature = std::env::var("CARGO_CFG_TARGET_FEATURE").unwrap_or_default();
    let static_glibc = target_feature
        .split(',')
        .any(|feature| feature == "crt-static")
        && std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux")
        && std::env::var("CARGO_CFG_TARGET_ENV").as_deref() == Ok("gnu");
    if static_glibc {
        // A static-pie relocates itself at every start (ASLR is kept): ~35,000 relative
        // relocations, 24 bytes each as RELA (833 KB of the file, read on every start). RELR
        // packs them into a bitmap of a few KB, which glibc's static-pie start-up (2.36+)
        // applies; see BENCHMARKS.md, section 1.
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
        // The code a typical run executes, placed together at the start of .text (lld, the
        // toolchain's default linker here): an .env run then maps about 1.3 MB of code, not
        // 5.4 MB spread over all 12.6 MB of .text. Made by scripts/hot-symbols; a name this build
        // lacks is skipped, so a stale list only orders less.
        let order = concat!(env!("CARGO_MANIFEST_DIR"), "/link/hot-symbols.txt");
        println!("cargo:rerun-if-changed={order}");
        println!("cargo:rustc-link-arg-bins=-Wl,--symbol-ordering-file={order}");
        println!("cargo:rustc-link-arg-bins=-Wl,--no-warn-symbol-ordering");
    }
}
