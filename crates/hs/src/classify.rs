//! One call that gives everything a user of the suggester needs for a description: the outcome
//! (classified, or too vague to classify), the HS6 suggestions with confidence, national
//! 10-digit US and 8-digit EU codes under the best subheadings with their duty rates and units
//! (validated against the bundled schedules), and an explanation: how the description was
//! read, which words matched which tariff text, and why the chosen heading beats the runner-up.

use crate::model::{Classifier, Suggestion};
use crate::national::{NationalStatus, Schedule, Schedules};
use crate::reading;
use crate::text;
use crate::vague::VagueDetector;
use serde::{Deserialize, Serialize};

/// What the classifier concluded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// Suggestions are meaningful.
    Classified,
    /// The description does not say what the goods are ("thanks for your order", "khaki, 6");
    /// the suggestions are listed but should not be used without a better description.
    TooVague { probability: f64 },
}

/// A national tariff line suggested under one of the best HS6 subheadings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NationalSuggestion {
    pub schedule: Schedule,
    /// Complete code (10 digits US, 8 digits EU).
    pub code: String,
    pub hs6: String,
    /// The line's full path in the national schedule.
    pub description: String,
    /// Unit of quantity (US) or supplementary unit (EU); empty when none.
    pub unit: String,
    /// US column-1 general duty rate as printed; `None` for EU lines (not in the bundled source).
    pub duty_rate: Option<String>,
    /// P(HS6 | description) x P(line | HS6, description).
    pub confidence: f64,
    /// Validation of the code against the bundled schedule (always `Valid` for suggestions).
    pub status: NationalStatus,
}

/// One query term and its contribution to the chosen and the runner-up heading documents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TermMatch {
    /// Stemmed word or bigram ("drill", "cordless_drill").
    pub term: String,
    pub chosen: f32,
    pub runner_up: f32,
    /// The term's contribution to the chosen heading's logit in the discriminative heading
    /// model (negative: the model learned it speaks against that heading).
    #[serde(default)]
    pub learned_chosen: f32,
    /// The same for the runner-up heading.
    #[serde(default)]
    pub learned_runner_up: f32,
}

/// A quantitative or compositional condition of a subheading of the chosen heading and what
/// the description states about it (issue 16, tenth pass).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConditionNote {
    /// The subheading whose six-digit text sets the condition.
    pub code: String,
    /// The words of its legal text that state it ("of a power not exceeding 1,500 w").
    pub condition: String,
    /// What the description states ("1,200 w", "95.8% polyester").
    pub stated: String,
    /// Met (evidence for the subheading) or broken (evidence against it).
    pub met: bool,
}

/// Why the top heading was chosen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    /// Head noun of the description (stemmed), weighted up in the heading search.
    pub head_noun: Option<String>,
    /// Material words found (weighted down in the heading search).
    pub materials: Vec<String>,
    /// Chapter the chemical reading pointed to, if any ("29", "28", "38", "39").
    pub chemical_chapter: Option<String>,
    /// Heading a chemical name in the description reads to, with the name and the reason
    /// ("2926: acetonitrile (nitrile)"; `chemname::read_compound`), when one does.
    #[serde(default)]
    pub chemical_heading: Option<String>,
    /// The description was read as parts of something.
    pub parts: bool,
    pub chosen_heading: String,
    pub chosen_heading_text: String,
    pub chosen_heading_probability: f64,
    pub runner_up_heading: Option<String>,
    pub runner_up_heading_text: Option<String>,
    pub runner_up_probability: f64,
    /// Terms that matched either heading's text (nomenclature, national lines, vocabulary,
    /// HMRC references), largest contribution first.
    pub matched: Vec<TermMatch>,
    /// The national lines under the top subheading whose text the description matched best.
    pub national_lines: Vec<String>,
    /// The quantitative and compositional conditions of the chosen heading's subheadings that
    /// the description's stated quantities meet or break (they choose among the siblings).
    #[serde(default)]
    pub conditions: Vec<ConditionNote>,
    /// One sentence summarising the above.
    pub summary: String,
}

/// The full answer for one description.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Classification {
    pub outcome: Outcome,
    pub suggestions: Vec<Suggestion>,
    pub national: Vec<NationalSuggestion>,
    pub explanation: Explanation,
}

/// National lines suggested per schedule (across the best subheadings).
const NATIONAL_PER_SCHEDULE: usize = 3;

