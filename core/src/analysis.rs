//! Success bodies: emotion items (spec §3.2) and chat completions (spec §3.8), decoded
//! incrementally into fixed-size values.
//!
//! [`SuccessParser`] reads every success body of spec §3 without knowing the endpoint:
//!
//! - `emotions` as an object keyed by role (`user`, `_default`, `system`, `assistant`, …) or
//!   as an array (batch, spec §3.7): one [`Output::Emotion`] per item, when the item closes;
//! - `choices[0].message.content` / `choices[0].delta.content` (spec §3.8):
//!   [`Output::Content`] pieces of at most [`CHUNK_CAP`] bytes that never split a UTF-8
//!   character, cut only by the content itself, so they do not depend on how the body was
//!   split (bytes that are not UTF-8 are dropped);
//! - `object`, `model`, `id`, `context_id` / `metadata.context_id`,
//!   `choices[0].finish_reason` and `usage.*` go into the [`Summary`].
//!
//! Cargo features decode more, each paying its own flash:
//!
//! - `details`: the facts beside the items into `Summary::details` (trajectory baseline and
//!   trend, `conversationMode`, `isFallback`, `dataQuality`, `created`, `emotion_model`,
//!   `context_message_count`, ids, usage token details) and each item's `hostilityState`;
//! - `choices`: every chat choice that finished, as `Output::Choice`;
//! - `trajectory`, `growth`, `beliefs`, `patterns`: the elements of their arrays, one
//!   [`Output`] per element when it closes, and the rest of their object in
//!   `Summary::details`;
//! - `conversation`: the rest of `conversationMode` (reasoning, response strategy and
//!   guidance, personality mode) in `Summary::details`, its string lists counted and their
//!   first entries kept.
//!
//! An array element is built in the one slot emotion items use, so a list of any length costs
//! the size of one element. Everything not decoded is skipped as it streams past, at the cost
//! of the scanner alone.

#[cfg(feature = "details")]
mod details;
mod elements;
mod keys;
#[cfg(feature = "fast")]
mod lookup;

#[cfg(feature = "patterns")]
pub use details::Patterns;
#[cfg(feature = "details")]
pub use details::{Baseline, ConversationMode, Details, Trend};
#[cfg(feature = "beliefs")]
pub use details::{Beliefs, BeliefsByType};
#[cfg(feature = "growth")]
pub use details::{Growth, GrowthWindow};
#[cfg(feature = "trajectory")]
pub use details::{Momentum, TrajectoryExtras};
#[cfg(feature = "conversation")]
pub use details::{ResponseGuidance, ResponseStrategy, StringList};

#[cfg(feature = "beliefs")]
pub use elements::Belief;
#[cfg(feature = "choices")]
pub use elements::Choice;
#[cfg(feature = "growth")]
pub use elements::Dimension;
#[cfg(feature = "details")]
pub use elements::Hostility;
#[cfg(feature = "trajectory")]
pub use elements::Moment;
#[cfg(any(feature = "trajectory", feature = "patterns"))]
pub use elements::Pattern;
#[cfg(feature = "details")]
pub use elements::Timestamp;
pub use elements::{DESCRIPTION_CAP, ID_CAP, TIMESTAMP_CAP};

use elements::Element;
#[cfg(any(feature = "choices", feature = "details"))]
use elements::Field;
#[cfg(any(
    feature = "trajectory",
    feature = "patterns",
    feature = "growth",
    feature = "beliefs"
))]
use elements::Kind;

#[cfg(feature = "fast")]
use crate::json::Piece;
use crate::json::{JsonError, Scanner, Token};
use crate::score::Score;
use crate::text::{AnyText, Text};

/// Capacity of labels (roles, categories, raw-score keys, model names).
pub const LABEL_CAP: usize = 24;
/// Capacity of model names ([`Summary::model`]).
pub const MODEL_CAP: usize = 48;
/// Capacity of [`Emotion::text`].
pub const EMOTION_TEXT_CAP: usize = 64;
/// How many raw scores an [`Emotion`] keeps (the highest ones).
pub const RAW_CAP: usize = 6;
/// Largest piece of completion text handed out at once.
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

/// `conversationMode.personalityMode` (spec §3.4, feature `conversation`); open set.
#[cfg(feature = "conversation")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[allow(missing_docs)]
pub enum PersonalityMode {
    Core,
    Therapeutic,
    Crisis,
    Coaching,
    Conversational,
    Minimal,
    Analytical,
    /// A value this client does not know, as sent.
    Other(Label),
}

/// An emotion label (`category`, and the keys of `raw`): an open set (spec §3.2), the
/// GoEmotions labels the backend uses plus `calm`, anything else kept as sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[allow(missing_docs)]
#[non_exhaustive]
pub enum Category {
    Admiration,
    Amusement,
    Anger,
    Annoyance,
    Approval,
    Calm,
    Caring,
    Confusion,
    Curiosity,
    Desire,
    Disappointment,
    Disapproval,
    Disgust,
    Embarrassment,
    Excitement,
    Fear,
    Gratitude,
    Grief,
    Joy,
    Love,
    Nervousness,
    Neutral,
    Optimism,
    Pride,
    Realization,
    Relief,
    Remorse,
    Sadness,
    Surprise,
    /// A label this client does not know, as sent.
    Other(Label),
}

/// The highest [`RAW_CAP`] entries of an item's `raw` scores, highest first.
///
/// Stored compactly: a known category takes one byte (its position in
/// [`Category::NAMES`]), a score four. An entry whose category this version does not know
/// is not kept; [`RawScores::is_truncated`] then says that `raw` had more.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RawScores {
    categories: [u8; RAW_CAP],
    scores: [Score; RAW_CAP],
    len: u8,
    truncated: bool,
}

impl RawScores {
    /// The kept entries, highest score first (equal scores in arrival order).
    pub fn iter(&self) -> impl Iterator<Item = (Category, Score)> + '_ {
        self.categories
            .iter()
            .zip(self.scores.iter())
            .take(usize::from(self.len))
            .filter_map(|(&c, &s)| Some((Category::from_position(usize::from(c))?, s)))
    }

    /// How many entries are kept.
    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    /// `true` when the item had no raw scores.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// `raw` had more entries than were kept.
    pub fn is_truncated(&self) -> bool {
        self.truncated
    }

    /// The score of `category`, if it was kept.
    pub fn get(&self, category: Category) -> Option<Score> {
        self.iter().find(|(c, _)| *c == category).map(|(_, s)| s)
    }

    /// Adds an entry, keeping the [`RAW_CAP`] highest (an unknown category is counted as
    /// truncation, not kept).
    pub fn add(&mut self, category: Category, score: Score) {
        self.add_known(category.known_position().map(|i| i as u8), score);
    }

    /// [`RawScores::add`] for a category given by its position in [`Category::NAMES`]
    /// (`None`: not one this version knows).
    // Out of line on the firmware path: 8 B less flash than pasted into the token loop.
    #[cfg_attr(not(feature = "fast"), inline(never))]
    fn add_known(&mut self, id: Option<u8>, score: Score) {
        let Some(id) = id.filter(|&i| usize::from(i) < Category::NAMES.len()) else {
            self.truncated = true;
            return;
        };
        let len = usize::from(self.len);
        // Every kept id is a known position: the scores alone give the place, without
        // turning the ids back into categories.
        let pos = (self.scores.iter().take(len))
            .take_while(|&&s| score <= s)
            .count();
        if len == RAW_CAP {
            self.truncated = true;
            if pos >= RAW_CAP {
                return;
            }
        } else {
            self.len += 1;
        }
        // Shift the lower entries down by one (the last falls off when full), then place.
        // A plain loop over six entries: `rotate_right` would link a 1.5 KB `memmove`.
        let mut i = RAW_CAP - 1;
        while i > pos {
            if let (Some(&c), Some(&s)) = (self.categories.get(i - 1), self.scores.get(i - 1)) {
                if let Some(slot) = self.categories.get_mut(i) {
                    *slot = c;
                }
                if let Some(slot) = self.scores.get_mut(i) {
                    *slot = s;
                }
            }
            i -= 1;
        }
        if let Some(slot) = self.categories.get_mut(pos) {
            *slot = id;
        }
        if let Some(slot) = self.scores.get_mut(pos) {
            *slot = score;
        }
    }
}

