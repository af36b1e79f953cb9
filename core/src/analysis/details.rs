//! The facts beside the emotion items (feature `details`, and the features that extend
//! it): spec §3.3–§3.8 `[code]` keys, `trajectory` (§3.4), `conversationMode`, and what
//! `growth`, `beliefs` and `patterns` say besides their array elements.

#[cfg(any(
    feature = "trajectory",
    feature = "patterns",
    feature = "growth",
    feature = "beliefs",
    feature = "conversation"
))]
use super::DESCRIPTION_CAP;
#[cfg(feature = "conversation")]
use super::PersonalityMode;
#[cfg(feature = "growth")]
use super::Timestamp;
use super::{Detail, Label, RawScores, parse_count};
use crate::score::Score;
use crate::text::Text;

/// The facts of context-aware responses beside the emotion items (feature `details`):
/// spec §3.3–§3.8 `[code]` keys, `trajectory` (§3.4) and `conversationMode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub struct Details {
    /// `created` (chat completions): Unix seconds.
    pub created: Option<u32>,
    /// `emotion_model`.
    pub emotion_model: Label,
    /// `isFallback`: the scores are not the model's.
    pub is_fallback: Option<bool>,
    /// `dataQuality` (`ml_predicted`, `rule_derived`, `fallback`).
    pub data_quality: Label,
    /// `context_message_count`.
    pub context_message_count: Option<u32>,
    /// `external_id` (message lookups; top level or `metadata.external_id`).
    pub external_id: Text<64>,
    /// `metadata.message_id`.
    pub message_id: Text<64>,
    /// `trajectory.baseline`.
    pub baseline: Baseline,
    /// `trajectory.trend`.
    pub trend: Trend,
    /// `conversationMode`.
    pub conversation_mode: ConversationMode,
    /// `usage.analyse_token_details.cached_tokens`.
    pub cached_tokens: Option<u32>,
    /// `usage.analyse_token_details.audio_tokens`.
    pub audio_tokens: Option<u32>,
    /// `trajectory.breakthrough` and `trajectory.similarMoments.insights` (feature
    /// `trajectory`).
    #[cfg(feature = "trajectory")]
    pub trajectory: TrajectoryExtras,
    /// `growth` but its dimensions (feature `growth`).
    #[cfg(feature = "growth")]
    pub growth: Growth,
    /// `beliefs` but the beliefs themselves (feature `beliefs`).
    #[cfg(feature = "beliefs")]
    pub beliefs: Beliefs,
    /// `patterns` but the detected patterns themselves (feature `patterns`).
    #[cfg(feature = "patterns")]
    pub patterns: Patterns,
}

/// `trajectory.breakthrough` and the similar moments' `insights` (feature `trajectory`).
#[cfg(feature = "trajectory")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub struct TrajectoryExtras {
    /// `breakthrough.detected`.
    pub breakthrough: Option<bool>,
    /// `breakthrough.type` (`discovery_level`, `intensity_spike`, `wonder_explosion`).
    pub breakthrough_type: Label,
    /// `breakthrough.significance`.
    pub breakthrough_significance: Option<Score>,
    /// `similarMoments.insights`.
    pub insights: Text<DESCRIPTION_CAP>,
    /// `momentum`.
    pub momentum: Momentum,
}

/// `trajectory.momentum` (feature `trajectory`): the recent hours' movement.
#[cfg(feature = "trajectory")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub struct Momentum {
    /// `currentEmotion`.
    pub current_emotion: Label,
    /// `currentIntensity`.
    pub current_intensity: Option<Score>,
    /// `currentWonder`.
    pub current_wonder: Option<Score>,
    /// `trajectory`: `escalating`, `de-escalating`, `stable`.
    pub direction: Label,
    /// `momentum`.
    pub momentum: Option<Score>,
    /// `averageIntensity`.
    pub average_intensity: Option<Score>,
    /// `averageWonder`.
    pub average_wonder: Option<Score>,
    /// `averageValence`.
    pub average_valence: Option<Score>,
    /// `emotionalVolatility`.
    pub volatility: Option<Score>,
    /// `discoveryPotential`: `high`, `medium`, `low`.
    pub discovery_potential: Label,
    /// `windowHours`.
    pub window_hours: Option<u32>,
    /// `dataPointCount`.
    pub data_point_count: Option<u32>,
}

