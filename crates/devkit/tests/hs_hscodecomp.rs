//! Regression guard on the shared HSCodeComp file (measurement only): on the first 150 items the
//! model must beat the plain TF-IDF baseline clearly. Skips with a message when `../shared` is
//! absent (override the location with BORDERLINE_SHARED).

use borderline_devkit::hs::eval;
use borderline_hs::Classifier;
use std::path::PathBuf;

#[test]
fn beats_tfidf_baseline_on_hscodecomp_sample() {
    let shared = std::env::var_os("BORDERLINE_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    let path = shared.join("data/hs-eval/hscodecomp_test_data.jsonl");
    if !path.exists() {
        eprintln!(
            "SKIP beats_tfidf_baseline_on_hscodecomp_sample: {} not found (set BORDERLINE_SHARED)",
            path.display()
        );
        return;
    }
    let (items, _) = eval::load(&path).expect("evaluation file parses");
    assert!(
        items.len() > 600,
        "expected the 632-item file, got {}",
        items.len()
    );
    let sample = &items[..150];
    let model = Classifier::bundled().unwrap();
    let r = eval::evaluate(&model, sample, 0);
    assert_eq!(r.items, 150);
    assert!(r.top1.hs4 > r.baseline.top1.hs4 + 0.10, "{r:?}");
    assert!(r.top5.hs6 > r.baseline.top5.hs6 + 0.10, "{r:?}");
    assert!(
        r.title_only.top5.hs6 > r.baseline.title_only.top5.hs6 + 0.10,
        "{r:?}"
    );
    let c = r.calibration;
    assert!(c.hs6_mean_confidence > 0.0 && c.hs6_mean_confidence < 1.0);
}