/// One emotion item (`EmotionItemV2`). Every field is optional on the wire (spec §3.2).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Emotion {
    /// The key of the `emotions` map (`user`, `_default`, `system`, …); empty for array items.
    pub role: Label,
    /// Position in an `emotions` array (batch responses); 0 for map entries.
    pub index: u16,
    /// Dominant category, e.g. [`Category::Fear`].
    pub category: Option<Category>,
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
    /// The highest [`RAW_CAP`] entries of `raw`.
    pub raw: RawScores,
    /// `hostilityState` (feature `details`).
    #[cfg(feature = "details")]
    pub hostility: Option<Hostility>,
}

impl Emotion {
    /// Empties the item, in place, for the next one at `index` (keeping the role when
    /// `keep_role`): no second item is built to be copied over it.
    fn restart(&mut self, index: u16, keep_role: bool) {
        // Taken apart without `..`: a field added to `Emotion` does not compile until it is
        // emptied here too.
        let Emotion {
            role,
            index: at,
            category,
            text,
            intensity,
            intensity_level,
            valence,
            arousal,
            complexity,
            wonder_index,
            discovery_level,
            raw,
            #[cfg(feature = "details")]
            hostility,
        } = self;
        if !keep_role {
            role.clear();
        }
        *at = index;
        *category = None;
        text.clear();
        *intensity = None;
        *intensity_level = None;
        *valence = None;
        *arousal = None;
        *complexity = None;
        *wonder_index = None;
        *discovery_level = None;
        *raw = RawScores::default();
        #[cfg(feature = "details")]
        {
            *hostility = None;
        }
    }
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
    /// `model` (LLM names such as `claude-sonnet-4-5-20250929` fit).
    pub model: Text<MODEL_CAP>,
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
    /// Everything else the body said (feature `details`).
    #[cfg(feature = "details")]
    pub details: Details,
}

impl Summary {
    /// [`Summary::default`], out of line: built in the decoder's place with one clear, where
    /// built among the decoder's other fields it is cleared on the stack and copied (16 B
    /// more flash on a Cortex-M4).
    #[inline(never)]
    fn empty() -> Summary {
        Summary::default()
    }
}

