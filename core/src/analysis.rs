//! Success bodies: emotion items (spec §3.2) and chat completions (spec §3.8), decoded
//! incrementally into fixed-size values.
//!
//! (Interface: the body parser [`SuccessParser`] is implemented below the types.)

use crate::score::Score;
use crate::text::Text;

/// Capacity of labels (roles, categories, raw-score keys, model names).
pub const LABEL_CAP: usize = 24;
/// Capacity of [`Emotion::text`].
pub const EMOTION_TEXT_CAP: usize = 64;
/// How many raw scores an [`Emotion`] keeps (the highest ones).
pub const RAW_CAP: usize = 6;
/// Capacity of one [`Chunk`] of completion text.
pub const CHUNK_CAP: usize = 64;

/// A short label such as a role or an emotion category.
pub type Label = Text<LABEL_CAP>;

/// `intensityLevel` (spec §3.2); open set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[allow(missing_docs)]
pub enum IntensityLevel {
    Critical,
    High,
    Moderate,
    Subtle,
    Minimal,
    /// A value this client does not know, as sent.
    Other(Label),
}

/// `complexity` (spec §3.2); open set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[allow(missing_docs)]
pub enum Complexity {
    Simple,
    Layered,
    Paradoxical,
    Transcendent,
    /// A value this client does not know, as sent.
    Other(Label),
}

/// `discoveryLevel` (spec §3.2); open set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[allow(missing_docs)]
pub enum DiscoveryLevel {
    Routine,
    Normal,
    Significant,
    Breakthrough,
    Transcendent,
    /// A value this client does not know, as sent.
    Other(Label),
}

/// One emotion item (`EmotionItemV2`). Every field is optional on the wire (spec §3.2).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Emotion {
    /// The key of the `emotions` map (`user`, `_default`, `system`, …); empty for array items.
    pub role: Label,
    /// Position in an `emotions` array (batch responses); 0 for map entries.
    pub index: u16,
    /// Dominant category, e.g. `fear`.
    pub category: Label,
    /// `text` (echo or descriptor, see spec open question 3), truncated.
    pub text: Text<EMOTION_TEXT_CAP>,
    /// 0.0–1.0.
    pub intensity: Option<Score>,
    /// `intensityLevel`.
    pub intensity_level: Option<IntensityLevel>,
    /// −1.0–1.0.
    pub valence: Option<Score>,
    /// 0.0–1.0.
    pub arousal: Option<Score>,
    /// `complexity`.
    pub complexity: Option<Complexity>,
    /// `wonderIndex`, 0.0–1.0.
    pub wonder_index: Option<Score>,
    /// `discoveryLevel`.
    pub discovery_level: Option<DiscoveryLevel>,
    /// The highest [`RAW_CAP`] entries of `raw`, highest first.
    pub raw: heapless::Vec<(Label, Score), RAW_CAP>,
    /// `raw` had more entries than were kept.
    pub raw_truncated: bool,
}

/// A piece of completion text (`choices[0].message.content`, or a streamed delta).
/// Chunks are cut every [`CHUNK_CAP`] bytes, so a UTF-8 character may straddle two chunks.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Chunk {
    /// The bytes.
    pub bytes: heapless::Vec<u8, CHUNK_CAP>,
}

/// Token usage, under whichever name the server used (spec open question 9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Usage {
    /// `prompt_tokens`.
    pub prompt_tokens: Option<u32>,
    /// `completion_tokens`.
    pub completion_tokens: Option<u32>,
    /// `total_tokens`.
    pub total_tokens: Option<u32>,
    /// `analyse_tokens`, `analyse_token` or `analyseToken`.
    pub analyse_tokens: Option<u32>,
}

/// The top-level facts of a success body, known once the body ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Summary {
    /// `object`, e.g. `emotions.analysis`, `emotions.state`, `chat.completion`.
    pub object: Label,
    /// `model`.
    pub model: Label,
    /// `id` of a chat completion.
    pub id: Text<40>,
    /// `choices[0].finish_reason`.
    pub finish_reason: Label,
    /// `context_id` (top level or `metadata.context_id`).
    pub context_id: Text<128>,
    /// Token usage.
    pub usage: Usage,
    /// How many emotion items were delivered.
    pub emotions: u16,
}

/// Something a success body yielded while it was being read.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Output {
    /// One complete emotion item.
    Emotion(Emotion),
    /// A piece of completion text.
    Content(Chunk),
}
