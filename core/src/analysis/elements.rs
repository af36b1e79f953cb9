//! The array elements a success body hands out one at a time (chat choices, similar moments,
//! growth dimensions, beliefs, patterns) and the `hostilityState` of an emotion item, each
//! behind the cargo feature that decodes it. An element is built in the decoder's one element
//! slot, the one emotion items use, and handed out when it closes: a list of any length costs
//! the size of one element. Every list feature turns on `details`, so `cfg(feature =
//! "details")` stands for "details or any list".

#[cfg(any(feature = "choices", feature = "details"))]
use super::Label;
#[cfg(feature = "details")]
use crate::score::Score;
#[cfg(any(feature = "choices", feature = "details"))]
use crate::text::AnyText;
#[cfg(feature = "details")]
use crate::text::Text;

use super::Emotion;

/// Capacity of descriptions and summaries (growth, beliefs, patterns, insights).
pub const DESCRIPTION_CAP: usize = 96;
/// Capacity of timestamps (ISO-8601 as JavaScript writes them: 24 bytes).
pub const TIMESTAMP_CAP: usize = 32;
/// Capacity of identifiers (`memoryId`, `patternId`).
pub const ID_CAP: usize = 40;

/// A timestamp as sent (ISO-8601), e.g. `2025-01-12T18:04:11.000Z`.
#[cfg(feature = "details")]
pub type Timestamp = Text<TIMESTAMP_CAP>;

/// A choice of a chat completion that finished (feature `choices`): handed out when a
/// `choices` element that carried a `finish_reason` closes. Only the first choice's text
/// arrives as content.
#[cfg(feature = "choices")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub struct Choice {
    /// Position in `choices`.
    pub index: u16,
    /// `message.role` (or `delta.role`), e.g. `assistant`.
    pub role: Label,
    /// `finish_reason`, e.g. `stop`, `length`.
    pub finish_reason: Label,
}

/// One element of `trajectory.similarMoments.moments` (feature `trajectory`).
#[cfg(feature = "trajectory")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub struct Moment {
    /// Position in `moments`.
    pub index: u16,
    /// `memoryId`.
    pub memory_id: Text<ID_CAP>,
    /// `similarity`, 0.0–1.0.
    pub similarity: Option<Score>,
    /// `emotion`, e.g. `joy`.
    pub emotion: Label,
    /// `intensity`, 0.0–1.0.
    pub intensity: Option<Score>,
    /// `timestamp`.
    pub timestamp: Timestamp,
    /// `context`.
    pub context: Text<64>,
    /// How many `tags` it has.
    pub tag_count: u16,
    /// The first `tags`, in order, separated by `,` (truncated when they do not fit).
    pub tags: Text<64>,
}

/// A pattern: an element of `patterns.detected` (feature `patterns`) or of
/// `trajectory.similarMoments.patterns` (feature `trajectory`).
#[cfg(any(feature = "trajectory", feature = "patterns"))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub struct Pattern {
    /// Position in its array.
    pub index: u16,
    /// It came from `trajectory.similarMoments.patterns` (not `patterns.detected`).
    pub similar_moments: bool,
    /// `patternId`.
    pub id: Text<ID_CAP>,
    /// `patternType`: `temporal`, `trigger_based`, `cyclical`, `sequential`, `recovery`.
    pub kind: Label,
    /// `name`.
    pub name: Text<64>,
    /// `description`.
    pub description: Text<DESCRIPTION_CAP>,
    /// `trigger`.
    pub trigger: Text<64>,
    /// `frequency`.
    pub frequency: Option<u32>,
    /// `confidence`, 0.0–1.0.
    pub confidence: Option<Score>,
    /// `lastOccurrence`.
    pub last_occurrence: Timestamp,
    /// `firstDetected`.
    pub first_detected: Timestamp,
    /// `typicalDuration`, minutes.
    pub typical_duration: Option<u32>,
    /// `typicalIntensity`.
    pub typical_intensity: Option<Score>,
    /// How many `emotionalSequence` entries it has.
    pub sequence_len: u16,
    /// The first `emotionalSequence` entries, in order, separated by `,`.
    pub sequence: Text<64>,
}

