extern crate std;

use super::*;
use proptest::prelude::*;
use std::boxed::Box;
use std::string::String;
use std::vec::Vec;

/// An output, owned so runs can be compared.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Owned {
    Emotion(Box<Emotion>),
    Content(Vec<u8>),
    #[cfg(feature = "choices")]
    Choice(Choice),
    #[cfg(feature = "trajectory")]
    Moment(Box<Moment>),
    #[cfg(any(feature = "trajectory", feature = "patterns"))]
    Pattern(Box<Pattern>),
    #[cfg(feature = "growth")]
    Dimension(Box<Dimension>),
    #[cfg(feature = "beliefs")]
    Belief(Box<Belief>),
}

fn own(o: Output<'_>) -> Owned {
    match o {
        Output::Emotion(e) => Owned::Emotion(Box::new(e.clone())),
        Output::Content(c) => Owned::Content(c.as_bytes().to_vec()),
        #[cfg(feature = "choices")]
        Output::Choice(c) => Owned::Choice(*c),
        #[cfg(feature = "trajectory")]
        Output::Moment(m) => Owned::Moment(Box::new(*m)),
        #[cfg(any(feature = "trajectory", feature = "patterns"))]
        Output::Pattern(p) => Owned::Pattern(Box::new(*p)),
        #[cfg(feature = "growth")]
        Output::Dimension(d) => Owned::Dimension(Box::new(*d)),
        #[cfg(feature = "beliefs")]
        Output::Belief(b) => Owned::Belief(Box::new(*b)),
    }
}

/// Feeds `body` cut at `cuts` (sorted, in bounds), then finishes.
fn run(body: &[u8], cuts: &[usize]) -> (Vec<Owned>, Result<(), JsonError>, Summary) {
    let mut p = SuccessParser::new();
    let mut outs = Vec::new();
    let mut start = 0;
    for &end in cuts.iter().chain([body.len()].iter()) {
        let mut part = &body[start..end];
        start = end;
        loop {
            match p.feed(part) {
                Ok((n, out)) => {
                    part = &part[n..];
                    match out {
                        Some(o) => outs.push(own(o)),
                        None => {
                            assert!(part.is_empty());
                            break;
                        }
                    }
                }
                Err(e) => return (outs, Err(e), *p.summary()),
            }
        }
    }
    loop {
        match p.finish() {
            Ok(Some(o)) => outs.push(own(o)),
            Ok(None) => return (outs, Ok(()), *p.summary()),
            Err(e) => return (outs, Err(e), *p.summary()),
        }
    }
}

/// Decodes at every split point and byte by byte; all must agree with the unsplit run.
fn decode_all(body: &[u8]) -> (Vec<Owned>, Summary) {
    let want = run(body, &[]);
    for cut in 0..=body.len() {
        assert_eq!(run(body, &[cut]), want, "cut at {cut}");
    }
    let every: Vec<usize> = (1..body.len()).collect();
    assert_eq!(run(body, &every), want, "byte at a time");
    assert_eq!(want.1, Ok(()));
    (want.0, want.2)
}

fn emotions(outs: &[Owned]) -> Vec<Emotion> {
    outs.iter()
        .filter_map(|o| match o {
            Owned::Emotion(e) => Some((**e).clone()),
            _ => None,
        })
        .collect()
}

fn content(outs: &[Owned]) -> Vec<Vec<u8>> {
    outs.iter()
        .filter_map(|o| match o {
            Owned::Content(c) => Some(c.clone()),
            _ => None,
        })
        .collect()
}

fn label(s: &str) -> Label {
    Label::from_str_truncating(s)
}

fn leak(s: &str) -> &'static str {
    std::boxed::Box::leak(std::borrow::ToOwned::to_owned(s).into_boxed_str())
}

fn raw(e: &Emotion) -> Vec<(&'static str, i32)> {
    e.raw.iter().map(|(l, s)| (leak(l.as_str()), s.0)).collect()
}

fn cat(e: &Emotion) -> &'static str {
    leak(e.category.as_ref().map_or("", |c| c.as_str()))
}

/// Spec §3.3, V2 quickstart response.
const QUICKSTART: &[u8] = br#"{
  "object": "emotions.analysis",
  "model": "emotion-v2",
  "emotions": {
    "user": {
      "text": "I feel a bit unsure about this",
      "category": "fear",
      "intensity": 0.52,
      "intensityLevel": "subtle",
      "valence": -0.35,
      "arousal": 0.45,
      "complexity": "simple",
      "wonderIndex": 0.20,
      "discoveryLevel": "normal",
      "raw": {
        "fear": 0.52,
        "sadness": 0.21,
        "joy": 0.09,
        "anger": 0.08,
        "love": 0.05,
        "surprise": 0.05
      }
    }
  }
}"#;