/// One side of `growth.comparisonWindow` (feature `growth`).
#[cfg(feature = "growth")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub struct GrowthWindow {
    /// `start`.
    pub start: Timestamp,
    /// `end`.
    pub end: Timestamp,
    /// `dataPoints`.
    pub data_points: Option<u32>,
}

/// `growth` but its `dimensions`, which arrive as events (feature `growth`).
#[cfg(feature = "growth")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub struct Growth {
    /// `comparisonWindow.recent`.
    pub recent: GrowthWindow,
    /// `comparisonWindow.historical`.
    pub historical: GrowthWindow,
    /// `overallGrowthScore`.
    pub overall_score: Option<Score>,
    /// `dimensionsGrowing`.
    pub dimensions_growing: Option<u32>,
    /// `dimensionsDecline`.
    pub dimensions_declining: Option<u32>,
    /// `summary`.
    pub summary: Text<DESCRIPTION_CAP>,
}

/// `beliefs` but the beliefs, which arrive as events (feature `beliefs`).
#[cfg(feature = "beliefs")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub struct Beliefs {
    /// `totalBeliefs`.
    pub total: Option<u32>,
    /// `beliefsByType`.
    pub by_type: BeliefsByType,
    /// `summary`.
    pub summary: Text<DESCRIPTION_CAP>,
}

/// `beliefs.beliefsByType` (feature `beliefs`): how many beliefs of each type the spec names
/// (a type this version does not know is not kept).
#[cfg(feature = "beliefs")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub struct BeliefsByType {
    /// `explicit`.
    pub explicit: Option<u32>,
    /// `identity`.
    pub identity: Option<u32>,
    /// `value`.
    pub value: Option<u32>,
    /// `purpose`.
    pub purpose: Option<u32>,
}

/// `patterns` but the detected patterns, which arrive as events (feature `patterns`).
#[cfg(feature = "patterns")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub struct Patterns {
    /// How many `activePatterns` there are.
    pub active_count: u16,
    /// The first `activePatterns`, in order, separated by `,`.
    pub active: Text<DESCRIPTION_CAP>,
    /// `patternSummary`.
    pub summary: Text<DESCRIPTION_CAP>,
}

/// `trajectory.baseline` (spec §3.4): the context's long-run averages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub struct Baseline {
    /// `window` (`week`, `month`, `quarter`).
    pub window: Label,
    /// `dataPointCount`.
    pub data_point_count: Option<u32>,
    /// `averageIntensity`.
    pub average_intensity: Option<Score>,
    /// `baselineValence`.
    pub valence: Option<Score>,
    /// `baselineArousal`.
    pub arousal: Option<Score>,
    /// `emotionalVolatility`.
    pub volatility: Option<Score>,
    /// `averageWonderIndex`.
    pub average_wonder_index: Option<Score>,
    /// `breakthroughCount`.
    pub breakthrough_count: Option<u32>,
    /// `averageComplexity` (`simple`, `layered`, …).
    pub average_complexity: Label,
    /// The highest [`RAW_CAP`](super::RAW_CAP) entries of `dominantEmotions` (emotion → frequency, 0–1).
    pub dominant_emotions: RawScores,
}

/// `trajectory.trend` (spec §3.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub struct Trend {
    /// `direction` (`improving`, `stable`, `declining`).
    pub direction: Label,
    /// `valenceTrend`.
    pub valence: Option<Score>,
    /// `intensityTrend`.
    pub intensity: Option<Score>,
    /// `wonderTrend`.
    pub wonder: Option<Score>,
    /// `breakthroughRate`.
    pub breakthrough_rate: Option<Score>,
}