/// Something a success body yielded while it was being read, borrowed from the parser
/// until it reads on.
///
/// The variants beyond `Emotion` and `Content` exist with the cargo features that decode
/// them; code that may be built with such a feature enabled elsewhere in its dependency
/// graph matches with a wildcard arm (the enum is `#[non_exhaustive]` for that reason).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Output<'a> {
    /// One complete emotion item.
    Emotion(&'a Emotion),
    /// A piece of completion text: whole UTF-8 characters, at most [`CHUNK_CAP`] bytes.
    Content(&'a str),
    /// A chat choice that finished (feature `choices`).
    #[cfg(feature = "choices")]
    Choice(&'a Choice),
    /// An element of `trajectory.similarMoments.moments` (feature `trajectory`).
    #[cfg(feature = "trajectory")]
    Moment(&'a Moment),
    /// An element of `patterns.detected` (feature `patterns`) or of
    /// `trajectory.similarMoments.patterns` (feature `trajectory`).
    #[cfg(any(feature = "trajectory", feature = "patterns"))]
    Pattern(&'a Pattern),
    /// An element of `growth.dimensions` (feature `growth`).
    #[cfg(feature = "growth")]
    Dimension(&'a Dimension),
    /// An element of `beliefs.beliefs` (feature `beliefs`).
    #[cfg(feature = "beliefs")]
    Belief(&'a Belief),
}

macro_rules! open_enum {
    ($ty:ident { $($variant:ident => $text:literal),* $(,)? }) => {
        impl $ty {
            /// The wire texts of every value this version knows, in declaration order.
            pub const NAMES: &'static [&'static str] = &[$($text),*];

            /// [`Self::NAMES`] as stored: every name's length, and the names one after the
            /// other.
            const NAME_LENS: &'static [u8] = &[$($text.len() as u8),*];
            const NAME_TEXT: &'static str = concat!($($text),*);

            /// Parses the wire text; unknown text becomes `Other`.
            pub fn parse(s: &str) -> Self {
                Self::known(s.as_bytes())
                    .unwrap_or_else(|| Self::Other(Text::from_str_truncating(s)))
            }

            /// The known value whose wire text is `name`.
            #[allow(dead_code)]
            fn known(name: &[u8]) -> Option<Self> {
                Self::position(name).and_then(Self::from_position)
            }

            /// [`Self::parse`] of a label as read.
            #[cfg(not(feature = "fast"))]
            #[allow(dead_code)]
            fn parse_label(label: &str) -> Self {
                Self::parse(label)
            }

            /// [`Self::parse`] of a label as read: a known name is found from the bytes
            /// (it is ASCII, so valid UTF-8), without checking the UTF-8 first.
            #[cfg(feature = "fast")]
            #[allow(dead_code)]
            fn parse_label(label: &Label) -> Self {
                match Self::known(label.as_bytes()) {
                    Some(known) => known,
                    None => Self::parse(label.as_str()),
                }
            }

            /// The wire text.
            pub fn as_str(&self) -> &str {
                match (self, self.known_position()) {
                    (Self::Other(t), _) => t.as_str(),
                    (_, Some(i)) => crate::packed::packed_name(Self::NAME_LENS, Self::NAME_TEXT, i),
                    (_, None) => "",
                }
            }

            /// The position in [`Self::NAMES`] of the wire text `name`.
            #[cfg(not(feature = "fast"))]
            #[allow(dead_code)]
            fn position(name: &[u8]) -> Option<usize> {
                crate::packed::packed_position(Self::NAME_LENS, Self::NAME_TEXT, name)
            }

            /// The position in [`Self::NAMES`] of the wire text `name`.
            #[cfg(feature = "fast")]
            #[allow(dead_code)]
            fn position(name: &[u8]) -> Option<usize> {
                const NAMES: &[&[u8]] = &[$($text.as_bytes()),*];
                static INDEX: lookup::NameIndex<
                    { NAMES.len() },
                    { lookup::buckets_for(NAMES.len()) },
                > = lookup::NameIndex::new(NAMES);
                INDEX.position(name)
            }

            /// The known value at position `i` of [`Self::NAMES`].
            fn from_position(i: usize) -> Option<Self> {
                #[allow(non_camel_case_types, dead_code)]
                enum Position { $($variant),* }
                $(if i == Position::$variant as usize {
                    return Some(Self::$variant);
                })*
                None
            }

            /// The position in [`Self::NAMES`] of a known value (`None` for `Other`).
            #[allow(dead_code)]
            fn known_position(&self) -> Option<usize> {
                #[allow(non_camel_case_types, dead_code)]
                enum Position { $($variant),* }
                match self {
                    $(Self::$variant => Some(Position::$variant as usize),)*
                    Self::Other(_) => None,
                }
            }
        }

        impl core::fmt::Display for $ty {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

open_enum!(Category {
    Admiration => "admiration",
    Amusement => "amusement",
    Anger => "anger",
    Annoyance => "annoyance",
    Approval => "approval",
    Calm => "calm",
    Caring => "caring",
    Confusion => "confusion",
    Curiosity => "curiosity",
    Desire => "desire",
    Disappointment => "disappointment",
    Disapproval => "disapproval",
    Disgust => "disgust",
    Embarrassment => "embarrassment",
    Excitement => "excitement",
    Fear => "fear",
    Gratitude => "gratitude",
    Grief => "grief",
    Joy => "joy",
    Love => "love",
    Nervousness => "nervousness",
    Neutral => "neutral",
    Optimism => "optimism",
    Pride => "pride",
    Realization => "realization",
    Relief => "relief",
    Remorse => "remorse",
    Sadness => "sadness",
    Surprise => "surprise",
});

open_enum!(IntensityLevel {
    Critical => "critical",
    High => "high",
    Moderate => "moderate",
    Subtle => "subtle",
    Minimal => "minimal",
});

open_enum!(Complexity {
    Simple => "simple",
    Layered => "layered",
    Paradoxical => "paradoxical",
    Transcendent => "transcendent",
});

open_enum!(DiscoveryLevel {
    Routine => "routine",
    Normal => "normal",
    Significant => "significant",
    Breakthrough => "breakthrough",
    Transcendent => "transcendent",
});

#[cfg(feature = "conversation")]
open_enum!(PersonalityMode {
    Core => "core",
    Therapeutic => "therapeutic",
    Crisis => "crisis",
    Coaching => "coaching",
    Conversational => "conversational",
    Minimal => "minimal",
    Analytical => "analytical",
});

/// The container a frame of the body stands for (only containers of interest get a frame;
/// the others are skipped).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
enum Frame {
    Root,
    Metadata,
    Usage,
    Choices,
    Choice,
    Message,
    EmotionMap,
    EmotionList,
    Item,
    Raw,
    #[cfg(feature = "details")]
    Trajectory,
    #[cfg(feature = "details")]
    Baseline,
    #[cfg(feature = "details")]
    Trend,
    #[cfg(feature = "details")]
    Mode,
    #[cfg(feature = "details")]
    UsageDetails,
    #[cfg(feature = "details")]
    Hostility,
    /// `trajectory.baseline.dominantEmotions`.
    #[cfg(feature = "details")]
    Dominant,
    #[cfg(feature = "trajectory")]
    Momentum,
    #[cfg(feature = "trajectory")]
    SimilarMoments,
    #[cfg(feature = "trajectory")]
    Breakthrough,
    #[cfg(feature = "growth")]
    Growth,
    #[cfg(feature = "growth")]
    Comparison,
    #[cfg(feature = "growth")]
    Recent,
    #[cfg(feature = "growth")]
    Historical,
    #[cfg(feature = "beliefs")]
    Beliefs,
    #[cfg(feature = "beliefs")]
    BeliefsByType,
    #[cfg(feature = "patterns")]
    Patterns,
    #[cfg(feature = "patterns")]
    ActivePatterns,
    #[cfg(feature = "conversation")]
    Strategy,
    #[cfg(feature = "conversation")]
    Guidance,
    /// An array of strings kept in a [`StringList`], each entry a value of this detail.
    #[cfg(feature = "conversation")]
    Strings(Detail),
    /// An array whose elements are handed out one by one.
    #[cfg(any(
        feature = "trajectory",
        feature = "patterns",
        feature = "growth",
        feature = "beliefs"
    ))]
    List(Kind),
    /// One element of such an array.
    #[cfg(any(
        feature = "trajectory",
        feature = "patterns",
        feature = "growth",
        feature = "beliefs"
    ))]
    Element(Kind),
    /// An array of strings kept in a text (`tags`, `emotionalSequence`, `activePatterns`).
    #[cfg(any(feature = "trajectory", feature = "patterns"))]
    Entries,
}

impl Frame {
    /// Whether this container is an object (else an array).
    fn is_object(self) -> bool {
        match self {
            Frame::Choices | Frame::EmotionList => false,
            #[cfg(any(
                feature = "trajectory",
                feature = "patterns",
                feature = "growth",
                feature = "beliefs"
            ))]
            Frame::List(_) => false,
            #[cfg(any(feature = "trajectory", feature = "patterns"))]
            Frame::Entries => false,
            #[cfg(feature = "patterns")]
            Frame::ActivePatterns => false,
            #[cfg(feature = "conversation")]
            Frame::Strings(_) => false,
            _ => true,
        }
    }
}

/// A value of [`Details`] (feature `details`).
#[cfg(feature = "details")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
enum Detail {
    Created,
    EmotionModel,
    IsFallback,
    DataQuality,
    MessageCount,
    ExternalId,
    MessageId,
    Window,
    DataPoints,
    AverageIntensity,
    BaselineValence,
    BaselineArousal,
    Volatility,
    AverageWonder,
    Breakthroughs,
    Direction,
    ValenceTrend,
    IntensityTrend,
    WonderTrend,
    BreakthroughRate,
    Mode,
    ModeConfidence,
    Crisis,
    CachedTokens,
    AudioTokens,
    AverageComplexity,
    DominantEntry,
    #[cfg(feature = "trajectory")]
    MomentumEmotion,
    #[cfg(feature = "trajectory")]
    MomentumIntensity,
    #[cfg(feature = "trajectory")]
    MomentumWonder,
    #[cfg(feature = "trajectory")]
    MomentumDirection,
    #[cfg(feature = "trajectory")]
    MomentumValue,
    #[cfg(feature = "trajectory")]
    MomentumAverageIntensity,
    #[cfg(feature = "trajectory")]
    MomentumAverageWonder,
    #[cfg(feature = "trajectory")]
    MomentumAverageValence,
    #[cfg(feature = "trajectory")]
    MomentumVolatility,
    #[cfg(feature = "trajectory")]
    MomentumPotential,
    #[cfg(feature = "trajectory")]
    MomentumHours,
    #[cfg(feature = "trajectory")]
    MomentumPoints,
    #[cfg(feature = "trajectory")]
    BreakthroughDetected,
    #[cfg(feature = "trajectory")]
    BreakthroughType,
    #[cfg(feature = "trajectory")]
    Significance,
    #[cfg(feature = "trajectory")]
    Insights,
    #[cfg(feature = "growth")]
    RecentStart,
    #[cfg(feature = "growth")]
    RecentEnd,
    #[cfg(feature = "growth")]
    RecentPoints,
    #[cfg(feature = "growth")]
    HistoricalStart,
    #[cfg(feature = "growth")]
    HistoricalEnd,
    #[cfg(feature = "growth")]
    HistoricalPoints,
    #[cfg(feature = "growth")]
    OverallGrowth,
    #[cfg(feature = "growth")]
    DimensionsGrowing,
    #[cfg(feature = "growth")]
    DimensionsDeclining,
    #[cfg(feature = "growth")]
    GrowthSummary,
    #[cfg(feature = "beliefs")]
    TotalBeliefs,
    #[cfg(feature = "beliefs")]
    BeliefSummary,
    #[cfg(feature = "beliefs")]
    ExplicitBeliefs,
    #[cfg(feature = "beliefs")]
    IdentityBeliefs,
    #[cfg(feature = "beliefs")]
    ValueBeliefs,
    #[cfg(feature = "beliefs")]
    PurposeBeliefs,
    #[cfg(feature = "patterns")]
    PatternSummary,
    #[cfg(feature = "patterns")]
    ActivePattern,
    #[cfg(feature = "conversation")]
    Reasoning,
    #[cfg(feature = "conversation")]
    PersonalityMode,
    #[cfg(feature = "conversation")]
    PersonalityConfidence,
    #[cfg(feature = "conversation")]
    StrategyTone,
    #[cfg(feature = "conversation")]
    StrategyFocus,
    #[cfg(feature = "conversation")]
    Actionable,
    #[cfg(feature = "conversation")]
    GuidanceTone,
    #[cfg(feature = "conversation")]
    GuidanceFocus,
    #[cfg(feature = "conversation")]
    SpeechPattern,
    #[cfg(feature = "conversation")]
    Prohibition,
    #[cfg(feature = "conversation")]
    ExampleResponse,
}

