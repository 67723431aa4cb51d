use borderline_screening::*;
use std::time::Instant;
fn main() {
    let store = ListStore::bundled().unwrap();
    let m = Matcher::build(&store, MatchConfig::default());
    let qs = eval::bench_queries(&m, 20000, 7, None);
    let mut lat: Vec<(f64, String, usize)> = qs
        .iter()
        .map(|q| {
            let t = Instant::now();
            let h = m.screen(q);
            (t.elapsed().as_secs_f64() * 1e6, q.name.clone(), h.len())
        })
        .collect();
    lat.sort_by(|a, b| b.0.total_cmp(&a.0));
    let tot: f64 = lat.iter().map(|x| x.0).sum();
    let top: f64 = lat.iter().take(1000).map(|x| x.0).sum();
    println!("total {tot:.0}us top1000 {top:.0}us");
    for x in lat.iter().take(25) {
        println!("{:.0} {} {}", x.0, x.1, x.2);
    }
}