#[test]
fn quickstart_response() {
    let (outs, summary) = decode_all(QUICKSTART);
    let e = emotions(&outs);
    assert_eq!(e.len(), 1);
    let e = &e[0];
    assert_eq!(e.role.as_str(), "user");
    assert_eq!(e.index, 0);
    assert_eq!(e.text.as_str(), "I feel a bit unsure about this");
    assert_eq!(cat(e), "fear");
    assert_eq!(e.intensity, Some(Score(5200)));
    assert_eq!(e.intensity_level, Some(IntensityLevel::Subtle));
    assert_eq!(e.valence, Some(Score(-3500)));
    assert_eq!(e.arousal, Some(Score(4500)));
    assert_eq!(e.complexity, Some(Complexity::Simple));
    assert_eq!(e.wonder_index, Some(Score(2000)));
    assert_eq!(e.discovery_level, Some(DiscoveryLevel::Normal));
    assert_eq!(
        raw(e),
        [
            ("fear", 5200),
            ("sadness", 2100),
            ("joy", 900),
            ("anger", 800),
            ("love", 500),
            ("surprise", 500)
        ]
    );
    assert!(!e.raw.is_truncated());
    assert_eq!(summary.object.as_str(), "emotions.analysis");
    assert_eq!(summary.model.as_str(), "emotion-v2");
    assert_eq!(summary.emotions, 1);
    assert!(content(&outs).is_empty());
}

/// Spec §3.3, the `/docs` overview response (no `text`, no `raw`).
#[test]
fn overview_response() {
    let body = br#"{
  "object": "emotions.analysis",
  "model": "emotion-v2",
  "emotions": {
    "user": {
      "category": "joy",
      "intensity": 0.85,
      "intensityLevel": "high",
      "valence": 0.78,
      "arousal": 0.82,
      "complexity": "simple",
      "wonderIndex": 0.45,
      "discoveryLevel": "significant"
    }
  }
}"#;
    let (outs, _) = decode_all(body);
    let want = Emotion {
        role: label("user"),
        category: Some(Category::Joy),
        intensity: Some(Score(8500)),
        intensity_level: Some(IntensityLevel::High),
        valence: Some(Score(7800)),
        arousal: Some(Score(8200)),
        complexity: Some(Complexity::Simple),
        wonder_index: Some(Score(4500)),
        discovery_level: Some(DiscoveryLevel::Significant),
        ..Emotion::default()
    };
    assert_eq!(emotions(&outs), [want]);
}

/// Spec §3.4, context analysis with `metadata.context_id` and a trajectory.
#[test]
fn context_analysis_response() {
    let body = br#"{
  "object": "emotions.analysis",
  "model": "emotion-v2",
  "metadata": {
    "context_id": "example-123"
  },
  "emotions": {
    "user": {
      "text": "I'm really excited about this opportunity!",
      "category": "joy",
      "intensity": 0.85,
      "intensityLevel": "high",
      "valence": 0.78,
      "arousal": 0.82,
      "complexity": "simple",
      "wonderIndex": 0.55,
      "discoveryLevel": "significant",
      "raw": {
        "joy": 0.85,
        "love": 0.25,
        "surprise": 0.30,
        "sadness": 0.02,
        "anger": 0.01,
        "fear": 0.05
      }
    }
  },
  "trajectory": {
    "trend": {
      "direction": "improving",
      "valenceTrend": 0.08
    }
  }
}"#;
    let (outs, summary) = decode_all(body);
    let e = emotions(&outs);
    assert_eq!(e.len(), 1);
    assert_eq!(
        e[0].text.as_str(),
        "I'm really excited about this opportunity!"
    );
    assert_eq!(
        raw(&e[0]),
        [
            ("joy", 8500),
            ("surprise", 3000),
            ("love", 2500),
            ("fear", 500),
            ("sadness", 200),
            ("anger", 100)
        ]
    );
    assert_eq!(summary.context_id.as_str(), "example-123");
    #[cfg(feature = "details")]
    {
        let t = summary.details.trend;
        assert_eq!(
            (t.direction.as_str(), t.valence),
            ("improving", Some(Score(800)))
        );
        assert_eq!(summary.details.baseline, Baseline::default());
    }
}

/// Spec §3.5, latest state: role `system`, partial item, metadata after the trajectory.
#[test]
fn state_response() {
    let body = br#"{
  "object": "emotions.state",
  "model": "emotion-v2",
  "emotions": {
    "system": {
      "category": "joy",
      "intensity": 0.85,
      "valence": 0.78,
      "arousal": 0.82
    }
  },
  "trajectory": {
    "baseline": {
      "averageIntensity": 0.65,
      "baselineValence": 0.45
    },
    "trend": {
      "direction": "improving"
    }
  },
  "metadata": {
    "context_id": "example-123"
  }
}"#;
    let (outs, summary) = decode_all(body);
    let want = Emotion {
        role: label("system"),
        category: Some(Category::Joy),
        intensity: Some(Score(8500)),
        valence: Some(Score(7800)),
        arousal: Some(Score(8200)),
        ..Emotion::default()
    };
    assert_eq!(emotions(&outs), [want]);
    assert_eq!(summary.object.as_str(), "emotions.state");
    assert_eq!(summary.context_id.as_str(), "example-123");
    #[cfg(feature = "details")]
    {
        let b = summary.details.baseline;
        assert_eq!(
            (b.average_intensity, b.valence, b.arousal),
            (Some(Score(6500)), Some(Score(4500)), None)
        );
        assert_eq!(summary.details.trend.direction.as_str(), "improving");
        assert_eq!(summary.details.trend.valence, None);
    }
}

