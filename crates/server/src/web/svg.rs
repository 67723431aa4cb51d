//! Charts drawn as inline SVG on the server (no script, nothing loaded from elsewhere).
//!
//! Why hand-written rather than a chart crate: the charts are a few rectangles and lines, and
//! the pages must pass axe-core with every chart named for assistive technology. `plotters`
//! (the crate /work/shared/STACK.md lists) writes an SVG document with inline styles and no
//! `role`, `aria-label` or per-mark `<title>`, so its output would need post-editing to be
//! accessible and to take the page's colours; drawing the marks here keeps each chart a
//! function of typed data with its accessible name, styled by the page's own stylesheet.

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

/// A supplier-network path drawn as a graph: the declaration's party on the left, each step's
/// node to its right, each edge labelled with its relation (trade, owner, name match, ...),
/// the listed entity at the end marked as listed.
pub fn network_path(nodes: &[String], relations: &[String], listed_detail: &str) -> Markup {
    let node_w = 150.0;
    let gap = 120.0;
    let height = 96.0;
    let n = nodes.len().max(1) as f64;
    let width = n * node_w + (n - 1.0) * gap + 8.0;
    let x = |i: usize| 4.0 + i as f64 * (node_w + gap);
    let last = nodes.len().saturating_sub(1);
    let described = {
        let mut s = nodes.first().cloned().unwrap_or_default();
        for (r, node) in relations.iter().zip(nodes.iter().skip(1)) {
            s.push_str(&format!(" —{r}→ {node}"));
        }
        s
    };
    html! {
        svg class="chart network" role="img" xmlns="http://www.w3.org/2000/svg"
            width=(fmt(width)) height=(fmt(height)) viewBox={"0 0 " (fmt(width)) " " (fmt(height))}
            aria-label={"Supplier-network path: " (described) " (" (listed_detail) ")"} {
            title { "Supplier-network path to a listed entity" }
            @for (i, r) in relations.iter().enumerate().take(last) {
                @let (x1, x2) = (x(i) + node_w, x(i + 1));
                line x1=(fmt(x1)) x2=(fmt(x2 - 6.0)) y1="48" y2="48" class="edge" {}
                polygon points={(fmt(x2 - 1.0)) ",48 " (fmt(x2 - 9.0)) ",43 " (fmt(x2 - 9.0)) ",53"} class="edge-head" {}
                text x=(fmt((x1 + x2) / 2.0)) y="40" text-anchor="middle" class="relation" { (truncate(r, 18)) }
            }
            @for (i, label) in nodes.iter().enumerate() {
                @let listed = i == last && i > 0;
                rect x=(fmt(x(i))) y="30" width=(fmt(node_w)) height="36" rx="6"
                    class=(if listed { "node listed" } else if i == 0 { "node party" } else { "node" }) {
                    title { (label) @if listed { " (" (listed_detail) ")" } }
                }
                text x=(fmt(x(i) + node_w / 2.0)) y="53" text-anchor="middle" class="node-label" { (truncate(label, 20)) }
                @if listed { text x=(fmt(x(i) + node_w / 2.0)) y="84" text-anchor="middle" class="listed-label" { (truncate(listed_detail, 24)) } }
            }
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

/// One horizontal bar: a label, a value, and whether it is the one the chart is about.
pub struct Bar<'a> {
    pub label: &'a str,
    pub value: f64,
    pub highlight: bool,
}

/// Horizontal bars from 0 to `max` (values are shown beside the bars with `show`); `marks`
/// are vertical reference lines (value, label), e.g. PSI warning and alert thresholds.
pub fn bars(
    name: &str,
    items: &[Bar<'_>],
    max: f64,
    marks: &[(f64, &str)],
    show: impl Fn(f64) -> String,
) -> Markup {
    let row_h = 22.0;
    let label_w = 230.0;
    let plot_w = 340.0;
    let width = label_w + plot_w + 80.0;
    let top = if marks.is_empty() { 4.0 } else { 18.0 };
    let height = top + row_h * items.len().max(1) as f64 + 6.0;
    let max = items.iter().map(|b| b.value).fold(max, f64::max).max(1e-12);
    let x = |v: f64| label_w + (v.max(0.0) / max).min(1.0) * plot_w;
    html! {
        svg class="chart bars" role="img" xmlns="http://www.w3.org/2000/svg"
            width=(fmt(width)) height=(fmt(height)) viewBox={"0 0 " (fmt(width)) " " (fmt(height))}
            aria-label=(name) {
            title { (name) }
            @for (i, b) in items.iter().enumerate() {
                @let y = top + row_h * i as f64;
                text x=(fmt(label_w - 8.0)) y=(fmt(y + 14.0)) text-anchor="end"
                    class=(if b.highlight { "label strong" } else { "label" }) { (truncate(b.label, 36)) }
                rect x=(fmt(label_w)) y=(fmt(y + 2.0)) width=(fmt((x(b.value) - label_w).max(1.0))) height=(fmt(row_h - 6.0))
                    class=(if b.highlight { "bar highlight" } else { "bar" }) {
                    title { (b.label) ": " (show(b.value)) }
                }
                text x=(fmt(x(b.value) + 4.0)) y=(fmt(y + 14.0)) class="value" { (show(b.value)) }
            }
            @for (i, (v, label)) in marks.iter().enumerate() {
                line x1=(fmt(x(*v))) x2=(fmt(x(*v))) y1=(fmt(top - 2.0)) y2=(fmt(height - 2.0)) class="mark" {}
                // Neighbouring marks' labels go left and right of their lines, never over each other.
                text x=(fmt(x(*v) + if i % 2 == 0 { -3.0 } else { 3.0 })) y="12"
                    text-anchor=(if i % 2 == 0 { "end" } else { "start" }) class="axis-label" { (label) }
            }
        }
    }
}

/// Paired columns per bin (e.g. the share of a reference period and of a recent window in each
/// score bin), with a legend naming the two series.
pub fn paired_columns(name: &str, bins: &[(String, f64, f64)], series: (&str, &str)) -> Markup {
    let plot_h = 150.0;
    let col_w = 14.0;
    let gap = 18.0;
    let left = 40.0;
    let width = left + bins.len().max(1) as f64 * (2.0 * col_w + gap) + 20.0;
    let height = plot_h + 70.0;
    let max = bins
        .iter()
        .flat_map(|(_, a, b)| [*a, *b])
        .fold(1e-12, f64::max);
    let h = |v: f64| (v.max(0.0) / max) * plot_h;
    html! {
        svg class="chart columns" role="img" xmlns="http://www.w3.org/2000/svg"
            width=(fmt(width.max(360.0))) height=(fmt(height)) viewBox={"0 0 " (fmt(width.max(360.0))) " " (fmt(height))}
            aria-label=(name) {
            title { (name) }
            line x1=(fmt(left)) x2=(fmt(width - 10.0)) y1=(fmt(10.0 + plot_h)) y2=(fmt(10.0 + plot_h)) class="axis" {}
            text x=(fmt(left - 4.0)) y="16" text-anchor="end" class="axis-label" { (format!("{:.0}%", max * 100.0)) }
            @for (i, (label, a, b)) in bins.iter().enumerate() {
                @let x0 = left + 4.0 + i as f64 * (2.0 * col_w + gap);
                rect x=(fmt(x0)) y=(fmt(10.0 + plot_h - h(*a))) width=(fmt(col_w)) height=(fmt(h(*a).max(0.5))) class="series-a" {
                    title { (label) ", " (series.0) ": " (format!("{:.1}%", a * 100.0)) }
                }
                rect x=(fmt(x0 + col_w)) y=(fmt(10.0 + plot_h - h(*b))) width=(fmt(col_w)) height=(fmt(h(*b).max(0.5))) class="series-b" {
                    title { (label) ", " (series.1) ": " (format!("{:.1}%", b * 100.0)) }
                }
                text x=(fmt(x0 + col_w)) y=(fmt(26.0 + plot_h)) text-anchor="middle" class="tick" { (truncate(label, 8)) }
            }
            rect x=(fmt(left)) y=(fmt(height - 22.0)) width="12" height="12" class="series-a" {}
            text x=(fmt(left + 16.0)) y=(fmt(height - 12.0)) class="label" { (series.0) }
            rect x=(fmt(left + 150.0)) y=(fmt(height - 22.0)) width="12" height="12" class="series-b" {}
            text x=(fmt(left + 166.0)) y=(fmt(height - 12.0)) class="label" { (series.1) }
        }
    }
}

/// The declared unit value on its benchmark cell's distribution, on a log scale: the 1st to
/// 99th percentile as a line, the 5th to 95th as a band, the quartiles as a box, the median as
/// a stroke, and the declared value as a marker. `grid` holds the cell's log unit values at
/// min, p1, p5, p10, p25, p50, p75, p90, p95, p99, max.
pub fn benchmark_position(grid: &[f64; 11], declared_log: f64, unit: &str) -> Markup {
    let width = 640.0;
    let (left, right) = (30.0, width - 30.0);
    let lo = grid[1].min(declared_log);
    let hi = grid[9].max(declared_log);
    let pad = ((hi - lo) * 0.05).max(0.05);
    let (lo, hi) = (lo - pad, hi + pad);
    let x = |v: f64| left + (v - lo) / (hi - lo).max(1e-9) * (right - left);
    let money = |l: f64| borderline_core::amount_shown(l.exp());
    let name = format!(
        "Declared unit value {} {unit} against the benchmark cell: median {}, middle half {} to {}, 5th to 95th percentile {} to {}",
        money(declared_log), money(grid[5]), money(grid[4]), money(grid[6]), money(grid[2]), money(grid[8])
    );
    html! {
        svg class="chart position" role="img" xmlns="http://www.w3.org/2000/svg"
            width=(fmt(width)) height="120" viewBox={"0 0 " (fmt(width)) " 120"} aria-label=(name) {
            title { (name) }
            line x1=(fmt(x(grid[1]))) x2=(fmt(x(grid[9]))) y1="50" y2="50" class="whisker" {}
            rect x=(fmt(x(grid[2]))) y="38" width=(fmt((x(grid[8]) - x(grid[2])).max(1.0))) height="24" class="band" {}
            rect x=(fmt(x(grid[4]))) y="32" width=(fmt((x(grid[6]) - x(grid[4])).max(1.0))) height="36" class="box" {}
            line x1=(fmt(x(grid[5]))) x2=(fmt(x(grid[5]))) y1="30" y2="70" class="median" {}
            @for (i, label) in [(1usize, "p1"), (5, "median"), (9, "p99")] {
                text x=(fmt(x(grid[i]))) y="88" text-anchor="middle" class="tick" { (money(grid[i])) }
                text x=(fmt(x(grid[i]))) y="102" text-anchor="middle" class="axis-label" { (label) }
            }
            line x1=(fmt(x(declared_log))) x2=(fmt(x(declared_log))) y1="18" y2="76" class="declared" {}
            text x=(fmt(x(declared_log))) y="13" text-anchor="middle" class="value declared-label" { "declared " (money(declared_log)) }
        }
    }
}
