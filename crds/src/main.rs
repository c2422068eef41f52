//! Writes `crds/*.yaml` from the types in weir-api: `cargo run -p weir-crds`.

use std::path::PathBuf;

fn main() -> anyhow::Result<()> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    for (name, yaml) in weir_crds::render_all()? {
        std::fs::write(dir.join(&name), yaml)?;
        println!("wrote crds/{name}");
    }
    Ok(())
}