const CHAT_PREFIX: &[u8] = br#"{
  "id": "chatcmpl-abc123def456",
  "object": "chat.completion",
  "created": 1757595153,
  "model": "gpt-4",
  "emotion_model": "emotion-v2",
  "choices": [
    {
      "index": 0,
      "message": {
        "role": "assistant",
        "content": "It's completely natural to feel nervous before an interview. Let me share some tips to help you feel more prepared..."
      },
      "finish_reason": "stop"
    }
  ]
}"#;

/// Spec §3.8, the documented chat response prefix (closed after `choices`).
#[test]
fn chat_response() {
    let (outs, summary) = decode_all(CHAT_PREFIX);
    let text = "It's completely natural to feel nervous before an interview. Let me share some tips to help you feel more prepared...";
    let chunks = content(&outs);
    assert_eq!(chunks.len(), 2);
    assert_eq!(chunks[0].len(), CHUNK_CAP);
    assert_eq!(chunks.concat(), text.as_bytes());
    assert_eq!(summary.id.as_str(), "chatcmpl-abc123def456");
    assert_eq!(summary.object.as_str(), "chat.completion");
    assert_eq!(summary.model.as_str(), "gpt-4");
    assert_eq!(summary.finish_reason.as_str(), "stop");
    assert_eq!(summary.emotions, 0);
    #[cfg(feature = "details")]
    {
        assert_eq!(summary.details.created, Some(1757595153));
        assert_eq!(summary.details.emotion_model.as_str(), "emotion-v2");
    }
}

/// Model names of spec §3.8 fit whole.
#[test]
fn long_model_names_fit() {
    let body = br#"{"object":"chat.completion","model":"claude-sonnet-4-5-20250929-with-a-longer-suffix"}"#;
    let (_, summary) = decode_all(body);
    assert_eq!(
        summary.model.as_str(),
        "claude-sonnet-4-5-20250929-with-a-longer-suffix"
    );
}

/// Appendix A.2, the V1 chat response: two roles and `usage.analyse_tokens`.
#[test]
fn v1_chat_response() {
    let body = br#"{
  "id": "chatcmpl-1757595153467",
  "object": "chat.completion",
  "created": 1757595153,
  "model": "gpt-4.1-nano",
  "emotion_model": "emotion-v1",
  "choices": [
    {
      "index": 0,
      "message": {
        "role": "assistant",
        "content": "It's natural to feel nervous. Want me to share some quick interview tips?"
      },
      "finish_reason": "stop"
    }
  ],
  "emotions": {
    "user": {
      "category": "fear",
      "text": "Moderate FEAR",
      "raw": {
        "fear": 0.78,
        "joy": 0.11,
        "sadness": 0.06
      }
    },
    "assistant": {
      "category": "calm",
      "text": "Calm / Supportive",
      "raw": {
        "joy": 0.42,
        "love": 0.33,
        "fear": 0.05
      }
    }
  },
  "usage": {
    "prompt_tokens": 45,
    "completion_tokens": 23,
    "analyse_tokens": 12
  }
}"#;
    let (outs, summary) = decode_all(body);
    assert_eq!(
        content(&outs).concat(),
        b"It's natural to feel nervous. Want me to share some quick interview tips?"
    );
    let e = emotions(&outs);
    assert_eq!(e.len(), 2);
    assert_eq!(
        (e[0].role.as_str(), cat(&e[0]), e[0].text.as_str()),
        ("user", "fear", "Moderate FEAR")
    );
    assert_eq!(
        raw(&e[0]),
        [("fear", 7800), ("joy", 1100), ("sadness", 600)]
    );
    assert_eq!((e[1].role.as_str(), cat(&e[1])), ("assistant", "calm"));
    assert_eq!(raw(&e[1]), [("joy", 4200), ("love", 3300), ("fear", 500)]);
    assert_eq!(
        summary.usage,
        Usage {
            prompt_tokens: Some(45),
            completion_tokens: Some(23),
            total_tokens: None,
            analyse_tokens: Some(12)
        }
    );
    assert_eq!(summary.model.as_str(), "gpt-4.1-nano");
    assert_eq!(summary.emotions, 2);
}