/// One element of `growth.dimensions` (feature `growth`).
#[cfg(feature = "growth")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub struct Dimension {
    /// Position in `dimensions`.
    pub index: u16,
    /// `dimension`: `regulation`, `awareness`, `vulnerability`, `resilience`, `complexity`.
    pub dimension: Label,
    /// `percentageChange`, −100–100.
    pub percentage_change: Option<Score>,
    /// `recentValue`.
    pub recent_value: Option<Score>,
    /// `historicalValue`.
    pub historical_value: Option<Score>,
    /// `threshold`.
    pub threshold: Option<Score>,
    /// `isGrowing`.
    pub is_growing: Option<bool>,
    /// `description`.
    pub description: Text<DESCRIPTION_CAP>,
}

/// One element of `beliefs.beliefs` (feature `beliefs`).
#[cfg(feature = "beliefs")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub struct Belief {
    /// Position in `beliefs`.
    pub index: u16,
    /// `type`: `explicit`, `identity`, `value`, `purpose` (the docs also name `capability`,
    /// `relational`).
    pub kind: Label,
    /// `content`.
    pub content: Text<DESCRIPTION_CAP>,
    /// `confidence`, 0.0–1.0.
    pub confidence: Option<Score>,
    /// `rawMatch`: the words that matched.
    pub raw_match: Text<64>,
}

/// `hostilityState` of an emotion item (spec §3.2; feature `details`).
#[cfg(feature = "details")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub struct Hostility {
    /// `level`: `none`, `low`, `medium`, `high`.
    pub level: Label,
    /// `score`, 0.0–1.0.
    pub score: Option<Score>,
    /// `escalationCount`.
    pub escalation_count: Option<u32>,
    /// `lastEscalation`.
    pub last_escalation: Timestamp,
    /// `deEscalationDetected`.
    pub de_escalation_detected: Option<bool>,
    /// `recommendedResponse`: `normal`, `defensive`, `boundary_setting`, `crisis`.
    pub recommended_response: Label,
}

/// What the decoder's element slot holds: the emotion item being read, or the list element
/// being read (one at a time, so the slot is as large as the largest of them).
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)]
pub(super) enum Element {
    Emotion(Emotion),
    #[cfg(feature = "choices")]
    Choice(Choice),
    #[cfg(feature = "trajectory")]
    Moment(Moment),
    #[cfg(any(feature = "trajectory", feature = "patterns"))]
    Pattern(Pattern),
    #[cfg(feature = "growth")]
    Dimension(Dimension),
    #[cfg(feature = "beliefs")]
    Belief(Belief),
}

/// The kinds of list whose elements are handed out one by one.
#[cfg(any(
    feature = "trajectory",
    feature = "patterns",
    feature = "growth",
    feature = "beliefs"
))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub(super) enum Kind {
    #[cfg(feature = "trajectory")]
    Moment,
    #[cfg(feature = "trajectory")]
    MomentPattern,
    #[cfg(feature = "patterns")]
    Pattern,
    #[cfg(feature = "growth")]
    Dimension,
    #[cfg(feature = "beliefs")]
    Belief,
}

#[cfg(any(
    feature = "trajectory",
    feature = "patterns",
    feature = "growth",
    feature = "beliefs"
))]
impl Kind {
    /// A fresh element of this kind at `index`.
    pub(super) fn element(self, index: u16) -> Element {
        match self {
            #[cfg(feature = "trajectory")]
            Kind::Moment => Element::Moment(Moment {
                index,
                ..Moment::default()
            }),
            #[cfg(feature = "trajectory")]
            Kind::MomentPattern => Element::Pattern(Pattern {
                index,
                similar_moments: true,
                ..Pattern::default()
            }),
            #[cfg(feature = "patterns")]
            Kind::Pattern => Element::Pattern(Pattern {
                index,
                ..Pattern::default()
            }),
            #[cfg(feature = "growth")]
            Kind::Dimension => Element::Dimension(Dimension {
                index,
                ..Dimension::default()
            }),
            #[cfg(feature = "beliefs")]
            Kind::Belief => Element::Belief(Belief {
                index,
                ..Belief::default()
            }),
        }
    }
}

