//! The full `hs evaluate` report: the product-title set (HSCodeComp, via [`super::eval`]), the
//! bundled HMRC labelled descriptions (dev part and the never-tuned held-aside part reported
//! separately), the HMRC vague descriptions, the ruling-style development set, calibration
//! (reliability table and ECE on the held-aside part), and the TF-IDF baseline on every set,
//! all in one run.

use super::eval::{self, EvalItem, Levels, TfIdfBaseline};
use borderline_hs::references::{Part, References};
use borderline_hs::vague::VagueDetector;
use borderline_hs::{Classifier, Ranking};
use serde::Serialize;

const RULING_DEV: &str = include_str!("../../../../data/hs/ruling-dev.tsv");

/// One labelled description and its HS6.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelledText {
    pub description: String,
    pub hs6: String,
}

/// The bundled ruling-style development set (`data/hs/ruling-dev.tsv`).
pub fn ruling_dev() -> Vec<LabelledText> {
    RULING_DEV
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let mut f = l.splitn(3, '\t');
            let (_, code, desc) = (f.next()?, f.next()?, f.next()?);
            Some(LabelledText {
                description: desc.to_string(),
                hs6: code.get(..6)?.to_string(),
            })
        })
        .collect()
}

/// The HMRC labelled rows of one part whose code is an HS 2022 subheading.
pub fn hmrc_part(model: &Classifier, part: Part) -> Vec<LabelledText> {
    References::bundled()
        .labelled_in(part)
        .filter(|r| model.nomenclature().get(r.hs6()).is_some())
        .map(|r| LabelledText {
            description: r.description.clone(),
            hs6: r.hs6().to_string(),
        })
        .collect()
}

/// One row of a reliability table: items whose top-1 confidence falls in [lo, hi).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ReliabilityBin {
    pub lo: f64,
    pub hi: f64,
    pub items: usize,
    pub mean_confidence: f64,
    pub accuracy: f64,
}

/// Accuracy and calibration of one labelled set.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SetScore {
    pub name: String,
    pub items: usize,
    pub top1: Levels,
    pub top5: Levels,
    /// Mean top-1 HS6 confidence (compare with `top1.hs6`).
    pub hs6_mean_confidence: f64,
    /// Expected calibration error of the top-1 HS6 confidence (10 equal-width bins).
    pub hs6_ece: f64,
    pub hs4_mean_confidence: f64,
    pub hs4_ece: f64,
    /// Reliability table of the top-1 HS6 confidence.
    pub reliability: Vec<ReliabilityBin>,
    /// Items the vagueness detector would answer "too vague" for (not counted as hits).
    pub flagged_vague: usize,
    /// TF-IDF baseline on the same items.
    pub baseline_top1: Levels,
    pub baseline_top5: Levels,
}

#[derive(Default)]
struct Counts {
    n: usize,
    t1: [usize; 3],
    t5: [usize; 3],
}

impl Counts {
    fn add(&mut self, gold: &str, r: &Ranking) {
        self.n += 1;
        for (i, (list, len)) in [(&r.hs2, 2usize), (&r.hs4, 4), (&r.hs6, 6)]
            .into_iter()
            .enumerate()
        {
            let g = &gold[..len];
            if list.first().is_some_and(|(c, _)| c == g) {
                self.t1[i] += 1;
            }
            if list.iter().take(5).any(|(c, _)| c == g) {
                self.t5[i] += 1;
            }
        }
    }
    fn levels(&self) -> (Levels, Levels) {
        let f = |x: usize| x as f64 / self.n.max(1) as f64;
        (
            Levels {
                hs2: f(self.t1[0]),
                hs4: f(self.t1[1]),
                hs6: f(self.t1[2]),
            },
            Levels {
                hs2: f(self.t5[0]),
                hs4: f(self.t5[1]),
                hs6: f(self.t5[2]),
            },
        )
    }
}

