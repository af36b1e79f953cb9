//! Which key of which container the success-body decoder reads, as data: one table row per
//! key, searched in order. A table costs a few bytes of flash per key where a `match` on byte
//! strings costs a compare chain of code per key.

#[cfg(feature = "details")]
use super::Detail as D;
use super::{Count, Frame, Slot};

type Row = (Frame, &'static [u8], Slot);

/// Keys of the values every firmware needs: emotion items, completion text, the summary.
static KEYS: &[Row] = &[
    (Frame::Root, b"object", Slot::Object),
    (Frame::Root, b"model", Slot::Model),
    (Frame::Root, b"id", Slot::Id),
    (Frame::Root, b"context_id", Slot::ContextId),
    (Frame::Root, b"metadata", Slot::Metadata),
    (Frame::Root, b"usage", Slot::Usage),
    (Frame::Root, b"choices", Slot::Choices),
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
    (Frame::Choice, b"message", Slot::Message),
    (Frame::Choice, b"delta", Slot::Message),
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
    (Frame::Item, b"raw", Slot::Raw),
];

/// Keys of [`Details`](super::Details).
#[cfg(feature = "details")]
static DETAIL_KEYS: &[Row] = &[
    (Frame::Root, b"trajectory", Slot::Trajectory),
    (Frame::Root, b"conversationMode", Slot::Mode),
    (Frame::Trajectory, b"baseline", Slot::Baseline),
    (Frame::Trajectory, b"trend", Slot::Trend),
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
    (Frame::Mode, b"mode", Slot::Detail(D::Mode)),
    (Frame::Mode, b"confidence", Slot::Detail(D::ModeConfidence)),
    (Frame::Mode, b"crisisDetected", Slot::Detail(D::Crisis)),
];

/// What `key` names inside a container of kind `frame` (`Slot::Ignore`: nothing read).
pub(super) fn slot(frame: Frame, key: &[u8]) -> Slot {
    #[cfg(feature = "details")]
    let rows = KEYS.iter().chain(DETAIL_KEYS);
    #[cfg(not(feature = "details"))]
    let rows = KEYS.iter();
    for &(f, k, slot) in rows {
        if f == frame && k == key {
            return slot;
        }
    }
    Slot::Ignore
}
