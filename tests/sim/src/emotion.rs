//! Deterministic emotion scoring from a small lexicon.
//!
//! Scores are plausible, not clever: each known word adds weights to the six documented
//! dimensions (`joy`, `sadness`, `anger`, `fear`, `love`, `surprise`, spec §3.2), an
//! intensifier before it scales it up, a diminisher ("a bit") scales it down, a negation flips
//! positive words towards sadness. `raw` is normalised to sum to 1, `category` is its arg-max,
//! `intensity` its value, and the levels use the default thresholds of spec §3.2. Every
//! number is rounded to 4 decimals.

use serde_json::{Map, Value, json};

/// The six documented dimensions, in tie-break order.
pub(crate) const EMOTIONS: [&str; 6] = ["joy", "sadness", "anger", "fear", "love", "surprise"];

/// Weight every dimension starts with, so that text without known words is flat.
const BASE: f64 = 0.1;

/// (word, [joy, sadness, anger, fear, love, surprise]).
const LEXICON: &[(&str, [f64; 6])] = &[
    ("happy", [1.0, 0.0, 0.0, 0.0, 0.2, 0.0]),
    ("glad", [0.8, 0.0, 0.0, 0.0, 0.1, 0.0]),
    ("joy", [1.0, 0.0, 0.0, 0.0, 0.2, 0.0]),
    ("excited", [1.2, 0.0, 0.0, 0.0, 0.0, 0.0]),
    ("exciting", [1.1, 0.0, 0.0, 0.0, 0.0, 0.1]),
    ("great", [0.8, 0.0, 0.0, 0.0, 0.0, 0.0]),
    ("amazing", [0.9, 0.0, 0.0, 0.0, 0.1, 0.4]),
    ("awesome", [1.0, 0.0, 0.0, 0.0, 0.1, 0.1]),
    ("wonderful", [1.0, 0.0, 0.0, 0.0, 0.2, 0.1]),
    ("fantastic", [1.0, 0.0, 0.0, 0.0, 0.0, 0.2]),
    ("good", [0.6, 0.0, 0.0, 0.0, 0.0, 0.0]),
    ("fun", [0.7, 0.0, 0.0, 0.0, 0.0, 0.0]),
    ("thrilled", [1.2, 0.0, 0.0, 0.0, 0.0, 0.3]),
    ("delighted", [1.1, 0.0, 0.0, 0.0, 0.2, 0.0]),
    ("grateful", [0.7, 0.0, 0.0, 0.0, 0.6, 0.0]),
    ("thanks", [0.5, 0.0, 0.0, 0.0, 0.4, 0.0]),
    ("proud", [0.9, 0.0, 0.0, 0.0, 0.2, 0.0]),
    ("hope", [0.5, 0.1, 0.0, 0.1, 0.0, 0.0]),
    ("sad", [0.0, 1.0, 0.0, 0.0, 0.0, 0.0]),
    ("unhappy", [0.0, 1.0, 0.1, 0.0, 0.0, 0.0]),
    ("depressed", [0.0, 1.3, 0.0, 0.2, 0.0, 0.0]),
    ("lonely", [0.0, 1.0, 0.0, 0.2, 0.0, 0.0]),
    ("miss", [0.0, 0.7, 0.0, 0.0, 0.4, 0.0]),
    ("lost", [0.0, 0.8, 0.0, 0.3, 0.0, 0.0]),
    ("cry", [0.0, 1.0, 0.0, 0.1, 0.0, 0.0]),
    ("tired", [0.0, 0.6, 0.1, 0.0, 0.0, 0.0]),
    ("disappointed", [0.0, 1.0, 0.3, 0.0, 0.0, 0.0]),
    ("hurt", [0.0, 0.9, 0.3, 0.1, 0.0, 0.0]),
    ("sorry", [0.0, 0.7, 0.0, 0.1, 0.0, 0.0]),
    ("grief", [0.0, 1.3, 0.0, 0.0, 0.2, 0.0]),
    ("angry", [0.0, 0.1, 1.2, 0.0, 0.0, 0.0]),
    ("mad", [0.0, 0.0, 1.0, 0.0, 0.0, 0.0]),
    ("furious", [0.0, 0.0, 1.4, 0.0, 0.0, 0.0]),
    ("annoyed", [0.0, 0.0, 0.8, 0.0, 0.0, 0.0]),
    ("frustrated", [0.0, 0.2, 1.0, 0.0, 0.0, 0.0]),
    ("hate", [0.0, 0.1, 1.2, 0.0, 0.0, 0.0]),
    ("unfair", [0.0, 0.3, 0.9, 0.0, 0.0, 0.0]),
    ("terrible", [0.0, 0.6, 0.5, 0.2, 0.0, 0.0]),
    ("awful", [0.0, 0.6, 0.5, 0.2, 0.0, 0.0]),
    ("afraid", [0.0, 0.1, 0.0, 1.2, 0.0, 0.0]),
    ("scared", [0.0, 0.1, 0.0, 1.2, 0.0, 0.0]),
    ("fear", [0.0, 0.1, 0.0, 1.1, 0.0, 0.0]),
    ("nervous", [0.0, 0.2, 0.0, 1.0, 0.0, 0.0]),
    ("anxious", [0.0, 0.2, 0.0, 1.1, 0.0, 0.0]),
    ("worried", [0.0, 0.3, 0.0, 1.0, 0.0, 0.0]),
    ("unsure", [0.0, 0.3, 0.0, 1.0, 0.0, 0.0]),
    ("uncertain", [0.0, 0.2, 0.0, 0.9, 0.0, 0.0]),
    ("terrified", [0.0, 0.1, 0.0, 1.5, 0.0, 0.1]),
    ("panic", [0.0, 0.1, 0.0, 1.3, 0.0, 0.1]),
    ("stressed", [0.0, 0.3, 0.2, 0.9, 0.0, 0.0]),
    ("love", [0.3, 0.0, 0.0, 0.0, 1.2, 0.0]),
    ("adore", [0.3, 0.0, 0.0, 0.0, 1.2, 0.0]),
    ("care", [0.1, 0.0, 0.0, 0.0, 0.8, 0.0]),
    ("cherish", [0.2, 0.0, 0.0, 0.0, 1.1, 0.0]),
    ("friend", [0.2, 0.0, 0.0, 0.0, 0.6, 0.0]),
    ("family", [0.2, 0.0, 0.0, 0.0, 0.6, 0.0]),
    ("beautiful", [0.5, 0.0, 0.0, 0.0, 0.6, 0.1]),
    ("surprised", [0.1, 0.0, 0.0, 0.1, 0.0, 1.2]),
    ("surprise", [0.1, 0.0, 0.0, 0.0, 0.0, 1.0]),
    ("shocked", [0.0, 0.1, 0.1, 0.3, 0.0, 1.1]),
    ("unexpected", [0.0, 0.0, 0.0, 0.1, 0.0, 1.0]),
    ("expected", [0.0, 0.0, 0.0, 0.0, 0.0, 0.4]),
    ("wow", [0.3, 0.0, 0.0, 0.0, 0.0, 1.0]),
    ("suddenly", [0.0, 0.0, 0.0, 0.2, 0.0, 0.7]),
    ("opportunity", [0.4, 0.0, 0.0, 0.0, 0.0, 0.1]),
];