/// `usage` counters (all spellings of spec open question 9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
enum Count {
    Prompt,
    Completion,
    Total,
    Analyse,
}

/// What the value being read is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
enum Slot {
    Ignore,
    Object,
    Model,
    Id,
    ContextId,
    MetaContextId,
    Count(Count),
    FinishReason,
    Content,
    Emotions,
    /// An emotion item; `index` for array items (the role is in `Decoder::role`).
    Item(u16),
    Text,
    Category,
    Intensity,
    IntensityLevel,
    Valence,
    Arousal,
    Complexity,
    WonderIndex,
    DiscoveryLevel,
    RawEntry,
    #[cfg(feature = "details")]
    Detail(Detail),
    /// The value opens a container of this kind (the top-level value: the root object).
    Open(Frame),
    /// An element of a [`Frame::List`], by its index.
    #[cfg(any(
        feature = "trajectory",
        feature = "patterns",
        feature = "growth",
        feature = "beliefs"
    ))]
    Element(Kind, u16),
    /// A value of the element being read.
    #[cfg(any(feature = "choices", feature = "details"))]
    Field(Field),
}

/// Deepest container of interest: root → choices → choice → message, root → emotions →
/// item → raw (→ `hostilityState` and its siblings with `details`; root → trajectory →
/// similarMoments → moments → moment → tags with `trajectory`).
#[cfg(not(any(feature = "trajectory", feature = "patterns")))]
const FRAMES: usize = 4;
/// root → patterns → detected → pattern → emotionalSequence.
#[cfg(all(feature = "patterns", not(feature = "trajectory")))]
const FRAMES: usize = 5;
#[cfg(feature = "trajectory")]
const FRAMES: usize = 6;
/// Largest decoded piece of one escape (see `json`), kept over when a chunk fills mid-piece.
const CARRY_CAP: usize = 8;

/// Everything of [`SuccessParser`] but the scanner (so tokens borrowing the scanner can be
/// handled while it is borrowed). In declaration order (`repr(C)`): the small fields read on
/// every token first, where the short load and store forms reach them, and the 4-aligned
/// ones last, so the only padding is before them, whatever `FRAMES` is.
#[derive(Debug, Clone, PartialEq, Eq)]
#[repr(C)]
struct Decoder {
    index: [u16; FRAMES],
    /// What the next value is for (set by a key).
    slot: Slot,
    /// The string value being read and what it is for.
    string: Option<Slot>,
    /// Open containers (equal to the scanner's depth).
    depth: u8,
    /// A value nobody reads is being skipped (by the scanner, without tokens): the value
    /// after an ignored key, or a container just opened; the depth outside it.
    skip: Option<u8>,
    /// Whether `context_id` came from the top level (it wins over `metadata.context_id`).
    top_context: bool,
    /// The known category (position in [`Category::NAMES`]) of the `raw` key just read.
    raw_key: Option<u8>,
    /// An output is complete and waits, in place, to be taken: nothing is read meanwhile.
    ready: Ready,
    chunk_len: u8,
    handed: u8,
    carry_len: u8,
    frames: [Frame; FRAMES],
    carry: [u8; CARRY_CAP],
    label: Label,
    /// Completion text being gathered: `chunk[..chunk_len]`, of which the first `handed`
    /// bytes were handed out and are dropped before anything is added.
    chunk: [u8; CHUNK_CAP],
    /// The emotion item or list element being read (one at a time).
    element: Element,
    summary: Summary,
}

/// Which finished value waits in the decoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ready {
    Nothing,
    /// `element` is complete.
    Element,
    /// `chunk[..n]` is a complete piece of completion text.
    Chunk(u8),
}

impl Decoder {
    // Out of line: built in the parser's place, which `SuccessParser::new` only points it at
    // (16 B less flash on a Cortex-M4 than both built in one function).
    #[inline(never)]
    fn new() -> Self {
        Decoder {
            index: [0; FRAMES],
            slot: Slot::Open(Frame::Root),
            string: None,
            depth: 0,
            skip: None,
            top_context: false,
            raw_key: None,
            ready: Ready::Nothing,
            chunk_len: 0,
            handed: 0,
            carry_len: 0,
            frames: [Frame::Root; FRAMES],
            carry: [0; CARRY_CAP],
            label: Label::new(),
            chunk: [0; CHUNK_CAP],
            element: Element::Emotion(Emotion::default()),
            summary: Summary::empty(),
        }
    }

    fn top(&self) -> Option<Frame> {
        self.frames
            .get(usize::from(self.depth).checked_sub(1)?)
            .copied()
    }

    /// Whether the pending or current value is completion text (the feed loop then bounds
    /// the input so that a piece never overflows the chunk by more than an escape).
    fn in_content(&self) -> bool {
        self.skip.is_none()
            && (matches!(self.string, Some(Slot::Content)) || matches!(self.slot, Slot::Content))
    }

    /// What a key names inside the current frame.
    fn key_slot(&mut self, key: &[u8]) -> Slot {
        let Some(frame) = self.top() else {
            return Slot::Ignore;
        };
        match frame {
            Frame::EmotionMap => {
                // Kept in the item itself: the previous item was handed out already, and the
                // next one starts with this role (see `begin`).
                let item = match self.element.emotion() {
                    Some(item) => item,
                    None => {
                        self.element = Element::Emotion(Emotion::default());
                        match self.element.emotion() {
                            Some(item) => item,
                            None => return Slot::Ignore,
                        }
                    }
                };
                item.role.clear();
                item.role.push_bytes(key);
                Slot::Item(0)
            }
            Frame::Raw => {
                self.raw_key = Category::position(key).map(|i| i as u8);
                Slot::RawEntry
            }
            #[cfg(feature = "details")]
            Frame::Dominant => {
                self.raw_key = Category::position(key).map(|i| i as u8);
                Slot::Detail(Detail::DominantEntry)
            }
            #[cfg(feature = "choices")]
            Frame::Message => match keys::slot(frame, key) {
                // Only the first choice's text is content.
                Slot::Content if !matches!(&self.element, Element::Choice(c) if c.index == 0) => {
                    Slot::Ignore
                }
                slot => slot,
            },
            _ => keys::slot(frame, key),
        }
    }