/// Appendix A.2, the V1 emotion responses: analyse-and-store, retrieve-by-message, stateless.
#[test]
fn v1_emotion_responses() {
    let store = br#"{
  "object": "emotions.analyse",
  "model": "emotion-v1",
  "metadata": {
    "context_id": "example-123"
  },
  "emotions": {
    "user": {
      "text": "Highly JOY",
      "category": "joy",
      "raw": {
        "joy": 0.99,
        "anger": 0.003,
        "sadness": 0.002,
        "fear": 0.001,
        "surprise": 0.0008,
        "love": 0.0006
      }
    }
  }
}"#;
    let (outs, summary) = decode_all(store);
    let e = emotions(&outs);
    assert_eq!(e[0].text.as_str(), "Highly JOY");
    let want = [
        ("joy", 9900),
        ("anger", 30),
        ("sadness", 20),
        ("fear", 10),
        ("surprise", 8),
        ("love", 6),
    ];
    assert_eq!(raw(&e[0]), want);
    assert_eq!(summary.context_id.as_str(), "example-123");

    let by_message = br#"{
  "object": "emotions.state",
  "model": "emotion-v1",
  "metadata": {
    "context_id": "example-123",
    "message_id": "msg-1"
  },
  "emotions": {
    "user": {
      "text": "Highly JOY",
      "category": "joy",
      "raw": {
        "joy": 0.99,
        "fear": 0.001,
        "love": 0.0006,
        "anger": 0.003,
        "sadness": 0.002,
        "surprise": 0.0008
      }
    }
  }
}"#;
    let (outs, summary) = decode_all(by_message);
    assert_eq!(
        raw(&emotions(&outs)[0]),
        want,
        "sorted whatever the wire order"
    );
    assert_eq!(summary.object.as_str(), "emotions.state");

    let stateless = br#"{
  "object": "emotions.analyse",
  "emotions": {
    "_default": {
      "text": "Slightly FEAR",
      "category": "fear",
      "raw": {
        "fear": 0.62,
        "sadness": 0.21,
        "joy": 0.09
      }
    }
  }
}"#;
    let (outs, _) = decode_all(stateless);
    let e = emotions(&outs);
    assert_eq!((e[0].role.as_str(), cat(&e[0])), ("_default", "fear"));
    assert_eq!(
        raw(&e[0]),
        [("fear", 6200), ("sadness", 2100), ("joy", 900)]
    );
}

/// The response shape of the backend code (spec §3.3/§3.4 [code]), with everything the client
/// skips.
#[test]
fn code_shaped_response() {
    let body = br#"{"object":"emotions.analysis","model":"emotion-v2","response_type":"per_message",
"isFallback":false,"dataQuality":"ml_predicted","context_id":"sess-\u00e9","context_message_count":3,
"emotions":{"_default":{"text":"pretty JOY","category":"joy","intensity":0.61,"intensityLevel":"moderate",
"valence":0.5,"arousal":0.4,"complexity":"layered","wonderIndex":0.1,"discoveryLevel":"routine",
"dimensionalSource":"ml_predicted","empathicConcern":0.2,"activeLabels":["joy","pride"],
"emotionalVector":[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9],"isBreakthrough":false,
"hostilityState":{"level":"none","score":0,"escalationCount":0,"deEscalationDetected":false,"recommendedResponse":"normal","nested":{"raw":{"x":1}}},
"raw":{"joy":0.61,"pride":0.3,"note":"n/a","admiration":0.2,"neutral":{"v":1},"amusement":0.15,"optimism":0.12,"excitement":0.11,"caring":0.05,"pride2":0.3}}},
"metadata":{},"usage":{"analyse_token":42,"analyse_token_details":{"cached_tokens":0,"audio_tokens":0}},"params":{},
"trajectory":{"baseline":{"window":"week","dominantEmotions":{"joy":0.5},"averageIntensity":0.4},"trend":{"direction":"stable"},
"similarMoments":{"moments":[{"memoryId":"m1","tags":["a","b"],"emotion":"joy"}],"patterns":[],"insights":"none"}},
"growth":{"comparisonWindow":{"recent":{"start":"2025-01-01T00:00:00Z","end":"2025-01-02T00:00:00Z","dataPoints":3}},
"dimensions":[{"dimension":"awareness","percentageChange":-12.5,"isGrowing":false}],"overallGrowthScore":0.1,"summary":"ok"},
"conversationMode":{"mode":"conversational","confidence":0.9,"crisisDetected":false,"responseStrategy":{"tone":"warm","focus":"x","actionables":[]}},
"beliefs":{"beliefs":[{"type":"identity","content":"I am","confidence":0.5}],"totalBeliefs":1}}"#;
    let (outs, summary) = decode_all(body);
    let e = emotions(&outs);
    assert_eq!(e.len(), 1);
    let e = &e[0];
    assert_eq!(e.role.as_str(), "_default");
    assert_eq!(e.text.as_str(), "pretty JOY");
    assert_eq!(e.intensity_level, Some(IntensityLevel::Moderate));
    assert_eq!(e.complexity, Some(Complexity::Layered));
    assert_eq!(e.discovery_level, Some(DiscoveryLevel::Routine));
    // Nine numeric entries, the six highest of the known categories kept (`pride2` is not
    // one: dropped, and counted as truncation); the string and the object are ignored.
    assert!(e.raw.is_truncated());
    assert_eq!(
        raw(e),
        [
            ("joy", 6100),
            ("pride", 3000),
            ("admiration", 2000),
            ("amusement", 1500),
            ("optimism", 1200),
            ("excitement", 1100)
        ]
    );
    assert!(e.raw.is_truncated());
    assert_eq!(summary.usage.analyse_tokens, Some(42));
    assert_eq!(summary.context_id.as_str(), "sess-\u{e9}");
    assert_eq!(summary.emotions, 1);
    assert!(content(&outs).is_empty());
    #[cfg(feature = "details")]
    {
        let d = summary.details;
        assert_eq!(d.is_fallback, Some(false));
        assert_eq!(d.data_quality.as_str(), "ml_predicted");
        assert_eq!(d.context_message_count, Some(3));
        assert_eq!(d.baseline.window.as_str(), "week");
        assert_eq!(d.baseline.average_intensity, Some(Score(4000)));
        assert_eq!(d.trend.direction.as_str(), "stable");
        let m = d.conversation_mode;
        assert_eq!(
            (m.mode.as_str(), m.confidence, m.crisis_detected),
            ("conversational", Some(Score(9000)), Some(false))
        );
    }
}

