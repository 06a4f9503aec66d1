//! The floor of a Rust wrapper in exec mode, for scripts/bench: a static-pie that sets one
//! variable and execs its arguments, built with `rustc -O -C panic=abort -C
//! target-feature=+crt-static` and stripped. Whatever secretrun costs above this is its own.

use std::os::unix::process::CommandExt;

fn main() {
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    let Some((program, rest)) = args.split_first() else {
        std::process::exit(125);
    };
    let error = std::process::Command::new(program)
        .args(rest)
        .env("X", "1")
        .exec();
    eprintln!("exec_floor: {error}");
    std::process::exit(127);
}