/// `conversationMode` (spec §3.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub struct ConversationMode {
    /// `mode`, e.g. `emotional_support`, `crisis_intervention`.
    pub mode: Label,
    /// `confidence`, 0.0–1.0.
    pub confidence: Option<Score>,
    /// `crisisDetected`.
    pub crisis_detected: Option<bool>,
    /// `reasoning` (feature `conversation`).
    #[cfg(feature = "conversation")]
    pub reasoning: Text<DESCRIPTION_CAP>,
    /// `responseStrategy` (feature `conversation`).
    #[cfg(feature = "conversation")]
    pub strategy: ResponseStrategy,
    /// `personalityMode` (feature `conversation`).
    #[cfg(feature = "conversation")]
    pub personality_mode: Option<PersonalityMode>,
    /// `personalityConfidence`, 0.0–1.0 (feature `conversation`).
    #[cfg(feature = "conversation")]
    pub personality_confidence: Option<Score>,
    /// `responseGuidance` (feature `conversation`).
    #[cfg(feature = "conversation")]
    pub guidance: ResponseGuidance,
}

/// A list of strings kept in one text: how many entries there were, and the first ones in
/// order, separated by `,` (truncated, and marked so, when they do not fit).
#[cfg(feature = "conversation")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub struct StringList {
    /// How many entries the list had.
    pub count: u16,
    /// The first entries, separated by `,`.
    pub joined: Text<DESCRIPTION_CAP>,
}

#[cfg(feature = "conversation")]
impl StringList {
    /// A new entry starts: separated from the previous one and counted.
    fn begin_entry(&mut self) {
        if self.count > 0 {
            self.joined.push_bytes(b",");
        }
        self.count = self.count.saturating_add(1);
    }
}

/// `conversationMode.responseStrategy` (feature `conversation`).
#[cfg(feature = "conversation")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub struct ResponseStrategy {
    /// `tone`.
    pub tone: Text<DESCRIPTION_CAP>,
    /// `focus`.
    pub focus: Text<DESCRIPTION_CAP>,
    /// `actionables`.
    pub actionables: StringList,
}

/// `conversationMode.responseGuidance` (feature `conversation`).
#[cfg(feature = "conversation")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub struct ResponseGuidance {
    /// `tone`.
    pub tone: Text<DESCRIPTION_CAP>,
    /// `focus`.
    pub focus: Text<DESCRIPTION_CAP>,
    /// `speechPatterns`.
    pub speech_patterns: StringList,
    /// `prohibitions`.
    pub prohibitions: StringList,
    /// `exampleResponses`.
    pub example_responses: StringList,
}

#[cfg(feature = "conversation")]
impl ConversationMode {
    /// The text a string of `d` goes into (`None`: not one of this struct's).
    pub(super) fn text(&mut self, d: Detail) -> Option<&mut Text<DESCRIPTION_CAP>> {
        Some(match d {
            Detail::Reasoning => &mut self.reasoning,
            Detail::StrategyTone => &mut self.strategy.tone,
            Detail::StrategyFocus => &mut self.strategy.focus,
            Detail::GuidanceTone => &mut self.guidance.tone,
            Detail::GuidanceFocus => &mut self.guidance.focus,
            _ => return self.list(d).map(|l| &mut l.joined),
        })
    }

    /// The list an entry of `d` belongs to (`None`: `d` is not a list entry).
    fn list(&mut self, d: Detail) -> Option<&mut StringList> {
        Some(match d {
            Detail::Actionable => &mut self.strategy.actionables,
            Detail::SpeechPattern => &mut self.guidance.speech_patterns,
            Detail::Prohibition => &mut self.guidance.prohibitions,
            Detail::ExampleResponse => &mut self.guidance.example_responses,
            _ => return None,
        })
    }

    /// An entry of the list `d` starts: separated from the previous one and counted.
    pub(super) fn begin_entry(&mut self, d: Detail) {
        if let Some(list) = self.list(d) {
            list.begin_entry();
        }
    }
}