    /// What the value that starts now is for: the top-level value, an array element by its
    /// index, or whatever the last key named.
    fn take_slot(&mut self) -> Slot {
        let slot = core::mem::replace(&mut self.slot, Slot::Ignore);
        // The enclosing container and the index of this value in it (none at the top level).
        let i = usize::from(self.depth).wrapping_sub(1);
        let (Some(&frame), Some(&n)) = (self.frames.get(i), self.index.get(i)) else {
            return slot;
        };
        match frame {
            Frame::Choices if n == 0 => Slot::Open(Frame::Choice),
            Frame::EmotionList => Slot::Item(n),
            // Every choice is read, for its `finish_reason`; only the first one's text.
            #[cfg(feature = "choices")]
            Frame::Choices => Slot::Open(Frame::Choice),
            #[cfg(not(feature = "choices"))]
            Frame::Choices => Slot::Ignore,
            #[cfg(any(
                feature = "trajectory",
                feature = "patterns",
                feature = "growth",
                feature = "beliefs"
            ))]
            Frame::List(kind) => Slot::Element(kind, n),
            #[cfg(any(feature = "trajectory", feature = "patterns"))]
            Frame::Entries => Slot::Field(Field::ListEntry),
            #[cfg(feature = "patterns")]
            Frame::ActivePatterns => Slot::Detail(Detail::ActivePattern),
            #[cfg(feature = "conversation")]
            Frame::Strings(entry) => Slot::Detail(entry),
            _ => slot,
        }
    }

    /// The skipped value ended; the scanner is back at `depth`.
    fn skipped(&mut self, depth: u8) {
        self.skip = None;
        self.depth = depth;
        self.slot = Slot::Ignore;
        self.value_done();
    }

    /// A value of the current container ended: arrays count their elements.
    // Out of line on the firmware path: it ends most tokens.
    #[cfg_attr(not(feature = "fast"), inline(never))]
    fn value_done(&mut self) {
        let i = usize::from(self.depth).wrapping_sub(1);
        if let Some(n) = self.index.get_mut(i) {
            *n = n.saturating_add(1);
        }
    }

    fn sink(&mut self, slot: Slot) -> Option<&mut AnyText> {
        Some(match slot {
            Slot::Object => self.summary.object.any(),
            Slot::Model => self.summary.model.any(),
            Slot::Id => self.summary.id.any(),
            Slot::ContextId => self.summary.context_id.any(),
            Slot::MetaContextId if !self.top_context => self.summary.context_id.any(),
            #[cfg(not(feature = "choices"))]
            Slot::FinishReason => self.summary.finish_reason.any(),
            #[cfg(feature = "choices")]
            Slot::FinishReason => match &mut self.element {
                Element::Choice(c) => c.finish_reason.any(),
                _ => return None,
            },
            #[cfg(feature = "details")]
            Slot::Detail(d) => {
                let x = &mut self.summary.details;
                match d {
                    Detail::EmotionModel => x.emotion_model.any(),
                    Detail::DataQuality => x.data_quality.any(),
                    Detail::ExternalId => x.external_id.any(),
                    Detail::MessageId => x.message_id.any(),
                    Detail::Window => x.baseline.window.any(),
                    Detail::AverageComplexity => x.baseline.average_complexity.any(),
                    #[cfg(feature = "trajectory")]
                    Detail::MomentumEmotion => x.trajectory.momentum.current_emotion.any(),
                    #[cfg(feature = "trajectory")]
                    Detail::MomentumDirection => x.trajectory.momentum.direction.any(),
                    #[cfg(feature = "trajectory")]
                    Detail::MomentumPotential => x.trajectory.momentum.discovery_potential.any(),
                    Detail::Direction => x.trend.direction.any(),
                    Detail::Mode => x.conversation_mode.mode.any(),
                    #[cfg(feature = "trajectory")]
                    Detail::BreakthroughType => x.trajectory.breakthrough_type.any(),
                    #[cfg(feature = "trajectory")]
                    Detail::Insights => x.trajectory.insights.any(),
                    #[cfg(feature = "growth")]
                    Detail::RecentStart => x.growth.recent.start.any(),
                    #[cfg(feature = "growth")]
                    Detail::RecentEnd => x.growth.recent.end.any(),
                    #[cfg(feature = "growth")]
                    Detail::HistoricalStart => x.growth.historical.start.any(),
                    #[cfg(feature = "growth")]
                    Detail::HistoricalEnd => x.growth.historical.end.any(),
                    #[cfg(feature = "growth")]
                    Detail::GrowthSummary => x.growth.summary.any(),
                    #[cfg(feature = "beliefs")]
                    Detail::BeliefSummary => x.beliefs.summary.any(),
                    #[cfg(feature = "patterns")]
                    Detail::PatternSummary => x.patterns.summary.any(),
                    #[cfg(feature = "patterns")]
                    Detail::ActivePattern => x.patterns.active.any(),
                    #[cfg(feature = "conversation")]
                    Detail::PersonalityMode => self.label.any(),
                    #[cfg(feature = "conversation")]
                    _ => return x.conversation_mode.text(d).map(Text::any),
                    #[cfg(not(feature = "conversation"))]
                    _ => return None,
                }
            }
            Slot::Text => self.element.emotion()?.text.any(),
            #[cfg(any(feature = "choices", feature = "details"))]
            Slot::Field(f) => return self.element.sink(f),
            Slot::Category | Slot::IntensityLevel | Slot::Complexity | Slot::DiscoveryLevel => {
                self.label.any()
            }
            _ => return None,
        })
    }

    /// Takes one token; `true` when it made an output ready.
    fn token(&mut self, tok: Token<'_>) -> bool {
        match tok {
            Token::ObjectStart | Token::ArrayStart => {
                // The slot belongs to the enclosing container: read it before entering.
                let slot = self.take_slot();
                let enclosing = self.top();
                #[cfg(feature = "choices")]
                let position = self
                    .index
                    .get(usize::from(self.depth).wrapping_sub(1))
                    .copied()
                    .unwrap_or(0);
                self.depth = self.depth.saturating_add(1);
                let object = tok == Token::ObjectStart;
                let frame = match (slot, object) {
                    (Slot::Emotions, true) => Frame::EmotionMap,
                    (Slot::Emotions, false) => Frame::EmotionList,
                    (Slot::Item(index), true) => {
                        // A map item's role was read from its key (see `key_slot`).
                        let keep_role = enclosing == Some(Frame::EmotionMap);
                        match self.element.emotion() {
                            Some(item) => item.restart(index, keep_role),
                            None => {
                                self.element = Element::Emotion(Emotion {
                                    index,
                                    ..Emotion::default()
                                })
                            }
                        }
                        Frame::Item
                    }
                    (Slot::Open(frame), object) if object == frame.is_object() => {
                        #[cfg(feature = "choices")]
                        if frame == Frame::Choice {
                            self.element = Element::Choice(Choice {
                                index: position,
                                ..Choice::default()
                            });
                        }
                        #[cfg(feature = "details")]
                        if frame == Frame::Hostility
                            && let Some(item) = self.element.emotion()
                        {
                            item.hostility = Some(Hostility::default());
                        }
                        frame
                    }
                    #[cfg(any(
                        feature = "trajectory",
                        feature = "patterns",
                        feature = "growth",
                        feature = "beliefs"
                    ))]
                    (Slot::Element(kind, index), true) => {
                        self.element = kind.element(index);
                        Frame::Element(kind)
                    }
                    _ => {
                        self.skip = Some(self.depth - 1);
                        return false;
                    }
                };
                let i = usize::from(self.depth) - 1;
                match (self.frames.get_mut(i), self.index.get_mut(i)) {
                    (Some(f), Some(n)) => {
                        *f = frame;
                        *n = 0;
                    }
                    // Deeper than any container of interest: cannot happen, skip it anyway.
                    _ => self.skip = Some(self.depth - 1),
                }
                false
            }
            Token::ObjectEnd | Token::ArrayEnd => {
                let closed = self.top();
                self.depth = self.depth.saturating_sub(1);
                self.slot = Slot::Ignore;
                self.value_done();
                match closed {
                    Some(Frame::Item) => {
                        self.summary.emotions = self.summary.emotions.saturating_add(1);
                        self.ready = Ready::Element;
                        true
                    }
                    #[cfg(any(
                        feature = "trajectory",
                        feature = "patterns",
                        feature = "growth",
                        feature = "beliefs"
                    ))]
                    Some(Frame::Element(_)) => {
                        self.ready = Ready::Element;
                        true
                    }
                    #[cfg(feature = "choices")]
                    Some(Frame::Choice) => self.choice_done(),
                    _ => false,
                }
            }
            Token::Key(key) => {
                self.slot = self.key_slot(key);
                if matches!(self.slot, Slot::Ignore) {
                    // The value is skipped by the scanner, in bulk.
                    self.skip = Some(self.depth);
                }
                false
            }
            Token::Str(piece) => {
                let slot = match self.string {
                    Some(slot) => slot,
                    None => self.begin_string(),
                };
                if matches!(slot, Slot::Content) {
                    return self.push_content(piece);
                }
                if let Some(sink) = self.sink(slot) {
                    sink.push_bytes(piece);
                }
                false
            }
            Token::StrEnd => {
                let slot = match self.string.take() {
                    Some(slot) => slot,
                    None => self.begin_string(),
                };
                self.string = None;
                self.value_done();
                self.end_string(slot)
            }
            Token::Number(text) => {
                let slot = self.take_slot();
                self.value_done();
                let score = || Score::parse(text);
                match slot {
                    Slot::Intensity | Slot::Valence | Slot::Arousal | Slot::WonderIndex => {
                        if let Some(item) = self.element.emotion() {
                            let target = match slot {
                                Slot::Intensity => &mut item.intensity,
                                Slot::Valence => &mut item.valence,
                                Slot::Arousal => &mut item.arousal,
                                _ => &mut item.wonder_index,
                            };
                            *target = score();
                        }
                    }
                    Slot::RawEntry => {
                        let key = self.raw_key;
                        if let (Some(s), Some(item)) = (score(), self.element.emotion()) {
                            item.raw.add_known(key, s);
                        }
                    }
                    #[cfg(any(feature = "choices", feature = "details"))]
                    Slot::Field(f) => self.element.number(f, text),
                    #[cfg(feature = "details")]
                    Slot::Detail(Detail::DominantEntry) => {
                        if let Some(s) = score() {
                            let dominant = &mut self.summary.details.baseline.dominant_emotions;
                            dominant.add_known(self.raw_key, s);
                        }
                    }
                    #[cfg(feature = "details")]
                    Slot::Detail(d) => self.summary.details.number(d, text),
                    Slot::Count(c) => {
                        let v = parse_count(text);
                        let u = &mut self.summary.usage;
                        match c {
                            Count::Prompt => u.prompt_tokens = v,
                            Count::Completion => u.completion_tokens = v,
                            Count::Total => u.total_tokens = v,
                            Count::Analyse => u.analyse_tokens = v,
                        }
                    }
                    _ => {}
                }
                false
            }
            Token::Bool(b) => {
                let _slot = self.take_slot();
                self.value_done();
                match _slot {
                    #[cfg(feature = "details")]
                    Slot::Detail(d) => {
                        let x = &mut self.summary.details;
                        match d {
                            Detail::IsFallback => x.is_fallback = Some(b),
                            Detail::Crisis => x.conversation_mode.crisis_detected = Some(b),
                            #[cfg(feature = "trajectory")]
                            Detail::BreakthroughDetected => x.trajectory.breakthrough = Some(b),
                            _ => {}
                        }
                    }
                    #[cfg(any(feature = "choices", feature = "details"))]
                    Slot::Field(f) => self.element.boolean(f, b),
                    _ => {}
                }
                #[cfg(not(feature = "details"))]
                let _ = b;
                false
            }
            Token::Null => {
                self.take_slot();
                self.value_done();
                false
            }
        }
    }

    /// A whole string value that is not completion text: its bytes, then its end; what
    /// [`Token::Str`] then [`Token::StrEnd`] do, without the token dispatch twice.
    #[cfg(feature = "fast")]
    // Out of line, as `token` is: the scanner's loop in `SuccessParser::read` keeps its
    // registers.
    #[inline(never)]
    fn whole_string(&mut self, text: &[u8]) -> bool {
        let (slot, replaces) = self.open_string();
        if self.known_label(slot, text) {
            self.string = None;
            self.value_done();
            return false;
        }
        if matches!(slot, Slot::Content) {
            // A piece of a value other than completion text never makes an output ready;
            // completion text is not read whole (see `SuccessParser::read`).
            if !text.is_empty() {
                self.push_content(text);
            }
        } else if let Some(sink) = self.sink(slot) {
            // The target found once, for its clearing and its text.
            if replaces {
                sink.clear();
            }
            if !text.is_empty() {
                sink.push_bytes(text);
            }
        }
        self.string = None;
        self.value_done();
        Self::acts_at_end(slot) && self.end_string(slot)
    }

    /// A whole label value that names a known value of its slot, set on the item straight
    /// from the text (not copied into `label` first); `false` for anything else, which goes
    /// the way of every string (an unknown name becomes `Other` at its end).
    #[cfg(feature = "fast")]
    #[inline(always)]
    fn known_label(&mut self, slot: Slot, text: &[u8]) -> bool {
        if !matches!(
            slot,
            Slot::Category | Slot::IntensityLevel | Slot::Complexity | Slot::DiscoveryLevel
        ) {
            return false;
        }
        let Some(item) = self.element.emotion() else {
            return false;
        };
        let set = match slot {
            Slot::Category => Category::known(text).map(|v| item.category = Some(v)),
            Slot::IntensityLevel => {
                IntensityLevel::known(text).map(|v| item.intensity_level = Some(v))
            }
            Slot::Complexity => Complexity::known(text).map(|v| item.complexity = Some(v)),
            _ => DiscoveryLevel::known(text).map(|v| item.discovery_level = Some(v)),
        };
        set.is_some()
    }

    /// The first piece (or the end) of a string value: clears its target.
    fn begin_string(&mut self) -> Slot {
        let (slot, replaces) = self.open_string();
        if replaces && let Some(sink) = self.sink(slot) {
            sink.clear();
        }
        slot
    }

    /// What the string value that starts now is for, and whether it replaces its target's
    /// text (`false`: string-list entries add up, their separator written here).
    #[cfg_attr(feature = "fast", inline(always))]
    fn open_string(&mut self) -> (Slot, bool) {
        let slot = self.take_slot();
        if matches!(slot, Slot::ContextId) {
            self.top_context = true;
        }
        self.string = Some(slot);
        let replaces = match slot {
            #[cfg(any(feature = "trajectory", feature = "patterns"))]
            Slot::Field(Field::ListEntry) => {
                self.element.begin_entry();
                false
            }
            #[cfg(feature = "patterns")]
            Slot::Detail(Detail::ActivePattern) => {
                let p = &mut self.summary.details.patterns;
                if p.active_count > 0 {
                    p.active.push_bytes(b",");
                }
                p.active_count = p.active_count.saturating_add(1);
                false
            }
            #[cfg(feature = "conversation")]
            Slot::Detail(
                d @ (Detail::Actionable
                | Detail::SpeechPattern
                | Detail::Prohibition
                | Detail::ExampleResponse),
            ) => {
                self.summary.details.conversation_mode.begin_entry(d);
                false
            }
            _ => true,
        };
        (slot, replaces)
    }

    /// A `choices` element closed: one that finished is handed out, and the first one's
    /// `finish_reason` goes into the summary.
    #[cfg(feature = "choices")]
    fn choice_done(&mut self) -> bool {
        let Element::Choice(c) = &self.element else {
            return false;
        };
        if c.finish_reason.is_empty() {
            return false;
        }
        if c.index == 0 {
            self.summary.finish_reason = c.finish_reason;
        }
        self.ready = Ready::Element;
        true
    }

    /// Whether [`Decoder::end_string`] does anything for `slot` (the whole-string path
    /// calls it only then).
    #[cfg(feature = "fast")]
    fn acts_at_end(slot: Slot) -> bool {
        match slot {
            Slot::Content
            | Slot::Category
            | Slot::IntensityLevel
            | Slot::Complexity
            | Slot::DiscoveryLevel => true,
            #[cfg(feature = "conversation")]
            Slot::Detail(Detail::PersonalityMode) => true,
            _ => false,
        }
    }

    /// A string value ended: a label is parsed, completion text flushed. Only the slots of
    /// `acts_at_end` do anything here.
    // Out of line on the firmware path: 8 B less flash than pasted into the token loop.
    #[cfg_attr(not(feature = "fast"), inline(never))]
    fn end_string(&mut self, slot: Slot) -> bool {
        match slot {
            Slot::Content => return self.flush_chunk(true),
            Slot::Category | Slot::IntensityLevel | Slot::Complexity | Slot::DiscoveryLevel => {
                let Some(item) = self.element.emotion() else {
                    return false;
                };
                // Only a label's end validates it: most strings are not labels.
                #[cfg(not(feature = "fast"))]
                let label = self.label.as_str();
                #[cfg(feature = "fast")]
                let label = &self.label;
                match slot {
                    Slot::Category => item.category = Some(Category::parse_label(label)),
                    Slot::IntensityLevel => {
                        item.intensity_level = Some(IntensityLevel::parse_label(label))
                    }
                    Slot::Complexity => item.complexity = Some(Complexity::parse_label(label)),
                    _ => item.discovery_level = Some(DiscoveryLevel::parse_label(label)),
                }
            }
            #[cfg(feature = "conversation")]
            Slot::Detail(Detail::PersonalityMode) => {
                let mut mode = PersonalityMode::parse(self.label.as_str());
                // A value cut to the label's capacity says so.
                if let (PersonalityMode::Other(t), true) = (&mut mode, self.label.is_truncated()) {
                    t.mark_truncated();
                }
                self.summary.details.conversation_mode.personality_mode = Some(mode);
            }
            _ => {}
        }
        false
    }

    /// Drops the bytes handed out by the last [`Decoder::take`], keeping what followed them
    /// (the start of a character the chunk cut).
    fn settle(&mut self) {
        let handed = usize::from(core::mem::take(&mut self.handed));
        let len = usize::from(self.chunk_len);
        if handed > 0 && handed <= len {
            crate::text::move_down(&mut self.chunk, handed, len, 0);
            self.chunk_len = (len - handed) as u8;
        }
    }

    /// Appends completion text; a full chunk is made ready, the bytes beyond it (at most one
    /// escape's worth) wait in `carry`.
    fn push_content(&mut self, bytes: &[u8]) -> bool {
        self.settle();
        let mut rest = bytes;
        loop {
            let len = usize::from(self.chunk_len);
            let n = crate::text::copy_bytes(self.chunk.get_mut(len..).unwrap_or(&mut []), rest);
            self.chunk_len = (len + n) as u8;
            rest = rest.get(n..).unwrap_or(&[]);
            if usize::from(self.chunk_len) < CHUNK_CAP {
                return false;
            }
            if self.flush_chunk(false) {
                let n = crate::text::copy_bytes(&mut self.carry, rest);
                self.carry_len = n as u8;
                return true;
            }
            // Bytes that were not UTF-8 were dropped: there is room again.
        }
    }

    /// Moves carried bytes into the chunk, once the last piece was taken.
    fn drain_carry(&mut self) -> bool {
        let n = usize::from(core::mem::take(&mut self.carry_len));
        let carry = self.carry;
        self.push_content(carry.get(..n).unwrap_or(&[]))
    }

    /// Makes the whole characters gathered so far ready (`last`: the string ended, so an
    /// unfinished character is dropped too). Bytes that are not UTF-8 are dropped. Before the
    /// end of the string, only a full chunk is handed out, so pieces depend on the content
    /// alone, never on how it arrived.
    fn flush_chunk(&mut self, last: bool) -> bool {
        self.settle();
        loop {
            let len = usize::from(self.chunk_len);
            let bytes = self.chunk.get(..len).unwrap_or(&[]);
            let (valid, bad) = match core::str::from_utf8(bytes) {
                Ok(_) => (len, 0),
                Err(e) => (e.valid_up_to(), e.error_len().unwrap_or(0)),
            };
            if bad > 0 {
                let from = valid.saturating_add(bad).min(len);
                crate::text::move_down(&mut self.chunk, from, len, valid);
                self.chunk_len = (len - bad.min(len - valid)) as u8;
                if !last {
                    return false;
                }
                continue;
            }
            if last {
                // An unfinished character at the end of the string is dropped.
                self.chunk_len = valid as u8;
            }
            if valid == 0 {
                return false;
            }
            self.ready = Ready::Chunk(valid as u8);
            return true;
        }
    }

    /// Hands out the ready output; it stays in place (borrowed) until the decoder reads on.
    // Out of line on the firmware path: 20 B less flash than pasted into each caller.
    #[cfg_attr(not(feature = "fast"), inline(never))]
    fn take(&mut self) -> Option<Output<'_>> {
        match core::mem::replace(&mut self.ready, Ready::Nothing) {
            Ready::Nothing => None,
            Ready::Element => Some(match &self.element {
                Element::Emotion(e) => Output::Emotion(e),
                #[cfg(feature = "choices")]
                Element::Choice(c) => Output::Choice(c),
                #[cfg(feature = "trajectory")]
                Element::Moment(m) => Output::Moment(m),
                #[cfg(any(feature = "trajectory", feature = "patterns"))]
                Element::Pattern(p) => Output::Pattern(p),
                #[cfg(feature = "growth")]
                Element::Dimension(d) => Output::Dimension(d),
                #[cfg(feature = "beliefs")]
                Element::Belief(b) => Output::Belief(b),
            }),
            Ready::Chunk(n) => {
                self.handed = n;
                let bytes = self.chunk.get(..usize::from(n)).unwrap_or(&[]);
                // `flush_chunk` checked these bytes.
                Some(Output::Content(core::str::from_utf8(bytes).unwrap_or("")))
            }
        }
    }
}