/// A value of an element (or of `hostilityState`).
#[cfg(any(feature = "choices", feature = "details"))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub(super) enum Field {
    #[cfg(feature = "choices")]
    ChoiceRole,
    #[cfg(feature = "details")]
    HostilityLevel,
    #[cfg(feature = "details")]
    HostilityScore,
    #[cfg(feature = "details")]
    Escalations,
    #[cfg(feature = "details")]
    LastEscalation,
    #[cfg(feature = "details")]
    DeEscalation,
    #[cfg(feature = "details")]
    Recommended,
    #[cfg(feature = "trajectory")]
    MemoryId,
    #[cfg(feature = "trajectory")]
    Similarity,
    #[cfg(feature = "trajectory")]
    MomentEmotion,
    #[cfg(feature = "trajectory")]
    MomentIntensity,
    #[cfg(feature = "trajectory")]
    Timestamp,
    #[cfg(feature = "trajectory")]
    MomentContext,
    /// An element of a string list inside the element (`tags`, `emotionalSequence`).
    #[cfg(any(feature = "trajectory", feature = "patterns"))]
    ListEntry,
    #[cfg(any(feature = "trajectory", feature = "patterns"))]
    PatternId,
    #[cfg(any(feature = "trajectory", feature = "patterns"))]
    PatternType,
    #[cfg(any(feature = "trajectory", feature = "patterns"))]
    Name,
    #[cfg(any(feature = "patterns", feature = "growth"))]
    Description,
    #[cfg(feature = "patterns")]
    Trigger,
    #[cfg(any(feature = "trajectory", feature = "patterns"))]
    Frequency,
    #[cfg(any(feature = "trajectory", feature = "patterns", feature = "beliefs"))]
    Confidence,
    #[cfg(feature = "patterns")]
    LastOccurrence,
    #[cfg(feature = "patterns")]
    FirstDetected,
    #[cfg(feature = "patterns")]
    TypicalDuration,
    #[cfg(feature = "patterns")]
    TypicalIntensity,
    #[cfg(feature = "growth")]
    DimensionName,
    #[cfg(feature = "growth")]
    PercentageChange,
    #[cfg(feature = "growth")]
    RecentValue,
    #[cfg(feature = "growth")]
    HistoricalValue,
    #[cfg(feature = "growth")]
    Threshold,
    #[cfg(feature = "growth")]
    IsGrowing,
    #[cfg(feature = "beliefs")]
    BeliefType,
    #[cfg(feature = "beliefs")]
    BeliefContent,
    #[cfg(feature = "beliefs")]
    RawMatch,
}

impl Element {
    /// The emotion item, if that is what the slot holds.
    pub(super) fn emotion(&mut self) -> Option<&mut Emotion> {
        match self {
            Element::Emotion(e) => Some(e),
            #[allow(unreachable_patterns)]
            _ => None,
        }
    }

    /// Where string pieces of `field` go.
    #[cfg(any(feature = "choices", feature = "details"))]
    #[allow(unused_variables)]
    pub(super) fn sink(&mut self, field: Field) -> Option<&mut AnyText> {
        #[allow(unreachable_patterns)]
        Some(match (self, field) {
            #[cfg(feature = "choices")]
            (Element::Choice(c), Field::ChoiceRole) => c.role.any(),
            #[cfg(feature = "details")]
            (Element::Emotion(e), f) => {
                let h = e.hostility.as_mut()?;
                match f {
                    Field::HostilityLevel => h.level.any(),
                    Field::LastEscalation => h.last_escalation.any(),
                    Field::Recommended => h.recommended_response.any(),
                    _ => return None,
                }
            }
            #[cfg(feature = "trajectory")]
            (Element::Moment(m), f) => match f {
                Field::MemoryId => m.memory_id.any(),
                Field::MomentEmotion => m.emotion.any(),
                Field::Timestamp => m.timestamp.any(),
                Field::MomentContext => m.context.any(),
                Field::ListEntry => m.tags.any(),
                _ => return None,
            },
            #[cfg(any(feature = "trajectory", feature = "patterns"))]
            (Element::Pattern(p), f) => match f {
                Field::PatternId => p.id.any(),
                Field::PatternType => p.kind.any(),
                Field::Name => p.name.any(),
                #[cfg(feature = "patterns")]
                Field::Description => p.description.any(),
                #[cfg(feature = "patterns")]
                Field::Trigger => p.trigger.any(),
                #[cfg(feature = "patterns")]
                Field::LastOccurrence => p.last_occurrence.any(),
                #[cfg(feature = "patterns")]
                Field::FirstDetected => p.first_detected.any(),
                Field::ListEntry => p.sequence.any(),
                _ => return None,
            },
            #[cfg(feature = "growth")]
            (Element::Dimension(d), f) => match f {
                Field::DimensionName => d.dimension.any(),
                Field::Description => d.description.any(),
                _ => return None,
            },
            #[cfg(feature = "beliefs")]
            (Element::Belief(b), f) => match f {
                Field::BeliefType => b.kind.any(),
                Field::BeliefContent => b.content.any(),
                Field::RawMatch => b.raw_match.any(),
                _ => return None,
            },
            _ => return None,
        })
    }