/// Words that scale the next emotion word up.
const INTENSIFIERS: &[&str] = &[
    "very",
    "really",
    "so",
    "extremely",
    "incredibly",
    "absolutely",
    "totally",
    "super",
    "truly",
    "deeply",
];
/// Words that scale the next emotion word down ("a bit", "slightly").
const DIMINISHERS: &[&str] = &[
    "bit", "slightly", "somewhat", "little", "kinda", "mildly", "barely",
];
/// Words that flip the next emotion word.
const NEGATIONS: &[&str] = &[
    "not", "no", "never", "don't", "dont", "isn't", "isnt", "aren't", "wasn't", "didn't", "can't",
    "cannot",
];

/// Valence of each dimension, −1..1.
const VALENCE: [f64; 6] = [1.0, -0.8, -0.9, -0.7, 0.9, 0.2];
/// Arousal of each dimension, 0..1.
const AROUSAL: [f64; 6] = [0.7, 0.3, 0.9, 0.8, 0.4, 0.9];

/// The scored result for one text.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Scores {
    /// The analysed text.
    pub(crate) text: String,
    /// Normalised scores in [`EMOTIONS`] order.
    pub(crate) raw: [f64; 6],
    /// Index of the dominant dimension.
    pub(crate) category: usize,
    pub(crate) intensity: f64,
    pub(crate) valence: f64,
    pub(crate) arousal: f64,
    pub(crate) wonder: f64,
    pub(crate) discovery: f64,
}

