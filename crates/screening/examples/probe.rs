use borderline_screening::*;
use std::time::Instant;
fn main() {
    let t = Instant::now();
    let store = ListStore::bundled().unwrap();
    println!("load {:?}", t.elapsed());
    for s in store.summaries() {
        println!("{:?}", s);
    }
    for l in store.lists() {
        for i in l.issues.iter().take(3) {
            println!("  issue {i}");
        }
    }
    let t = Instant::now();
    let m = Matcher::build(&store, MatchConfig::default());
    println!("index {:?} names {}", t.elapsed(), m.name_count());
    for q in std::env::args().skip(1) {
        for h in m
            .screen_with_threshold(&Query::name(q.clone()), 0.6)
            .iter()
            .take(5)
        {
            println!(
                "{q} -> {:.3} {}:{} {} [{}] {}",
                h.score,
                h.list,
                h.entry_id,
                h.matched_name,
                h.programs.join(","),
                h.explanation.summary()
            );
        }
    }
}