impl Details {
    /// A number for `d` (a value of the wrong type is dropped).
    pub(super) fn number(&mut self, d: Detail, text: &[u8]) {
        let score = || Score::parse(text);
        let count = || parse_count(text);
        match d {
            Detail::Created => self.created = parse_count(text),
            Detail::MessageCount => self.context_message_count = count(),
            Detail::DataPoints => self.baseline.data_point_count = count(),
            Detail::Breakthroughs => self.baseline.breakthrough_count = count(),
            Detail::AverageIntensity => self.baseline.average_intensity = score(),
            Detail::BaselineValence => self.baseline.valence = score(),
            Detail::BaselineArousal => self.baseline.arousal = score(),
            Detail::Volatility => self.baseline.volatility = score(),
            Detail::AverageWonder => self.baseline.average_wonder_index = score(),
            Detail::ValenceTrend => self.trend.valence = score(),
            Detail::IntensityTrend => self.trend.intensity = score(),
            Detail::WonderTrend => self.trend.wonder = score(),
            Detail::BreakthroughRate => self.trend.breakthrough_rate = score(),
            Detail::ModeConfidence => self.conversation_mode.confidence = score(),
            Detail::CachedTokens => self.cached_tokens = count(),
            Detail::AudioTokens => self.audio_tokens = count(),
            #[cfg(feature = "trajectory")]
            Detail::Significance => self.trajectory.breakthrough_significance = score(),
            #[cfg(feature = "trajectory")]
            Detail::MomentumIntensity => self.trajectory.momentum.current_intensity = score(),
            #[cfg(feature = "trajectory")]
            Detail::MomentumWonder => self.trajectory.momentum.current_wonder = score(),
            #[cfg(feature = "trajectory")]
            Detail::MomentumValue => self.trajectory.momentum.momentum = score(),
            #[cfg(feature = "trajectory")]
            Detail::MomentumAverageIntensity => {
                self.trajectory.momentum.average_intensity = score()
            }
            #[cfg(feature = "trajectory")]
            Detail::MomentumAverageWonder => self.trajectory.momentum.average_wonder = score(),
            #[cfg(feature = "trajectory")]
            Detail::MomentumAverageValence => self.trajectory.momentum.average_valence = score(),
            #[cfg(feature = "trajectory")]
            Detail::MomentumVolatility => self.trajectory.momentum.volatility = score(),
            #[cfg(feature = "trajectory")]
            Detail::MomentumHours => self.trajectory.momentum.window_hours = count(),
            #[cfg(feature = "trajectory")]
            Detail::MomentumPoints => self.trajectory.momentum.data_point_count = count(),
            #[cfg(feature = "growth")]
            Detail::RecentPoints => self.growth.recent.data_points = count(),
            #[cfg(feature = "growth")]
            Detail::HistoricalPoints => self.growth.historical.data_points = count(),
            #[cfg(feature = "growth")]
            Detail::OverallGrowth => self.growth.overall_score = score(),
            #[cfg(feature = "growth")]
            Detail::DimensionsGrowing => self.growth.dimensions_growing = count(),
            #[cfg(feature = "growth")]
            Detail::DimensionsDeclining => self.growth.dimensions_declining = count(),
            #[cfg(feature = "beliefs")]
            Detail::TotalBeliefs => self.beliefs.total = count(),
            #[cfg(feature = "beliefs")]
            Detail::ExplicitBeliefs => self.beliefs.by_type.explicit = count(),
            #[cfg(feature = "beliefs")]
            Detail::IdentityBeliefs => self.beliefs.by_type.identity = count(),
            #[cfg(feature = "beliefs")]
            Detail::ValueBeliefs => self.beliefs.by_type.value = count(),
            #[cfg(feature = "beliefs")]
            Detail::PurposeBeliefs => self.beliefs.by_type.purpose = count(),
            #[cfg(feature = "conversation")]
            Detail::PersonalityConfidence => {
                self.conversation_mode.personality_confidence = score()
            }
            _ => {}
        }
    }
}