impl Classifier {
    /// Classifies one description: outcome, top-`k` HS6 suggestions, national lines under the
    /// best subheadings, and the explanation.
    pub fn classify(&self, description: &str, k: usize) -> Classification {
        let fields = [(description, 1.0f32)];
        let ranking = self.rank_fields(&fields);
        let suggestions = self.suggestions(&ranking, k.max(1));
        let detector = VagueDetector::bundled();
        let outcome = if detector.is_vague(self, description, &ranking) {
            Outcome::TooVague {
                probability: detector.probability(self, description, &ranking),
            }
        } else {
            Outcome::Classified
        };
        let national = national_suggestions(description, &ranking.hs6);
        let explanation = self.explain(description, &ranking, &national);
        Classification {
            outcome,
            suggestions,
            national,
            explanation,
        }
    }

    fn explain(
        &self,
        description: &str,
        ranking: &crate::model::Ranking,
        national: &[NationalSuggestion],
    ) -> Explanation {
        let segs = text::query_segments(description);
        let head_noun = (self.params().w_ruling_head > 0.0)
            .then(|| reading::ruling_head(description))
            .flatten()
            .or_else(|| reading::head_noun(&segs).map(str::to_string));
        let mut materials: Vec<String> = segs
            .iter()
            .flat_map(|(t, _)| t.iter())
            .filter(|t| reading::is_material(t))
            .cloned()
            .collect();
        materials.sort();
        materials.dedup();
        let chem = reading::chem_profile(description);
        let chemical_chapter = chem
            .chapter_bonus(1.0)
            .first()
            .map(|(c, _)| (*c).to_string());
        let chemical_heading = (self.params().w_chem > 0.0
            && self.params().w_chem_heading > 0.0
            && !(chem.drug && chem.dosage)
            && !((chem.preparation || chem.pesticide) && !chem.polymer))
            .then(|| crate::chemname::read_compound(description, head_noun.as_deref()))
            .flatten()
            .map(|r| format!("{}: {} ({})", r.heading, r.name, r.reason));
        let parts = reading::reads_as_parts(description);
        let (chosen, p1) = ranking
            .hs4
            .first()
            .cloned()
            .unwrap_or_else(|| (String::new(), 0.0));
        let runner = ranking.hs4.get(1).cloned();
        let mut heads = vec![chosen.as_str()];
        if let Some((r, _)) = &runner {
            heads.push(r.as_str());
        }
        let matched: Vec<TermMatch> = self
            .heading_term_contributions(&[(description, 1.0)], &heads)
            .into_iter()
            .take(12)
            .map(|(term, per, lin)| TermMatch {
                term,
                chosen: per.first().copied().unwrap_or(0.0),
                runner_up: per.get(1).copied().unwrap_or(0.0),
                learned_chosen: lin.first().copied().unwrap_or(0.0),
                learned_runner_up: lin.get(1).copied().unwrap_or(0.0),
            })
            .collect();
        let text_of = |c: &str| {
            self.nomenclature()
                .get(c)
                .map(|n| n.description.clone())
                .unwrap_or_default()
        };
        let national_lines: Vec<String> = national
            .iter()
            .filter(|n| ranking.hs6.first().is_some_and(|(c, _)| *c == n.hs6))
            .map(|n| format!("{} {}: {}", n.schedule.name(), n.code, n.description))
            .take(2)
            .collect();
        let conditions: Vec<ConditionNote> = self
            .condition_verdicts(&[(description, 1.0)], &chosen)
            .into_iter()
            .map(|(code, condition, v)| ConditionNote {
                code,
                condition,
                stated: v.stated,
                met: v.met,
            })
            .collect();
        // The conditions that decided within the heading: those the top subheading meets and
        // those its siblings break.
        let top6 = ranking
            .hs6
            .first()
            .filter(|(c, _)| c.starts_with(&chosen))
            .map(|(c, _)| c.as_str())
            .unwrap_or("");
        let mut deciding: Vec<String> = conditions
            .iter()
            .filter(|n| n.met && n.code == top6)
            .map(|n| format!("{} meets \"{}\" ({})", n.stated, n.condition, n.code))
            .collect();
        deciding.extend(
            conditions
                .iter()
                .filter(|n| !n.met && n.code != top6)
                .map(|n| format!("{} breaks \"{}\" ({})", n.stated, n.condition, n.code)),
        );
        deciding.truncate(3);
        let only_chosen: Vec<&str> = matched
            .iter()
            .filter(|m| m.chosen + m.learned_chosen > m.runner_up + m.learned_runner_up)
            .take(4)
            .map(|m| m.term.as_str())
            .collect();
        let summary = match &runner {
            Some((r, p2)) => {
                format!(
                    "heading {chosen} ({:.0}%) over {r} ({:.0}%): {}{}{}{}",
                    p1 * 100.0,
                    p2 * 100.0,
                    if only_chosen.is_empty() {
                        "no word favours it clearly".to_string()
                    } else {
                        format!("{} match its tariff text better", only_chosen.join(", "))
                    },
                    head_noun
                        .as_deref()
                        .map(|h| format!("; goods read as \"{h}\""))
                        .unwrap_or_default(),
                    chemical_chapter
                        .as_deref()
                        .map(|c| format!("; chemical reading points to chapter {c}"))
                        .unwrap_or_default(),
                    chemical_heading
                        .as_deref()
                        .map(|c| format!("; chemical name reads to heading {c}"))
                        .unwrap_or_default()
                ) + &if deciding.is_empty() {
                    String::new()
                } else {
                    format!("; within {chosen}: {}", deciding.join("; "))
                }
            }
            None => format!("heading {chosen} ({:.0}%)", p1 * 100.0),
        };
        Explanation {
            head_noun,
            materials,
            chemical_chapter,
            chemical_heading,
            parts,
            chosen_heading_text: text_of(&chosen),
            chosen_heading: chosen,
            chosen_heading_probability: p1,
            runner_up_heading_text: runner.as_ref().map(|(r, _)| text_of(r)),
            runner_up_heading: runner.as_ref().map(|(r, _)| r.clone()),
            runner_up_probability: runner.map_or(0.0, |(_, p)| p),
            matched,
            national_lines,
            conditions,
            summary,
        }
    }
}