/// Rounds to 4 decimals (the brief's wire precision).
pub(crate) fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

fn lookup(word: &str) -> Option<[f64; 6]> {
    let find = |w: &str| LEXICON.iter().find(|(k, _)| *k == w).map(|(_, v)| *v);
    if let Some(v) = find(word) {
        return Some(v);
    }
    // Crude stemming: "loved", "hates", "crying", "happily".
    for suffix in ["s", "d", "ed", "ing", "ly", "ily"] {
        let Some(stem) = word.strip_suffix(suffix).filter(|s| s.len() >= 3) else {
            continue;
        };
        let found = find(stem).or_else(|| {
            (suffix == "ily")
                .then(|| find(&format!("{stem}y")))
                .flatten()
        });
        if found.is_some() {
            return found;
        }
    }
    None
}

/// Scores `text`.
pub(crate) fn analyse(text: &str) -> Scores {
    let lower = text.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .map(|w| w.trim_matches('\''))
        .filter(|w| !w.is_empty())
        .collect();
    let exclaim = text.chars().filter(|&c| c == '!').count().min(3) as f64;
    let boost = 1.0 + 0.15 * exclaim;

    let mut sums = [0.0f64; 6];
    for (i, w) in words.iter().enumerate() {
        let Some(weights) = lookup(w) else { continue };
        let before = &words[i.saturating_sub(2)..i];
        let mut scale = boost;
        if before.iter().any(|b| INTENSIFIERS.contains(b)) {
            scale *= 1.5;
        }
        if before.iter().any(|b| DIMINISHERS.contains(b)) {
            scale *= 0.6;
        }
        let negated = before.iter().any(|b| NEGATIONS.contains(b));
        for (k, wgt) in weights.iter().enumerate() {
            if negated {
                // "not happy" reads as mild sadness; "not afraid" as mild relief.
                if VALENCE[k] > 0.5 {
                    sums[1] += 0.6 * wgt * scale;
                } else {
                    sums[k] += 0.3 * wgt * scale;
                    sums[0] += 0.2 * wgt * scale;
                }
            } else {
                sums[k] += wgt * scale;
            }
        }
    }
    let total: f64 = sums.iter().map(|s| s + BASE).sum();
    let mut raw = [0.0f64; 6];
    for (r, s) in raw.iter_mut().zip(sums) {
        *r = (s + BASE) / total;
    }
    let mut category = 0;
    for (k, r) in raw.iter().enumerate() {
        if *r > raw[category] {
            category = k;
        }
    }
    let intensity = raw[category];
    let dot = |w: &[f64; 6]| raw.iter().zip(w).map(|(r, w)| r * w).sum::<f64>();
    let valence = dot(&VALENCE).clamp(-1.0, 1.0);
    let arousal = dot(&AROUSAL).clamp(0.0, 1.0);
    let wonder = (0.15 + 0.6 * raw[5] + 0.25 * raw[0] + 0.15 * raw[4]).clamp(0.0, 1.0);
    let discovery = (intensity + wonder) / 2.0;
    Scores {
        text: text.to_owned(),
        raw,
        category,
        intensity,
        valence,
        arousal,
        wonder,
        discovery,
    }
}

/// `intensityLevel` by the default thresholds of spec §3.2.
pub(crate) fn intensity_level(x: f64) -> &'static str {
    match x {
        x if x >= 0.90 => "critical",
        x if x >= 0.75 => "high",
        x if x >= 0.55 => "moderate",
        x if x >= 0.35 => "subtle",
        _ => "minimal",
    }
}

