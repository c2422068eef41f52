//! Replays the committed cargo-fuzz corpus (shared/helm/fuzz/corpus) through the fuzz
//! targets' entry points, so CI checks on stable what fuzzing found: every input returns
//! (an error is fine) without panicking.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::path::Path;

fn replay(target: &str, run: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus").join(target);
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        let outcome = std::panic::catch_unwind(|| run(&data));
        assert!(outcome.is_ok(), "{target} panicked on {}", path.display());
        n += 1;
    }
    assert!(n >= 10, "{target}: only {n} corpus inputs in {}", dir.display());
    eprintln!("{target}: replayed {n} inputs");
}

#[test]
fn template_parser_corpus() {
    replay("template_parser", weir_helm::fuzz_targets::template_parser);
}

#[test]
fn chart_loader_corpus() {
    replay("chart_loader", weir_helm::fuzz_targets::chart_loader);
}

#[test]
fn archive_bomb_is_refused() {
    // 6 MiB of zeros in one file compress to a few KiB; Helm's per-file limit is 5 MiB.
    let mut tgz = Vec::new();
    {
        let enc = flate2::write::GzEncoder::new(&mut tgz, flate2::Compression::best());
        let mut tar = tar::Builder::new(enc);
        let data = vec![0u8; 6 * 1024 * 1024];
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        tar.append_data(&mut header, "bomb/values.yaml", data.as_slice()).unwrap();
        tar.into_inner().unwrap().finish().unwrap();
    }
    assert!(tgz.len() < 64 * 1024);
    let e = weir_helm::chart::load_archive(&tgz).unwrap_err();
    assert!(e.to_string().contains("larger than the maximum file size"), "{e}");
}