/// National lines under the three most probable subheadings, per schedule, most probable first.
pub fn national_suggestions(description: &str, hs6: &[(String, f64)]) -> Vec<NationalSuggestion> {
    let sched = Schedules::bundled();
    let q = text::tokens(description, false);
    let mut out = Vec::new();
    for schedule in [Schedule::UsHtsus, Schedule::EuCn] {
        let mut cands: Vec<NationalSuggestion> = Vec::new();
        for (code, p) in hs6.iter().take(3) {
            for (line, pl) in sched.rank_within(schedule, code, &q) {
                cands.push(NationalSuggestion {
                    schedule,
                    code: line.code.clone(),
                    hs6: code.clone(),
                    description: line.path.clone(),
                    unit: line.unit.clone(),
                    duty_rate: line.duty_rate.clone(),
                    confidence: p * pl,
                    status: sched.validate(schedule, &line.code),
                });
            }
        }
        cands.sort_by(|a, b| {
            b.confidence
                .total_cmp(&a.confidence)
                .then(a.code.cmp(&b.code))
        });
        out.extend(cands.into_iter().take(NATIONAL_PER_SCHEDULE));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_with_national_lines_and_explanation() {
        let m = Classifier::bundled().expect("bundled model");
        let c = m.classify("men's cotton knitted T-shirts", 5);
        assert_eq!(c.outcome, Outcome::Classified);
        assert_eq!(c.suggestions[0].code, "610910");
        let us: Vec<&NationalSuggestion> = c
            .national
            .iter()
            .filter(|n| n.schedule == Schedule::UsHtsus)
            .collect();
        assert!(!us.is_empty());
        for n in &c.national {
            assert!(matches!(n.status, NationalStatus::Valid { .. }), "{n:?}");
            assert_eq!(n.code.len(), n.schedule.leaf_digits());
            assert!(n.confidence <= 1.0 + 1e-9);
        }
        assert!(us[0].duty_rate.is_some());
        assert!(us[0].code.starts_with("610910"));
        assert_eq!(c.explanation.chosen_heading, "6109");
        assert!(c.explanation.matched.iter().any(|t| t.chosen > 0.0));
        // The discriminative model's share of the decision is shown per term too.
        assert!(c
            .explanation
            .matched
            .iter()
            .any(|t| t.learned_chosen > t.learned_runner_up));
        assert!(c.explanation.summary.contains("6109"));
    }

    #[test]
    fn vague_descriptions_get_the_vague_outcome() {
        let m = Classifier::bundled().expect("bundled model");
        let c = m.classify("thanks for your order", 5);
        assert!(
            matches!(c.outcome, Outcome::TooVague { .. }),
            "{:?}",
            c.outcome
        );
    }
}