/// A token count: a non-negative integer (a fraction is dropped), saturating at `u32::MAX`.
fn parse_count(text: &[u8]) -> Option<u32> {
    let mut v: u32 = 0;
    let mut digits = 0;
    for &c in text {
        match c {
            b'0'..=b'9' => {
                v = v.saturating_mul(10).saturating_add(u32::from(c - b'0'));
                digits += 1;
            }
            b'.' => break,
            _ => return None,
        }
    }
    if digits == 0 { None } else { Some(v) }
}

/// Decoder of success bodies (spec §3), fed as the body streams in.
///
/// Call [`SuccessParser::feed`] until it has consumed the bytes at hand, handing out each
/// [`Output`] it returns; when the body ends, call [`SuccessParser::finish`] until it returns
/// `Ok(None)`; read the [`Summary`] at any time. For Server-Sent Events, each event's `data` is
/// one document: call [`SuccessParser::reset`] between them (the summary accumulates).
///
/// ```
/// use kaiko_core::analysis::{Output, SuccessParser};
/// use kaiko_core::score::Score;
///
/// let body = br#"{"object":"emotions.analysis","emotions":{"user":{"category":"fear","valence":-0.35}}}"#;
/// let mut p = SuccessParser::new();
/// let mut input = &body[..];
/// let mut emotions = 0;
/// loop {
///     let (used, out) = p.feed(input).unwrap();
///     input = &input[used..];
///     match out {
///         Some(Output::Emotion(e)) => {
///             assert_eq!(e.role.as_str(), "user");
///             assert_eq!(e.valence, Some(Score(-3500)));
///             emotions += 1;
///         }
///         // Text, and the list elements of the decoding features (`choices`, `growth`, …).
///         #[allow(unreachable_patterns)]
///         Some(_) => {}
///         None => break,
///     }
/// }
/// assert_eq!(p.finish(), Ok(None));
/// assert_eq!((emotions, p.summary().object.as_str()), (1, "emotions.analysis"));
/// ```
// In declaration order (`repr(C)`): the scanner's per-byte state first, at short offsets.
#[derive(Debug, Clone, PartialEq, Eq)]
#[repr(C)]
pub struct SuccessParser {
    scanner: Scanner,
    dec: Decoder,
}