/// A message lookup (spec §3.6, code shape) and a full baseline and trend (spec §3.4).
#[cfg(feature = "details")]
#[test]
fn message_lookup_and_full_trajectory() {
    let body = br#"{"object":"emotions.analysis","model":"emotion-v2","context_id":"c-1","external_id":"msg-1",
"emotions":{"user":{"category":"fear","intensity":0.52}},
"metadata":{"context_id":"c-1","message_id":"4f1c"},
"trajectory":{"baseline":{"window":"month","dataPointCount":12,"averageIntensity":0.5,"baselineValence":-0.25,
"baselineArousal":0.3,"emotionalVolatility":0.12,"averageComplexity":"simple","averageWonderIndex":0.2,"breakthroughCount":2},
"trend":{"direction":"declining","valenceTrend":-0.08,"intensityTrend":0.01,"wonderTrend":0,"breakthroughRate":0.1},
"breakthrough":{"detected":true,"type":"intensity_spike","significance":0.7}},
"conversationMode":{"mode":"crisis_intervention","crisisDetected":true,"reasoning":"x"},
"created":"not a number","isFallback":"no"}"#;
    let (outs, summary) = decode_all(body);
    assert_eq!(emotions(&outs).len(), 1);
    let d = summary.details;
    assert_eq!(
        (d.external_id.as_str(), d.message_id.as_str()),
        ("msg-1", "4f1c")
    );
    let b = d.baseline;
    assert_eq!(b.window.as_str(), "month");
    assert_eq!(
        (b.data_point_count, b.breakthrough_count),
        (Some(12), Some(2))
    );
    assert_eq!(
        (
            b.average_intensity,
            b.valence,
            b.arousal,
            b.volatility,
            b.average_wonder_index
        ),
        (
            Some(Score(5000)),
            Some(Score(-2500)),
            Some(Score(3000)),
            Some(Score(1200)),
            Some(Score(2000))
        )
    );
    let t = d.trend;
    assert_eq!(
        (
            t.direction.as_str(),
            t.valence,
            t.intensity,
            t.wonder,
            t.breakthrough_rate
        ),
        (
            "declining",
            Some(Score(-800)),
            Some(Score(100)),
            Some(Score(0)),
            Some(Score(1000))
        )
    );
    assert_eq!(d.conversation_mode.mode.as_str(), "crisis_intervention");
    assert_eq!(d.conversation_mode.crisis_detected, Some(true));
    // Values of the wrong type are dropped, not misread.
    assert_eq!((d.created, d.is_fallback), (None, None));
}

/// Unknown enum values are kept as `Other`.
#[test]
fn open_enums() {
    let body = br#"{"emotions":{"user":{"intensityLevel":"extreme","complexity":"simple","discoveryLevel":"cosmic"}}}"#;
    let (outs, _) = decode_all(body);
    let e = &emotions(&outs)[0];
    assert_eq!(
        e.intensity_level,
        Some(IntensityLevel::Other(label("extreme")))
    );
    assert_eq!(
        e.discovery_level.map(|d| d.as_str() == "cosmic"),
        Some(true)
    );
    assert_eq!(IntensityLevel::parse("critical").as_str(), "critical");
}

/// Spec §3.7, a batch response: `emotions` as an array.
#[test]
fn batch_response() {
    let body = br#"{"object":"emotions.batch_analysis","model":"emotion-v2","emotions":[
{"text":"a","category":"joy","intensity":0.9},
{"text":"b","category":"fear","raw":{"fear":0.7}},
{"text":"c","category":"sadness","valence":-1}
],"metadata":{},"usage":{"total_tokens":30}}"#;
    let (outs, summary) = decode_all(body);
    let e = emotions(&outs);
    assert_eq!(e.len(), 3);
    for (i, (text, category)) in [("a", "joy"), ("b", "fear"), ("c", "sadness")]
        .into_iter()
        .enumerate()
    {
        assert_eq!(e[i].index, i as u16);
        assert!(e[i].role.is_empty());
        assert_eq!((e[i].text.as_str(), cat(&e[i])), (text, category));
    }
    assert_eq!(e[0].intensity, Some(Score(9000)));
    assert_eq!(raw(&e[1]), [("fear", 7000)]);
    assert_eq!(e[2].valence, Some(Score(-10_000)));
    assert_eq!(summary.usage.total_tokens, Some(30));
    assert_eq!(summary.emotions, 3);
}