/// `discoveryLevel` by the default thresholds of spec §3.2.
pub(crate) fn discovery_level(x: f64) -> &'static str {
    match x {
        x if x >= 0.90 => "transcendent",
        x if x >= 0.75 => "breakthrough",
        x if x >= 0.55 => "significant",
        x if x >= 0.35 => "normal",
        _ => "routine",
    }
}

impl Scores {
    /// The dominant dimension's name.
    pub(crate) fn category_name(&self) -> &'static str {
        EMOTIONS.get(self.category).copied().unwrap_or("joy")
    }

    /// `complexity`: how many dimensions carry real weight, and whether they pull both ways.
    pub(crate) fn complexity(&self) -> &'static str {
        let strong = self.raw.iter().filter(|r| **r >= 0.2).count();
        let pos = self.raw[0].max(self.raw[4]);
        let neg = self.raw[1].max(self.raw[2]).max(self.raw[3]);
        match strong {
            0 | 1 => "simple",
            _ if pos >= 0.25 && neg >= 0.25 => "paradoxical",
            2 => "layered",
            _ => "transcendent",
        }
    }

    /// The full EmotionItemV2 object (spec §3.2, §3.3).
    pub(crate) fn item(&self) -> Value {
        let mut raw = Map::new();
        for (k, r) in EMOTIONS.iter().zip(self.raw) {
            raw.insert((*k).to_owned(), json!(round4(r)));
        }
        json!({
            "text": self.text,
            "category": self.category_name(),
            "intensity": round4(self.intensity),
            "intensityLevel": intensity_level(self.intensity),
            "valence": round4(self.valence),
            "arousal": round4(self.arousal),
            "complexity": self.complexity(),
            "wonderIndex": round4(self.wonder),
            "discoveryLevel": discovery_level(self.discovery),
            "raw": Value::Object(raw),
        })
    }

    /// The partial item of the state endpoint (spec §3.5).
    pub(crate) fn brief_item(&self) -> Value {
        json!({
            "category": self.category_name(),
            "intensity": round4(self.intensity),
            "valence": round4(self.valence),
            "arousal": round4(self.arousal),
        })
    }
}

/// Whitespace-separated word count, the sim's stand-in for tokens.
pub(crate) fn tokens(text: &str) -> u64 {
    text.split_whitespace().count() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quickstart_vector_is_subtle_fear() {
        // Spec §3.3: "I feel a bit unsure about this" → fear, subtle, normal.
        let s = analyse("I feel a bit unsure about this");
        assert_eq!(s.category_name(), "fear");
        assert_eq!(intensity_level(s.intensity), "subtle");
        assert_eq!(discovery_level(s.discovery), "normal");
        assert!(s.valence < 0.0);
        assert!((s.raw.iter().sum::<f64>() - 1.0).abs() < 1e-9);
    }

    #[test]
    fn documented_examples_have_documented_categories() {
        for (text, cat) in [
            ("I'm really excited about this opportunity!", "joy"),
            ("I am so excited about this new project!", "joy"),
            ("I am nervous about my interview tomorrow.", "fear"),
            (
                "This is amazing! I never expected such great results!",
                "joy",
            ),
            ("I hate waiting, this is so unfair", "anger"),
            ("I miss my family and feel lonely", "sadness"),
            ("I love you", "love"),
            ("Wow, that was unexpected", "surprise"),
        ] {
            assert_eq!(analyse(text).category_name(), cat, "{text}");
        }
        let s = analyse("I'm really excited about this opportunity!");
        assert_eq!(intensity_level(s.intensity), "high");
        assert!(s.valence > 0.5);
    }

    #[test]
    fn negation_and_empty_text() {
        assert_eq!(analyse("I am not happy").category_name(), "sadness");
        let flat = analyse("");
        assert_eq!(flat.category_name(), "joy");
        assert_eq!(intensity_level(flat.intensity), "minimal");
    }
}