impl Default for SuccessParser {
    fn default() -> Self {
        Self::new()
    }
}

impl SuccessParser {
    /// A parser before the first body byte, with an empty summary.
    pub fn new() -> Self {
        SuccessParser {
            scanner: Scanner::new(),
            dec: Decoder::new(),
        }
    }

    /// Feeds body bytes and stops right after producing one [`Output`]. Returns the bytes
    /// consumed and the output; `Ok((input.len(), None))` means more bytes are needed.
    /// The outputs do not depend on how the body is split. An output can come with 0 bytes
    /// consumed when bytes of an earlier call completed it (a lone surrogate decoded as
    /// U+FFFD only once the next byte shows no low half follows); every call either consumes
    /// or produces.
    ///
    /// # Errors
    /// The body is not valid JSON (see [`JsonError`]); the error repeats on later calls.
    pub fn feed(&mut self, input: &[u8]) -> Result<(usize, Option<Output<'_>>), JsonError> {
        let n = self.read(input)?;
        Ok((n, self.dec.take()))
    }

    /// Like [`SuccessParser::feed`], but a produced output stays inside the parser until
    /// [`SuccessParser::take_output`] hands it out (nothing is read while it waits), so no
    /// output is ever copied through return values: the form for RAM-tight callers.
    ///
    /// # Errors
    /// As [`SuccessParser::feed`].
    pub fn read(&mut self, input: &[u8]) -> Result<usize, JsonError> {
        self.dec.settle();
        if self.dec.ready != Ready::Nothing || (self.dec.carry_len > 0 && self.dec.drain_carry()) {
            return Ok(0);
        }
        // Every step consumes at most the bytes it is given: `pos` never passes `input.len()`.
        let mut pos = 0;
        while pos < input.len() {
            let rest = input.get(pos..).unwrap_or(&[]);
            if let Some(depth) = self.dec.skip {
                let (n, over) = self.scanner.skip_value(rest, usize::from(depth))?;
                pos += n;
                if over {
                    self.dec.skipped(depth);
                }
                continue;
            }
            // Completion text: never read more raw bytes than the chunk has room for.
            let limit = if self.dec.in_content() {
                (CHUNK_CAP - usize::from(self.dec.chunk_len)).max(1)
            } else {
                rest.len()
            };
            #[cfg(not(feature = "fast"))]
            {
                let (n, tok) = self.scanner.next(rest.get(..limit).unwrap_or(rest))?;
                pos += n;
                if let Some(t) = tok
                    && self.dec.token(t)
                {
                    return Ok(pos);
                }
            }
            #[cfg(feature = "fast")]
            {
                let whole_strings = !self.dec.in_content();
                let part = rest.get(..limit).unwrap_or(rest);
                let (n, ready) = match self.scanner.next_piece(part, whole_strings)? {
                    (n, Some(Piece::Token(t))) => (n, self.dec.token(t)),
                    (n, Some(Piece::WholeStr(text))) => (n, self.dec.whole_string(text)),
                    (n, None) => (n, false),
                };
                pos += n;
                if ready {
                    return Ok(pos);
                }
            }
        }
        Ok(input.len())
    }