/// Reliability table over 10 equal-width bins and the expected calibration error.
pub fn reliability(pairs: &[(f64, bool)]) -> (Vec<ReliabilityBin>, f64) {
    let mut bins = [(0.0f64, 0usize, 0usize); 10];
    for &(c, hit) in pairs {
        let b = ((c * 10.0) as usize).min(9);
        bins[b].0 += c;
        bins[b].1 += usize::from(hit);
        bins[b].2 += 1;
    }
    let n = pairs.len().max(1) as f64;
    let mut ece = 0.0;
    let mut table = Vec::new();
    for (i, &(c, h, k)) in bins.iter().enumerate() {
        if k == 0 {
            continue;
        }
        let (mc, acc) = (c / k as f64, h as f64 / k as f64);
        ece += (k as f64 / n) * (mc - acc).abs();
        table.push(ReliabilityBin {
            lo: i as f64 / 10.0,
            hi: (i + 1) as f64 / 10.0,
            items: k,
            mean_confidence: mc,
            accuracy: acc,
        });
    }
    (table, ece)
}

/// Scores the model and the baseline on one set (descriptions as single fields).
pub fn score_set(
    name: &str,
    model: &Classifier,
    baseline: &TfIdfBaseline,
    vague: Option<&VagueDetector>,
    items: &[LabelledText],
) -> SetScore {
    let (mut m, mut b) = (Counts::default(), Counts::default());
    let (mut c6, mut c4) = (Vec::new(), Vec::new());
    let mut flagged = 0;
    for it in items {
        let fields = [(it.description.as_str(), 1.0f32)];
        let r = model.rank_fields(&fields);
        if vague.is_some_and(|v| v.is_vague(model, &it.description, &r)) {
            flagged += 1;
        }
        m.add(&it.hs6, &r);
        if let (Some(a), Some(h)) = (r.hs6.first(), r.hs4.first()) {
            c6.push((a.1, a.0 == it.hs6));
            c4.push((h.1, h.0 == it.hs6[..4]));
        }
        b.add(&it.hs6, &baseline.rank(&fields));
    }
    let (top1, top5) = m.levels();
    let (bt1, bt5) = b.levels();
    let (table, ece6) = reliability(&c6);
    let (_, ece4) = reliability(&c4);
    let mean = |v: &[(f64, bool)]| v.iter().map(|x| x.0).sum::<f64>() / v.len().max(1) as f64;
    SetScore {
        name: name.to_string(),
        items: items.len(),
        top1,
        top5,
        hs6_mean_confidence: mean(&c6),
        hs6_ece: ece6,
        hs4_mean_confidence: mean(&c4),
        hs4_ece: ece4,
        reliability: table,
        flagged_vague: flagged,
        baseline_top1: bt1,
        baseline_top5: bt5,
    }
}

/// How the vagueness detector does on held-aside HMRC data.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VagueScore {
    /// Held-aside vague descriptions answered "too vague" (recall).
    pub vague_items: usize,
    pub vague_flagged: usize,
    /// Held-aside labelled descriptions wrongly answered "too vague" (false alarms).
    pub labelled_items: usize,
    pub labelled_flagged: usize,
    /// Top-1 HS6 accuracy on the held-aside labelled rows that were NOT flagged.
    pub accuracy_unflagged: f64,
    /// ... and on those that were flagged (low when flags are earned).
    pub accuracy_flagged: f64,
}

pub fn score_vague(model: &Classifier, detector: &VagueDetector, part: Part) -> VagueScore {
    let refs = References::bundled();
    let vague: Vec<&str> = refs
        .vague_in(part)
        .map(|v| v.description.as_str())
        .collect();
    let vague_flagged = vague
        .iter()
        .filter(|d| detector.is_vague(model, d, &model.rank_fields(&[(d, 1.0)])))
        .count();
    let labelled = hmrc_part(model, part);
    let (mut f, mut fh, mut u, mut uh) = (0usize, 0usize, 0usize, 0usize);
    for it in &labelled {
        let r = model.rank_fields(&[(it.description.as_str(), 1.0)]);
        let hit = r.hs6.first().is_some_and(|(c, _)| *c == it.hs6);
        if detector.is_vague(model, &it.description, &r) {
            f += 1;
            fh += usize::from(hit);
        } else {
            u += 1;
            uh += usize::from(hit);
        }
    }
    VagueScore {
        vague_items: vague.len(),
        vague_flagged,
        labelled_items: labelled.len(),
        labelled_flagged: f,
        accuracy_unflagged: uh as f64 / u.max(1) as f64,
        accuracy_flagged: fh as f64 / f.max(1) as f64,
    }
}

