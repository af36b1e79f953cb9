//! Which key of which container the success-body decoder reads, as data: one table row per
//! key, searched in order. A table costs a few bytes of flash per key where a `match` on byte
//! strings costs a compare chain of code per key.
//!
//! The tables are written as `(frame, key, slot)` rows and packed at compile time into one
//! byte string of keys plus `(frame, length, slot)` rows: half the flash of a row holding a
//! slice (pointer and length) per key.

#[cfg(feature = "details")]
use super::Detail as D;
#[cfg(any(feature = "choices", feature = "details"))]
use super::elements::Field as F;
#[cfg(any(
    feature = "trajectory",
    feature = "patterns",
    feature = "growth",
    feature = "beliefs"
))]
use super::elements::Kind;
#[cfg(feature = "fast")]
use super::lookup::{NameIndex, buckets_for, same};
use super::{Count, Frame, Slot};

/// A key as written: the container it belongs to, its bytes, what it names.
type Row = (Frame, &'static [u8], Slot);

#[cfg(not(feature = "fast"))]
/// A key as stored: its container, its length in the table's byte string, what it names.
type Packed = (Frame, u8, Slot);

#[cfg(not(feature = "fast"))]
/// A packed table: its rows, and their keys one after the other.
struct Table {
    rows: &'static [Packed],
    keys: &'static [u8],
}

#[cfg(not(feature = "fast"))]
/// Total bytes of the keys of `rows`.
const fn key_bytes(rows: &[Row]) -> usize {
    let mut total = 0;
    let mut i = 0;
    while i < rows.len() {
        total += rows[i].1.len();
        i += 1;
    }
    total
}

#[cfg(not(feature = "fast"))]
/// The rows of `rows` with lengths in place of keys (`R` = `rows.len()`).
const fn pack_rows<const R: usize>(rows: &[Row]) -> [Packed; R] {
    let mut out = [(Frame::Root, 0, Slot::Ignore); R];
    let mut i = 0;
    while i < R {
        let (frame, key, slot) = rows[i];
        // Evaluated at compile time: a longer key fails the build, not the device.
        assert!(key.len() <= u8::MAX as usize, "key longer than 255 bytes");
        out[i] = (frame, key.len() as u8, slot);
        i += 1;
    }
    out
}

#[cfg(not(feature = "fast"))]
/// The keys of `rows`, one after the other (`B` = `key_bytes(rows)`).
const fn pack_keys<const B: usize>(rows: &[Row]) -> [u8; B] {
    let mut out = [0; B];
    let mut at = 0;
    let mut i = 0;
    while i < rows.len() {
        at = crate::packed::append(&mut out, at, rows[i].1);
        i += 1;
    }
    out
}

#[cfg(not(feature = "fast"))]
/// Packs a table of [`Row`]s at compile time.
macro_rules! packed {
    ($rows:expr) => {{
        const ROWS: &[Row] = $rows;
        const PACKED: [Packed; ROWS.len()] = pack_rows(ROWS);
        const BYTES: [u8; key_bytes(ROWS)] = pack_keys(ROWS);
        Table {
            rows: &PACKED,
            keys: &BYTES,
        }
    }};
}

/// Keys of the values every firmware needs: emotion items, completion text, the summary.
const KEYS: &[Row] = &[
    (Frame::Root, b"object", Slot::Object),
    (Frame::Root, b"model", Slot::Model),
    (Frame::Root, b"id", Slot::Id),
    (Frame::Root, b"context_id", Slot::ContextId),
    (Frame::Root, b"metadata", Slot::Open(Frame::Metadata)),
    (Frame::Root, b"usage", Slot::Open(Frame::Usage)),
    (Frame::Root, b"choices", Slot::Open(Frame::Choices)),
    (Frame::Root, b"emotions", Slot::Emotions),
    (Frame::Metadata, b"context_id", Slot::MetaContextId),
    (Frame::Usage, b"prompt_tokens", Slot::Count(Count::Prompt)),
    (Frame::Usage, b"promptTokens", Slot::Count(Count::Prompt)),
    (
        Frame::Usage,
        b"completion_tokens",
        Slot::Count(Count::Completion),
    ),
    (
        Frame::Usage,
        b"completionTokens",
        Slot::Count(Count::Completion),
    ),
    (Frame::Usage, b"total_tokens", Slot::Count(Count::Total)),
    (Frame::Usage, b"totalTokens", Slot::Count(Count::Total)),
    // Every spelling of spec open question 9.
    (Frame::Usage, b"analyse_tokens", Slot::Count(Count::Analyse)),
    (Frame::Usage, b"analyse_token", Slot::Count(Count::Analyse)),
    (Frame::Usage, b"analyseToken", Slot::Count(Count::Analyse)),
    (Frame::Usage, b"analyseTokens", Slot::Count(Count::Analyse)),
    (Frame::Choice, b"finish_reason", Slot::FinishReason),
    (Frame::Choice, b"message", Slot::Open(Frame::Message)),
    (Frame::Choice, b"delta", Slot::Open(Frame::Message)),
    (Frame::Message, b"content", Slot::Content),
    (Frame::Item, b"text", Slot::Text),
    (Frame::Item, b"category", Slot::Category),
    (Frame::Item, b"intensity", Slot::Intensity),
    (Frame::Item, b"intensityLevel", Slot::IntensityLevel),
    (Frame::Item, b"valence", Slot::Valence),
    (Frame::Item, b"arousal", Slot::Arousal),
    (Frame::Item, b"complexity", Slot::Complexity),
    (Frame::Item, b"wonderIndex", Slot::WonderIndex),
    (Frame::Item, b"discoveryLevel", Slot::DiscoveryLevel),
    (Frame::Item, b"raw", Slot::Open(Frame::Raw)),
];

/// Keys of [`Details`](super::Details).
#[cfg(feature = "details")]
const DETAIL_KEYS: &[Row] = &[
    (Frame::Root, b"trajectory", Slot::Open(Frame::Trajectory)),
    (Frame::Root, b"conversationMode", Slot::Open(Frame::Mode)),
    (Frame::Trajectory, b"baseline", Slot::Open(Frame::Baseline)),
    (Frame::Trajectory, b"trend", Slot::Open(Frame::Trend)),
    (Frame::Root, b"created", Slot::Detail(D::Created)),
    (Frame::Root, b"emotion_model", Slot::Detail(D::EmotionModel)),
    (Frame::Root, b"isFallback", Slot::Detail(D::IsFallback)),
    (Frame::Root, b"dataQuality", Slot::Detail(D::DataQuality)),
    (
        Frame::Root,
        b"context_message_count",
        Slot::Detail(D::MessageCount),
    ),
    (Frame::Root, b"external_id", Slot::Detail(D::ExternalId)),
    (Frame::Metadata, b"external_id", Slot::Detail(D::ExternalId)),
    (Frame::Metadata, b"message_id", Slot::Detail(D::MessageId)),
    (Frame::Baseline, b"window", Slot::Detail(D::Window)),
    (
        Frame::Baseline,
        b"dataPointCount",
        Slot::Detail(D::DataPoints),
    ),
    (
        Frame::Baseline,
        b"averageIntensity",
        Slot::Detail(D::AverageIntensity),
    ),
    (
        Frame::Baseline,
        b"baselineValence",
        Slot::Detail(D::BaselineValence),
    ),
    (
        Frame::Baseline,
        b"baselineArousal",
        Slot::Detail(D::BaselineArousal),
    ),
    (
        Frame::Baseline,
        b"emotionalVolatility",
        Slot::Detail(D::Volatility),
    ),
    (
        Frame::Baseline,
        b"averageWonderIndex",
        Slot::Detail(D::AverageWonder),
    ),
    (
        Frame::Baseline,
        b"breakthroughCount",
        Slot::Detail(D::Breakthroughs),
    ),
    (Frame::Trend, b"direction", Slot::Detail(D::Direction)),
    (Frame::Trend, b"valenceTrend", Slot::Detail(D::ValenceTrend)),
    (
        Frame::Trend,
        b"intensityTrend",
        Slot::Detail(D::IntensityTrend),
    ),
    (Frame::Trend, b"wonderTrend", Slot::Detail(D::WonderTrend)),
    (
        Frame::Trend,
        b"breakthroughRate",
        Slot::Detail(D::BreakthroughRate),
    ),
    (
        Frame::Baseline,
        b"averageComplexity",
        Slot::Detail(D::AverageComplexity),
    ),
    (
        Frame::Baseline,
        b"dominantEmotions",
        Slot::Open(Frame::Dominant),
    ),
    (Frame::Mode, b"mode", Slot::Detail(D::Mode)),
    (Frame::Mode, b"confidence", Slot::Detail(D::ModeConfidence)),
    (Frame::Mode, b"crisisDetected", Slot::Detail(D::Crisis)),
    (
        Frame::Usage,
        b"analyse_token_details",
        Slot::Open(Frame::UsageDetails),
    ),
    (
        Frame::UsageDetails,
        b"cached_tokens",
        Slot::Detail(D::CachedTokens),
    ),
    (
        Frame::UsageDetails,
        b"audio_tokens",
        Slot::Detail(D::AudioTokens),
    ),
    (Frame::Item, b"hostilityState", Slot::Open(Frame::Hostility)),
    (Frame::Hostility, b"level", Slot::Field(F::HostilityLevel)),
    (Frame::Hostility, b"score", Slot::Field(F::HostilityScore)),
    (
        Frame::Hostility,
        b"escalationCount",
        Slot::Field(F::Escalations),
    ),
    (
        Frame::Hostility,
        b"lastEscalation",
        Slot::Field(F::LastEscalation),
    ),
    (
        Frame::Hostility,
        b"deEscalationDetected",
        Slot::Field(F::DeEscalation),
    ),
    (
        Frame::Hostility,
        b"recommendedResponse",
        Slot::Field(F::Recommended),
    ),
];

/// Keys of every chat choice (feature `choices`).
#[cfg(feature = "choices")]
const CHOICE_KEYS: &[Row] = &[(Frame::Message, b"role", Slot::Field(F::ChoiceRole))];

/// Keys of `trajectory.breakthrough` and `trajectory.similarMoments` (feature `trajectory`).
#[cfg(feature = "trajectory")]
const TRAJECTORY_KEYS: &[Row] = &[
    (
        Frame::Trajectory,
        b"breakthrough",
        Slot::Open(Frame::Breakthrough),
    ),
    (
        Frame::Trajectory,
        b"similarMoments",
        Slot::Open(Frame::SimilarMoments),
    ),
    (
        Frame::Breakthrough,
        b"detected",
        Slot::Detail(D::BreakthroughDetected),
    ),
    (
        Frame::Breakthrough,
        b"type",
        Slot::Detail(D::BreakthroughType),
    ),
    (
        Frame::Breakthrough,
        b"significance",
        Slot::Detail(D::Significance),
    ),
    (Frame::Trajectory, b"momentum", Slot::Open(Frame::Momentum)),
    (
        Frame::Momentum,
        b"currentEmotion",
        Slot::Detail(D::MomentumEmotion),
    ),
    (
        Frame::Momentum,
        b"currentIntensity",
        Slot::Detail(D::MomentumIntensity),
    ),
    (
        Frame::Momentum,
        b"currentWonder",
        Slot::Detail(D::MomentumWonder),
    ),
    (
        Frame::Momentum,
        b"trajectory",
        Slot::Detail(D::MomentumDirection),
    ),
    (Frame::Momentum, b"momentum", Slot::Detail(D::MomentumValue)),
    (
        Frame::Momentum,
        b"averageIntensity",
        Slot::Detail(D::MomentumAverageIntensity),
    ),
    (
        Frame::Momentum,
        b"averageWonder",
        Slot::Detail(D::MomentumAverageWonder),
    ),
    (
        Frame::Momentum,
        b"averageValence",
        Slot::Detail(D::MomentumAverageValence),
    ),
    (
        Frame::Momentum,
        b"emotionalVolatility",
        Slot::Detail(D::MomentumVolatility),
    ),
    (
        Frame::Momentum,
        b"discoveryPotential",
        Slot::Detail(D::MomentumPotential),
    ),
    (
        Frame::Momentum,
        b"windowHours",
        Slot::Detail(D::MomentumHours),
    ),
    (
        Frame::Momentum,
        b"dataPointCount",
        Slot::Detail(D::MomentumPoints),
    ),
    (
        Frame::SimilarMoments,
        b"moments",
        Slot::Open(Frame::List(Kind::Moment)),
    ),
    (
        Frame::SimilarMoments,
        b"patterns",
        Slot::Open(Frame::List(Kind::MomentPattern)),
    ),
    (
        Frame::SimilarMoments,
        b"insights",
        Slot::Detail(D::Insights),
    ),
    (MOMENT, b"memoryId", Slot::Field(F::MemoryId)),
    (MOMENT, b"similarity", Slot::Field(F::Similarity)),
    (MOMENT, b"emotion", Slot::Field(F::MomentEmotion)),
    (MOMENT, b"intensity", Slot::Field(F::MomentIntensity)),
    (MOMENT, b"timestamp", Slot::Field(F::Timestamp)),
    (MOMENT, b"context", Slot::Field(F::MomentContext)),
    (MOMENT, b"tags", Slot::Open(Frame::Entries)),
    (MOMENT_PATTERN, b"patternId", Slot::Field(F::PatternId)),
    (MOMENT_PATTERN, b"patternType", Slot::Field(F::PatternType)),
    (MOMENT_PATTERN, b"name", Slot::Field(F::Name)),
    (MOMENT_PATTERN, b"frequency", Slot::Field(F::Frequency)),
    (MOMENT_PATTERN, b"confidence", Slot::Field(F::Confidence)),
    (
        MOMENT_PATTERN,
        b"emotionalSequence",
        Slot::Open(Frame::Entries),
    ),
];
#[cfg(feature = "trajectory")]
const MOMENT: Frame = Frame::Element(Kind::Moment);
#[cfg(feature = "trajectory")]
const MOMENT_PATTERN: Frame = Frame::Element(Kind::MomentPattern);

/// Keys of `patterns` (feature `patterns`).
#[cfg(feature = "patterns")]
const PATTERN_KEYS: &[Row] = &[
    (Frame::Root, b"patterns", Slot::Open(Frame::Patterns)),
    (
        Frame::Patterns,
        b"detected",
        Slot::Open(Frame::List(Kind::Pattern)),
    ),
    (
        Frame::Patterns,
        b"activePatterns",
        Slot::Open(Frame::ActivePatterns),
    ),
    (
        Frame::Patterns,
        b"patternSummary",
        Slot::Detail(D::PatternSummary),
    ),
    (PATTERN, b"patternId", Slot::Field(F::PatternId)),
    (PATTERN, b"patternType", Slot::Field(F::PatternType)),
    (PATTERN, b"name", Slot::Field(F::Name)),
    (PATTERN, b"description", Slot::Field(F::Description)),
    (PATTERN, b"trigger", Slot::Field(F::Trigger)),
    (PATTERN, b"emotionalSequence", Slot::Open(Frame::Entries)),
    (PATTERN, b"frequency", Slot::Field(F::Frequency)),
    (PATTERN, b"confidence", Slot::Field(F::Confidence)),
    (PATTERN, b"lastOccurrence", Slot::Field(F::LastOccurrence)),
    (PATTERN, b"firstDetected", Slot::Field(F::FirstDetected)),
    (PATTERN, b"typicalDuration", Slot::Field(F::TypicalDuration)),
    (
        PATTERN,
        b"typicalIntensity",
        Slot::Field(F::TypicalIntensity),
    ),
];
#[cfg(feature = "patterns")]
const PATTERN: Frame = Frame::Element(Kind::Pattern);

/// Keys of `growth` (feature `growth`).
#[cfg(feature = "growth")]
const GROWTH_KEYS: &[Row] = &[
    (Frame::Root, b"growth", Slot::Open(Frame::Growth)),
    (
        Frame::Growth,
        b"comparisonWindow",
        Slot::Open(Frame::Comparison),
    ),
    (Frame::Comparison, b"recent", Slot::Open(Frame::Recent)),
    (
        Frame::Comparison,
        b"historical",
        Slot::Open(Frame::Historical),
    ),
    (Frame::Recent, b"start", Slot::Detail(D::RecentStart)),
    (Frame::Recent, b"end", Slot::Detail(D::RecentEnd)),
    (Frame::Recent, b"dataPoints", Slot::Detail(D::RecentPoints)),
    (
        Frame::Historical,
        b"start",
        Slot::Detail(D::HistoricalStart),
    ),
    (Frame::Historical, b"end", Slot::Detail(D::HistoricalEnd)),
    (
        Frame::Historical,
        b"dataPoints",
        Slot::Detail(D::HistoricalPoints),
    ),
    (
        Frame::Growth,
        b"dimensions",
        Slot::Open(Frame::List(Kind::Dimension)),
    ),
    (
        Frame::Growth,
        b"overallGrowthScore",
        Slot::Detail(D::OverallGrowth),
    ),
    (
        Frame::Growth,
        b"dimensionsGrowing",
        Slot::Detail(D::DimensionsGrowing),
    ),
    (
        Frame::Growth,
        b"dimensionsDecline",
        Slot::Detail(D::DimensionsDeclining),
    ),
    (Frame::Growth, b"summary", Slot::Detail(D::GrowthSummary)),
    (DIMENSION, b"dimension", Slot::Field(F::DimensionName)),
    (
        DIMENSION,
        b"percentageChange",
        Slot::Field(F::PercentageChange),
    ),
    (DIMENSION, b"recentValue", Slot::Field(F::RecentValue)),
    (
        DIMENSION,
        b"historicalValue",
        Slot::Field(F::HistoricalValue),
    ),
    (DIMENSION, b"threshold", Slot::Field(F::Threshold)),
    (DIMENSION, b"isGrowing", Slot::Field(F::IsGrowing)),
    (DIMENSION, b"description", Slot::Field(F::Description)),
];
#[cfg(feature = "growth")]
const DIMENSION: Frame = Frame::Element(Kind::Dimension);

/// Keys of `beliefs` (feature `beliefs`).
#[cfg(feature = "beliefs")]
const BELIEF_KEYS: &[Row] = &[
    (Frame::Root, b"beliefs", Slot::Open(Frame::Beliefs)),
    (
        Frame::Beliefs,
        b"beliefs",
        Slot::Open(Frame::List(Kind::Belief)),
    ),
    (
        Frame::Beliefs,
        b"totalBeliefs",
        Slot::Detail(D::TotalBeliefs),
    ),
    (Frame::Beliefs, b"summary", Slot::Detail(D::BeliefSummary)),
    (
        Frame::Beliefs,
        b"beliefsByType",
        Slot::Open(Frame::BeliefsByType),
    ),
    (
        Frame::BeliefsByType,
        b"explicit",
        Slot::Detail(D::ExplicitBeliefs),
    ),
    (
        Frame::BeliefsByType,
        b"identity",
        Slot::Detail(D::IdentityBeliefs),
    ),
    (
        Frame::BeliefsByType,
        b"value",
        Slot::Detail(D::ValueBeliefs),
    ),
    (
        Frame::BeliefsByType,
        b"purpose",
        Slot::Detail(D::PurposeBeliefs),
    ),
    (BELIEF, b"type", Slot::Field(F::BeliefType)),
    (BELIEF, b"content", Slot::Field(F::BeliefContent)),
    (BELIEF, b"confidence", Slot::Field(F::Confidence)),
    (BELIEF, b"rawMatch", Slot::Field(F::RawMatch)),
];
#[cfg(feature = "beliefs")]
const BELIEF: Frame = Frame::Element(Kind::Belief);

/// Keys of the rest of `conversationMode` (feature `conversation`).
#[cfg(feature = "conversation")]
const CONVERSATION_KEYS: &[Row] = &[
    (Frame::Mode, b"reasoning", Slot::Detail(D::Reasoning)),
    (
        Frame::Mode,
        b"responseStrategy",
        Slot::Open(Frame::Strategy),
    ),
    (
        Frame::Mode,
        b"personalityMode",
        Slot::Detail(D::PersonalityMode),
    ),
    (
        Frame::Mode,
        b"personalityConfidence",
        Slot::Detail(D::PersonalityConfidence),
    ),
    (
        Frame::Mode,
        b"responseGuidance",
        Slot::Open(Frame::Guidance),
    ),
    (Frame::Strategy, b"tone", Slot::Detail(D::StrategyTone)),
    (Frame::Strategy, b"focus", Slot::Detail(D::StrategyFocus)),
    (
        Frame::Strategy,
        b"actionables",
        Slot::Open(Frame::Strings(D::Actionable)),
    ),
    (Frame::Guidance, b"tone", Slot::Detail(D::GuidanceTone)),
    (Frame::Guidance, b"focus", Slot::Detail(D::GuidanceFocus)),
    (
        Frame::Guidance,
        b"speechPatterns",
        Slot::Open(Frame::Strings(D::SpeechPattern)),
    ),
    (
        Frame::Guidance,
        b"prohibitions",
        Slot::Open(Frame::Strings(D::Prohibition)),
    ),
    (
        Frame::Guidance,
        b"exampleResponses",
        Slot::Open(Frame::Strings(D::ExampleResponse)),
    ),
];

#[cfg(not(feature = "fast"))]
/// Every table the enabled features bring, the core's first.
static TABLES: &[Table] = &[
    packed!(KEYS),
    #[cfg(feature = "details")]
    packed!(DETAIL_KEYS),
    #[cfg(feature = "choices")]
    packed!(CHOICE_KEYS),
    #[cfg(feature = "trajectory")]
    packed!(TRAJECTORY_KEYS),
    #[cfg(feature = "patterns")]
    packed!(PATTERN_KEYS),
    #[cfg(feature = "growth")]
    packed!(GROWTH_KEYS),
    #[cfg(feature = "beliefs")]
    packed!(BELIEF_KEYS),
    #[cfg(feature = "conversation")]
    packed!(CONVERSATION_KEYS),
];

/// What `key` names inside a container of kind `frame` (`Slot::Ignore`: nothing read).
#[cfg(not(feature = "fast"))]
#[inline(never)] // one search loop, not one per caller
pub(super) fn slot(frame: Frame, key: &[u8]) -> Slot {
    for table in TABLES {
        let mut at = 0;
        for &(f, len, slot) in table.rows {
            let end = at + usize::from(len);
            if f == frame && table.keys.get(at..end) == Some(key) {
                return slot;
            }
            at = end;
        }
    }
    Slot::Ignore
}

/// Every table the enabled features bring, as written.
#[cfg(any(test, feature = "fast"))]
const ROW_SETS: &[&[Row]] = &[
    KEYS,
    #[cfg(feature = "details")]
    DETAIL_KEYS,
    #[cfg(feature = "choices")]
    CHOICE_KEYS,
    #[cfg(feature = "trajectory")]
    TRAJECTORY_KEYS,
    #[cfg(feature = "patterns")]
    PATTERN_KEYS,
    #[cfg(feature = "growth")]
    GROWTH_KEYS,
    #[cfg(feature = "beliefs")]
    BELIEF_KEYS,
    #[cfg(feature = "conversation")]
    CONVERSATION_KEYS,
];

/// How many rows [`ROW_SETS`] holds.
#[cfg(feature = "fast")]
const ROW_COUNT: usize = {
    let mut total = 0;
    let mut i = 0;
    while i < ROW_SETS.len() {
        total += ROW_SETS[i].len();
        i += 1;
    }
    total
};

/// The rows of [`ROW_SETS`] one after the other.
#[cfg(feature = "fast")]
static ROWS: [(Frame, Slot); ROW_COUNT] = {
    let mut out = [(Frame::Root, Slot::Ignore); ROW_COUNT];
    let mut at = 0;
    let mut i = 0;
    while i < ROW_SETS.len() {
        let mut j = 0;
        while j < ROW_SETS[i].len() {
            let (frame, _, slot) = ROW_SETS[i][j];
            out[at] = (frame, slot);
            at += 1;
            j += 1;
        }
        i += 1;
    }
    out
};

/// The keys of [`ROWS`], hashed.
#[cfg(feature = "fast")]
static KEY_INDEX: NameIndex<ROW_COUNT, { buckets_for(ROW_COUNT) }> = {
    let mut keys: [&'static [u8]; ROW_COUNT] = [&[]; ROW_COUNT];
    let mut at = 0;
    let mut i = 0;
    while i < ROW_SETS.len() {
        let mut j = 0;
        while j < ROW_SETS[i].len() {
            keys[at] = ROW_SETS[i][j].1;
            at += 1;
            j += 1;
        }
        i += 1;
    }
    NameIndex::new(&keys)
};

/// What `key` names inside a container of kind `frame` (`Slot::Ignore`: nothing read): the
/// first row of that frame among the rows with that key.
#[cfg(feature = "fast")]
pub(super) fn slot(frame: Frame, key: &[u8]) -> Slot {
    // The frame first: one key is a row of several frames, and a byte compares faster
    // than a name.
    for (name, i) in KEY_INDEX.candidates(key) {
        if let Some(&(f, slot)) = ROWS.get(i)
            && f == frame
            && same(name, key)
        {
            return slot;
        }
    }
    Slot::Ignore
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every key finds the first row of its frame, whichever search is compiled; keys that
    /// differ by a byte, a length or a frame find nothing.
    #[test]
    fn every_row_is_found_and_nothing_else() {
        let rows = || ROW_SETS.iter().flat_map(|set| set.iter().copied());
        for (frame, key, _) in rows() {
            let first = rows().find(|&(f, k, _)| f == frame && k == key);
            assert_eq!(Some(slot(frame, key)), first.map(|r| r.2), "{:?}", key);
            let mut changed = key.to_vec();
            for at in [0, key.len() / 2, key.len() - 1] {
                changed[at] ^= 0x20;
                let found = slot(frame, &changed);
                assert!(
                    found == Slot::Ignore || rows().any(|(f, k, _)| f == frame && k == changed),
                    "{:?}",
                    changed
                );
                changed[at] ^= 0x20;
            }
            let short = &key[..key.len() - 1];
            let first = rows().find(|&(f, k, _)| f == frame && k == short);
            assert_eq!(slot(frame, short), first.map_or(Slot::Ignore, |r| r.2));
            assert_eq!(slot(Frame::Raw, key), Slot::Ignore);
        }
        assert_eq!(slot(Frame::Root, b""), Slot::Ignore);
    }
}