    /// `true` while an output waits to be taken.
    pub fn has_output(&self) -> bool {
        self.dec.ready != Ready::Nothing
    }

    /// Hands out the waiting output, if any.
    pub fn take_output(&mut self) -> Option<Output<'_>> {
        self.dec.take()
    }

    /// The body ended. Hands out a pending partial chunk of completion text first (call again
    /// until `Ok(None)`), then reports whether the document was complete.
    ///
    /// # Errors
    /// [`JsonError::Incomplete`] when the body stopped inside the document, or the error
    /// [`SuccessParser::feed`] returned.
    pub fn finish(&mut self) -> Result<Option<Output<'_>>, JsonError> {
        self.end()?;
        Ok(self.dec.take())
    }

    /// [`SuccessParser::finish`] for [`SuccessParser::read`]: `Ok(true)` when an output is
    /// ready to be taken (call again after taking it), `Ok(false)` when the document is
    /// complete and nothing is left.
    ///
    /// # Errors
    /// As [`SuccessParser::finish`].
    pub fn end(&mut self) -> Result<bool, JsonError> {
        if self.dec.ready != Ready::Nothing
            || (self.dec.carry_len > 0 && self.dec.drain_carry())
            || self.dec.flush_chunk(true)
        {
            return Ok(true);
        }
        self.scanner.finish().map(|()| false)
    }

    /// Prepares for the next document (the next SSE event); the [`Summary`] is kept and keeps
    /// accumulating.
    pub fn reset(&mut self) {
        let summary = self.dec.summary;
        *self = Self::new();
        self.dec.summary = summary;
    }

    /// The top-level facts read so far.
    pub fn summary(&self) -> &Summary {
        &self.dec.summary
    }
}

#[cfg(test)]
mod tests;