/// Non-object elements of a batch array still count as positions.
#[test]
fn batch_indexes_count_every_element() {
    let (outs, _) = decode_all(br#"{"emotions":[null,"x",[1],{"category":"joy"}]}"#);
    let e = emotions(&outs);
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].index, 3);
}

/// JSON-escapes `s` the way a server might: quotes, backslashes, controls and non-ASCII.
fn escape(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || (c as u32) > 0x7E => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    out.push_str(&std::format!("\\u{u:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out
}

fn chat_body(text: &str) -> String {
    std::format!(
        r#"{{"id":"chatcmpl-1","object":"chat.completion","choices":[{{"index":0,"message":{{"role":"assistant","content":"{}"}},"finish_reason":"stop"}},{{"index":1,"message":{{"content":"other choice"}}}}],"usage":{{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}}}"#,
        escape(text)
    )
}

/// A 200-character completion with escapes: the chunks are full, identical for every split,
/// and concatenate to the decoded text.
#[test]
fn long_completion_with_escapes() {
    let mut text = String::new();
    while text.chars().count() < 200 {
        text.push_str("Tip \"one\":\n\tbreathe \\ caf\u{e9} \u{1F600}! ");
    }
    let text: String = text.chars().take(200).collect();
    let body = chat_body(&text);
    let (outs, summary) = decode_all(body.as_bytes());
    let chunks = content(&outs);
    assert_eq!(chunks.concat(), text.as_bytes(), "only choices[0] is read");
    let (last, full) = chunks.split_last().unwrap();
    // Full pieces stop short only to keep a character whole.
    assert!(
        full.iter()
            .all(|c| c.len() > CHUNK_CAP - 4 && c.len() <= CHUNK_CAP)
    );
    assert!(chunks.iter().all(|c| core::str::from_utf8(c).is_ok()));
    assert!(!last.is_empty() && last.len() <= CHUNK_CAP);
    assert_eq!(summary.usage.total_tokens, Some(3));
    assert_eq!(summary.finish_reason.as_str(), "stop");
}

/// Streamed chunks (one JSON document per SSE event): `delta.content`, summary accumulating.
#[test]
fn stream_events_with_reset() {
    let events: [&[u8]; 3] = [
        br#"{"id":"chatcmpl-9","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":"Hel"},"finish_reason":null}]}"#,
        br#"{"id":"chatcmpl-9","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"lo \u00e9"},"finish_reason":null}]}"#,
        br#"{"id":"chatcmpl-9","object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"emotions":{"user":{"category":"joy"}},"usage":{"prompt_tokens":5}}"#,
    ];
    let mut p = SuccessParser::new();
    let mut text = Vec::new();
    let mut n_emotions = 0;
    for ev in events {
        for &b in ev {
            let (n, out) = p.feed(&[b]).unwrap();
            let mut outs: Vec<Owned> = out.map(own).into_iter().collect();
            if n == 0 {
                let (n, out) = p.feed(&[b]).unwrap();
                assert_eq!(n, 1);
                outs.extend(out.map(own));
            }
            for o in outs {
                match o {
                    Owned::Content(c) => text.extend_from_slice(&c),
                    Owned::Emotion(_) => n_emotions += 1,
                    #[allow(unreachable_patterns)]
                    _ => {}
                }
            }
        }
        assert_eq!(p.finish(), Ok(None));
        p.reset();
    }
    assert_eq!(text, "Hello \u{e9}".as_bytes());
    assert_eq!(n_emotions, 1);
    let s = p.summary();
    assert_eq!(s.finish_reason.as_str(), "stop");
    assert_eq!(s.object.as_str(), "chat.completion.chunk");
    assert_eq!(s.usage.prompt_tokens, Some(5));
    assert_eq!(s.emotions, 1);
}

#[test]
fn incomplete_body_flushes_then_fails() {
    let body = br#"{"choices":[{"message":{"content":"partial"#;
    let (outs, result, _) = run(body, &[]);
    assert_eq!(content(&outs).concat(), b"partial");
    assert_eq!(result, Err(JsonError::Incomplete));
    let (outs, result, _) = run(br#"{"emotions":{"user":{"category":"joy""#, &[]);
    assert!(
        emotions(&outs).is_empty(),
        "an item is only delivered when it closes"
    );
    assert_eq!(result, Err(JsonError::Incomplete));
    let (_, result, _) = run(br#"{"a":1}}"#, &[]);
    assert_eq!(result, Err(JsonError::TrailingData));
}

#[test]
fn usage_counts_saturate_and_ignore_bad_numbers() {
    let body = br#"{"usage":{"prompt_tokens":99999999999,"completion_tokens":-1,"total_tokens":7.0,"analyseToken":3}}"#;
    let (_, summary) = decode_all(body);
    assert_eq!(
        summary.usage,
        Usage {
            prompt_tokens: Some(u32::MAX),
            completion_tokens: None,
            total_tokens: Some(7),
            analyse_tokens: Some(3)
        }
    );
}

#[test]
fn top_level_context_id_wins() {
    for body in [
        &br#"{"context_id":"top","metadata":{"context_id":"meta"}}"#[..],
        br#"{"metadata":{"context_id":"meta"},"context_id":"top"}"#,
    ] {
        assert_eq!(decode_all(body).1.context_id.as_str(), "top");
    }
}

#[test]
fn non_object_bodies_yield_nothing() {
    for body in [&b"[1,{\"emotions\":{}}]"[..], b"\"text\"", b"null", b"[]"] {
        let (outs, summary) = decode_all(body);
        assert!(outs.is_empty());
        assert_eq!(summary, Summary::default());
    }
}

proptest! {
    /// Arbitrary bytes never panic, in one piece or byte by byte.
    #[test]
    fn arbitrary_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = run(&body, &[]);
        let every: Vec<usize> = (1..body.len()).collect();
        let _ = run(&body, &every);
    }

    /// JSON-shaped noise around the known keys never panics, and splits do not matter.
    #[test]
    fn jsonish_bytes_never_panic(parts in proptest::collection::vec(proptest::sample::select(PARTS), 0..48), cut in any::<usize>()) {
        let body: Vec<u8> = parts.concat();
        let whole = run(&body, &[]);
        prop_assert_eq!(run(&body, &[cut % (body.len() + 1)]), whole);
    }

    /// Completion text of any content decodes exactly, in the same chunks for every split.
    #[test]
    fn completion_chunks_are_split_independent(
        text in "(\\PC|[\"\\\\\n\t\u{1}]){0,150}",
        cuts in proptest::collection::vec(any::<usize>(), 0..6),
    ) {
        let body = chat_body(&text);
        let bytes = body.as_bytes();
        let (outs, result, _) = run(bytes, &[]);
        prop_assert_eq!(result, Ok(()));
        let chunks = content(&outs);
        prop_assert_eq!(chunks.concat(), text.as_bytes());
        if let Some((_, full)) = chunks.split_last() {
            prop_assert!(full.iter().all(|c| c.len() > CHUNK_CAP - 4 && c.len() <= CHUNK_CAP));
            prop_assert!(chunks.iter().all(|c| core::str::from_utf8(c).is_ok()));
        }
        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c % (bytes.len() + 1)).collect();
        cuts.sort_unstable();
        prop_assert_eq!(run(bytes, &cuts).0, outs.clone());
        let every: Vec<usize> = (1..bytes.len()).collect();
        prop_assert_eq!(run(bytes, &every).0, outs);
    }
}

const PARTS: &[&[u8]] = &[
    b"{",
    b"}",
    b"[",
    b"]",
    b"\"",
    b":",
    b",",
    b"\"emotions\"",
    b"\"user\"",
    b"\"raw\"",
    b"\"choices\"",
    b"\"message\"",
    b"\"content\"",
    b"\"usage\"",
    b"\"category\"",
    b"\"intensity\"",
    b"\"x\\u00e9\"",
    b"\"\\ud83d\"",
    b"0.5",
    b"1",
    b"null",
    b" ",
];

/// Lone surrogates (U+FFFD, decoded late) and pairs falling on a chunk boundary.
#[test]
fn surrogates_on_chunk_boundaries() {
    for pad in CHUNK_CAP - 4..=CHUNK_CAP {
        for tail in [
            r#"\ud800""#,
            r#"\ud800x""#,
            r#"\ud800\n""#,
            r#"\ud800\u0041""#,
            r#"\ud83d\ude00""#,
        ] {
            let body = std::format!(
                r#"{{"choices":[{{"message":{{"content":"{}{tail}}}}}]}}"#,
                "a".repeat(pad)
            );
            let (outs, _) = decode_all(body.as_bytes());
            let chunks = content(&outs);
            let text = String::from_utf8(chunks.concat()).unwrap();
            assert!(text.starts_with(&"a".repeat(pad)));
            assert!(text.contains('\u{FFFD}') || text.contains('\u{1F600}'));
            assert!(
                chunks[0].len() > (CHUNK_CAP - 4).min(text.len()) && chunks[0].len() <= CHUNK_CAP
            );
            assert!(chunks.iter().all(|c| core::str::from_utf8(c).is_ok()));
        }
    }
}

mod elements;

/// The packed name tables agree with `NAMES` and the variants, for every open enum.
#[test]
fn open_enum_names_round_trip() {
    fn check<T: Copy + PartialEq + core::fmt::Debug>(
        names: &[&str],
        parse: fn(&str) -> T,
        as_str: fn(&T) -> &str,
        position: fn(&[u8]) -> Option<usize>,
        from_position: fn(usize) -> Option<T>,
    ) {
        for (i, name) in names.iter().enumerate() {
            let value = parse(name);
            assert_eq!(as_str(&value), *name);
            assert_eq!(position(name.as_bytes()), Some(i));
            assert_eq!(from_position(i), Some(value));
            // Near misses: another case, one byte short.
            let upper = name.to_ascii_uppercase();
            assert_eq!(position(upper.as_bytes()), None);
            let short = &name.as_bytes()[..name.len() - 1];
            assert_ne!(position(short), Some(i));
        }
        assert_eq!(from_position(names.len()), None);
        assert_eq!(position(b"not-a-name"), None);
        assert_eq!(position(b""), None);
        assert_eq!(as_str(&parse("not-a-name")), "not-a-name");
    }
    check(
        Category::NAMES,
        Category::parse,
        Category::as_str,
        Category::position,
        Category::from_position,
    );
    check(
        IntensityLevel::NAMES,
        IntensityLevel::parse,
        IntensityLevel::as_str,
        IntensityLevel::position,
        IntensityLevel::from_position,
    );
    check(
        Complexity::NAMES,
        Complexity::parse,
        Complexity::as_str,
        Complexity::position,
        Complexity::from_position,
    );
    check(
        DiscoveryLevel::NAMES,
        DiscoveryLevel::parse,
        DiscoveryLevel::as_str,
        DiscoveryLevel::position,
        DiscoveryLevel::from_position,
    );
    #[cfg(feature = "conversation")]
    check(
        PersonalityMode::NAMES,
        PersonalityMode::parse,
        PersonalityMode::as_str,
        PersonalityMode::position,
        PersonalityMode::from_position,
    );
    let c = Category::Surprise;
    assert_eq!(c.known_position(), Some(Category::NAMES.len() - 1));
    assert_eq!(Category::parse("x").known_position(), None);
}

/// A label read from the body parses as its visible text does, known or not, valid UTF-8 or
/// not, cut or not.
#[cfg(feature = "fast")]
#[test]
fn labels_parse_as_their_text() {
    let mut labels: Vec<&[u8]> = Category::NAMES.iter().map(|n| n.as_bytes()).collect();
    labels.extend([
        &b"fear\xff"[..],
        b"fea",
        b"FEAR",
        b"",
        b"\xc3",
        b"a-label-longer-than-its-capacity-of-24",
    ]);
    for bytes in labels {
        let mut label = Label::new();
        label.push_bytes(bytes);
        assert_eq!(
            Category::parse_label(&label),
            Category::parse(label.as_str()),
            "{bytes:?}"
        );
        assert_eq!(
            DiscoveryLevel::parse_label(&label),
            DiscoveryLevel::parse(label.as_str())
        );
    }
}

/// A label value decodes to the parse of its text whether it arrives whole or cut, at every
/// split point: every known name of the four label fields, unknown ones, one past the label's
/// capacity (kept cut), an empty one, and a known name written with an escape.
#[test]
fn label_values_decode_as_their_text() {
    let names = Category::NAMES.iter().chain(IntensityLevel::NAMES);
    let names = names.chain(Complexity::NAMES).chain(DiscoveryLevel::NAMES);
    let mut values: Vec<(String, String)> =
        names.map(|&n| (String::from(n), String::from(n))).collect();
    for odd in ["", "fea", "FEAR", "a-label-longer-than-its-capacity-of-24"] {
        values.push((String::from(odd), String::from(odd)));
    }
    values.push((String::from("fe\\u0061r"), String::from("fear")));
    for (wire, text) in &values {
        let body = std::format!(
            r#"{{"emotions":{{"user":{{"category":"{wire}","intensityLevel":"{wire}","complexity":"{wire}","discoveryLevel":"{wire}"}}}}}}"#
        );
        let (outs, _) = decode_all(body.as_bytes());
        let e = &emotions(&outs)[0];
        // A label keeps its first `LABEL_CAP` bytes (these texts are ASCII).
        let text = &text[..text.len().min(LABEL_CAP)];
        assert_eq!(e.category, Some(Category::parse(text)), "{wire}");
        assert_eq!(
            e.intensity_level,
            Some(IntensityLevel::parse(text)),
            "{wire}"
        );
        assert_eq!(e.complexity, Some(Complexity::parse(text)), "{wire}");
        assert_eq!(
            e.discovery_level,
            Some(DiscoveryLevel::parse(text)),
            "{wire}"
        );
    }
}

/// An item after a complete one starts empty: nothing of the first survives into the second
/// (the decoder reuses one item slot), in arrays and in maps (where the key is the role).
#[test]
fn an_item_keeps_nothing_of_the_one_before() {
    let full = r#"{"category":"joy","text":"glad","intensity":0.5,"intensityLevel":"high","valence":0.5,"arousal":0.5,"complexity":"simple","wonderIndex":0.5,"discoveryLevel":"breakthrough","raw":{"joy":0.9},"hostilityState":{"level":"none"}}"#;
    let array = std::format!(r#"{{"emotions":[{full},{{}}]}}"#);
    let items = emotions(&decode_all(array.as_bytes()).0);
    assert_eq!(items.len(), 2);
    assert_eq!(items[0].category, Some(Category::Joy));
    assert_eq!(
        items[1],
        Emotion {
            index: 1,
            ..Emotion::default()
        }
    );
    let map = std::format!(r#"{{"emotions":{{"user":{full},"assistant":{{}}}}}}"#);
    let items = emotions(&decode_all(map.as_bytes()).0);
    assert_eq!(items.len(), 2);
    assert_eq!(
        items[1],
        Emotion {
            role: label("assistant"),
            ..Emotion::default()
        }
    );
}
