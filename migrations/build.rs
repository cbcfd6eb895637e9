//! Lists the migrations: every `src/mYYYYMMDD_NNNNNN_<verb>_<object>.rs`, in the order of
//! their names. A migration is then one new file, and none can be left out or put out of order
//! by hand (`Migrator::migrations` includes the list this writes).

use std::{env, fs, path::PathBuf};

fn main() {
    let src = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets it")).join("src");
    println!("cargo:rerun-if-changed=src");
    let mut names: Vec<String> = fs::read_dir(&src)
        .expect("migrations/src")
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter_map(|file| file.strip_suffix(".rs").map(str::to_owned))
        .filter(|name| is_migration(name))
        .collect();
    names.sort();
    let mut out = String::new();
    for name in &names {
        let path = src.join(format!("{name}.rs"));
        out.push_str(&format!(
            "#[path = {:?}]\nmod {name};\n",
            path.display().to_string()
        ));
    }
    out.push_str("\n/// Every migration, oldest first.\nfn in_order() -> Vec<Box<dyn MigrationTrait>> {\n    vec![\n");
    for name in &names {
        out.push_str(&format!("        Box::new({name}::Migration),\n"));
    }
    out.push_str("    ]\n}\n");
    let generated =
        PathBuf::from(env::var("OUT_DIR").expect("cargo sets it")).join("migrations.rs");
    fs::write(generated, out).expect("writing the list of migrations");
}

/// `m20261127_000001_create_practice`: `m`, a date, `_`, a six-digit number, `_`, words.
fn is_migration(name: &str) -> bool {
    let bytes = name.as_bytes();
    bytes.len() > 17
        && bytes[0] == b'm'
        && bytes[1..9].iter().all(u8::is_ascii_digit)
        && bytes[9] == b'_'
        && bytes[10..16].iter().all(u8::is_ascii_digit)
        && bytes[16] == b'_'
}