    /// A number for `field` (a value of the wrong type is dropped).
    #[cfg(any(feature = "choices", feature = "details"))]
    #[allow(unused_variables)]
    pub(super) fn number(&mut self, field: Field, text: &[u8]) {
        #[cfg(feature = "details")]
        let score = || Score::parse(text);
        #[allow(unreachable_patterns)]
        match (self, field) {
            #[cfg(feature = "details")]
            (Element::Emotion(e), f) => {
                if let Some(h) = e.hostility.as_mut() {
                    match f {
                        Field::HostilityScore => h.score = score(),
                        Field::Escalations => h.escalation_count = super::parse_count(text),
                        _ => {}
                    }
                }
            }
            #[cfg(feature = "trajectory")]
            (Element::Moment(m), f) => match f {
                Field::Similarity => m.similarity = score(),
                Field::MomentIntensity => m.intensity = score(),
                _ => {}
            },
            #[cfg(any(feature = "trajectory", feature = "patterns"))]
            (Element::Pattern(p), f) => match f {
                Field::Frequency => p.frequency = super::parse_count(text),
                Field::Confidence => p.confidence = score(),
                #[cfg(feature = "patterns")]
                Field::TypicalDuration => p.typical_duration = super::parse_count(text),
                #[cfg(feature = "patterns")]
                Field::TypicalIntensity => p.typical_intensity = score(),
                _ => {}
            },
            #[cfg(feature = "growth")]
            (Element::Dimension(d), f) => match f {
                Field::PercentageChange => d.percentage_change = score(),
                Field::RecentValue => d.recent_value = score(),
                Field::HistoricalValue => d.historical_value = score(),
                Field::Threshold => d.threshold = score(),
                _ => {}
            },
            #[cfg(feature = "beliefs")]
            (Element::Belief(b), Field::Confidence) => b.confidence = score(),
            _ => {}
        }
    }

    /// A boolean for `field`.
    #[cfg(any(feature = "choices", feature = "details"))]
    #[allow(unused_variables)]
    pub(super) fn boolean(&mut self, field: Field, b: bool) {
        #[allow(unreachable_patterns)]
        match (self, field) {
            #[cfg(feature = "details")]
            (Element::Emotion(e), Field::DeEscalation) => {
                if let Some(h) = e.hostility.as_mut() {
                    h.de_escalation_detected = Some(b);
                }
            }
            #[cfg(feature = "growth")]
            (Element::Dimension(d), Field::IsGrowing) => d.is_growing = Some(b),
            _ => {}
        }
    }
}

impl Element {
    /// A string entry of the element's string list starts (`tags`, `emotionalSequence`):
    /// counted, and separated from the previous one by `,`.
    #[cfg(any(feature = "trajectory", feature = "patterns"))]
    pub(super) fn begin_entry(&mut self) {
        let (list, count) = match self {
            #[cfg(feature = "trajectory")]
            Element::Moment(m) => (&mut m.tags, &mut m.tag_count),
            Element::Pattern(p) => (&mut p.sequence, &mut p.sequence_len),
            _ => return,
        };
        if *count > 0 {
            list.push_bytes(b",");
        }
        *count = count.saturating_add(1);
    }
}