/// Everything `hs evaluate` prints.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FullReport {
    /// The product-title set (HSCodeComp), with its own baseline and latency.
    pub product_titles: eval::Report,
    /// HMRC labelled descriptions, dev part (weights were chosen and temperatures fitted here).
    pub hmrc_dev: SetScore,
    /// HMRC labelled descriptions, held-aside part (never used to build, tune or fit).
    pub hmrc_held_aside: SetScore,
    /// The ruling-style development set (23 CBP ruling descriptions; measured only).
    pub ruling_dev: SetScore,
    /// The vagueness detector on the held-aside part.
    pub vague_held_aside: VagueScore,
}

/// Runs every set with the model and the TF-IDF baseline.
pub fn evaluate_all(model: &Classifier, titles: &[EvalItem], skipped: usize) -> FullReport {
    let baseline = TfIdfBaseline::new(model.nomenclature());
    let detector = VagueDetector::bundled();
    FullReport {
        product_titles: eval::evaluate(model, titles, skipped),
        hmrc_dev: score_set(
            "HMRC labelled, dev part",
            model,
            &baseline,
            Some(&detector),
            &hmrc_part(model, Part::Dev),
        ),
        hmrc_held_aside: score_set(
            "HMRC labelled, held-aside part (never tuned on)",
            model,
            &baseline,
            Some(&detector),
            &hmrc_part(model, Part::HeldAside),
        ),
        ruling_dev: score_set(
            "ruling-style dev (CBP rulings)",
            model,
            &baseline,
            Some(&detector),
            &ruling_dev(),
        ),
        vague_held_aside: score_vague(model, &detector, Part::HeldAside),
    }
}

fn pct(x: f64) -> String {
    format!("{:5.1}%", x * 100.0)
}

impl SetScore {
    /// Printable lines (the CLI prints them).
    pub fn lines(&self) -> Vec<String> {
        let mut v = vec![
            format!("{} ({} items)", self.name, self.items),
            format!(
                "  borderline        top1 2/4/6 {} {} {}   top5 2/4/6 {} {} {}",
                pct(self.top1.hs2),
                pct(self.top1.hs4),
                pct(self.top1.hs6),
                pct(self.top5.hs2),
                pct(self.top5.hs4),
                pct(self.top5.hs6)
            ),
            format!(
                "  baseline TF-IDF   top1 2/4/6 {} {} {}   top5 2/4/6 {} {} {}",
                pct(self.baseline_top1.hs2),
                pct(self.baseline_top1.hs4),
                pct(self.baseline_top1.hs6),
                pct(self.baseline_top5.hs2),
                pct(self.baseline_top5.hs4),
                pct(self.baseline_top5.hs6)
            ),
            format!(
                "  calibration: top-1 HS6 mean confidence {} vs accuracy {} (ECE {:.3}); HS4 {} vs {} (ECE {:.3}); flagged too vague: {}",
                pct(self.hs6_mean_confidence),
                pct(self.top1.hs6),
                self.hs6_ece,
                pct(self.hs4_mean_confidence),
                pct(self.top1.hs4),
                self.hs4_ece,
                self.flagged_vague
            ),
        ];
        let table: Vec<String> = self
            .reliability
            .iter()
            .map(|b| {
                format!(
                    "[{:.1},{:.1}) n={} conf {:.2} acc {:.2}",
                    b.lo, b.hi, b.items, b.mean_confidence, b.accuracy
                )
            })
            .collect();
        v.push(format!("  reliability (HS6): {}", table.join("; ")));
        v
    }
}

impl FullReport {
    pub fn lines(&self) -> Vec<String> {
        let mut v = Vec::new();
        for s in [&self.hmrc_dev, &self.hmrc_held_aside, &self.ruling_dev] {
            v.extend(s.lines());
        }
        let g = &self.vague_held_aside;
        v.push(format!(
            "too vague (held-aside): {}/{} vague descriptions flagged; {}/{} labelled descriptions flagged (top-1 HS6 {} on flagged vs {} on the rest)",
            g.vague_flagged,
            g.vague_items,
            g.labelled_flagged,
            g.labelled_items,
            pct(g.accuracy_flagged),
            pct(g.accuracy_unflagged)
        ));
        v
    }
}
