//! Charts drawn as inline SVG on the server (no script, nothing loaded from elsewhere).

use maud::{html, Markup};

/// One bar of a contribution waterfall: a reason's label and its contribution to the log-odds.
pub struct Step<'a> {
    pub label: &'a str,
    pub contribution: f64,
}

/// A SHAP waterfall: each reason moves the score's log-odds from the model's baseline by its
/// contribution (rising red, falling blue); the last bar is the sum of what is shown.
pub fn waterfall(steps: &[Step<'_>]) -> Markup {
    let row_h = 26.0;
    let label_w = 260.0;
    let plot_w = 360.0;
    let width = label_w + plot_w + 70.0;
    let height = row_h * (steps.len() as f64 + 1.0) + 30.0;
    // The running total at each step's start and end, to scale the axis.
    let mut running = 0.0;
    let mut spans = Vec::with_capacity(steps.len());
    for s in steps {
        let start = running;
        running += s.contribution;
        spans.push((start, running));
    }
    let total = running;
    let lo = spans.iter().map(|(a, b)| a.min(*b)).fold(0.0_f64, f64::min);
    let hi = spans.iter().map(|(a, b)| a.max(*b)).fold(0.0_f64, f64::max);
    let range = (hi - lo).max(1e-9);
    let x = |v: f64| label_w + (v - lo) / range * plot_w;
    html! {
        svg class="chart waterfall" role="img" xmlns="http://www.w3.org/2000/svg"
            width=(fmt(width)) height=(fmt(height)) viewBox={"0 0 " (fmt(width)) " " (fmt(height))}
            aria-label="Contribution of each reason to the risk score (log-odds), from the model baseline" {
            title { "Contribution of each reason to the risk score" }
            line x1=(fmt(x(0.0))) x2=(fmt(x(0.0))) y1="4" y2=(fmt(height - 24.0)) class="axis" {}
            @for (i, (s, (a, b))) in steps.iter().zip(&spans).enumerate() {
                @let y = 6.0 + row_h * i as f64;
                @let (left, right) = (x(a.min(*b)), x(a.max(*b)));
                text x=(fmt(label_w - 8.0)) y=(fmt(y + 15.0)) text-anchor="end" class="label" { (truncate(s.label, 40)) }
                rect x=(fmt(left)) y=(fmt(y)) width=(fmt((right - left).max(1.0))) height=(fmt(row_h - 8.0))
                    class=(if s.contribution >= 0.0 { "up" } else { "down" }) {
                    title { (s.label) ": " (signed(s.contribution)) }
                }
                text x=(fmt(right + 4.0)) y=(fmt(y + 15.0)) class="value" { (signed(s.contribution)) }
            }
            @let y = 6.0 + row_h * steps.len() as f64;
            text x=(fmt(label_w - 8.0)) y=(fmt(y + 15.0)) text-anchor="end" class="label total" { "Shown reasons together" }
            rect x=(fmt(x(total.min(0.0)))) y=(fmt(y)) width=(fmt((x(total.max(0.0)) - x(total.min(0.0))).max(1.0)))
                height=(fmt(row_h - 8.0)) class="total" {}
            text x=(fmt(x(total.max(0.0)) + 4.0)) y=(fmt(y + 15.0)) class="value" { (signed(total)) }
            text x=(fmt(x(0.0))) y=(fmt(height - 8.0)) text-anchor="middle" class="axis-label" { "model baseline (log-odds 0 shift)" }
        }
    }
}

/// A horizontal bar for a probability (0 to 1), e.g. the calibrated risk.
pub fn risk_bar(p: f64, lane: &str) -> Markup {
    let w = 300.0;
    let p = p.clamp(0.0, 1.0);
    html! {
        svg class="chart risk" role="img" xmlns="http://www.w3.org/2000/svg" width="310" height="22" viewBox="0 0 310 22"
            aria-label={"Calibrated risk " (format!("{:.1}", p * 100.0)) " percent"} {
            rect x="0" y="4" width=(fmt(w)) height="14" class="track" {}
            rect x="0" y="4" width=(fmt(w * p)) height="14" class={"lane-" (lane)} {}
        }
    }
}

fn fmt(v: f64) -> String {
    format!("{v:.1}")
}

fn signed(v: f64) -> String {
    format!("{v:+.3}")
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n - 1).collect();
        t.push('…');
        t
    }
}
