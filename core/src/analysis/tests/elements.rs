//! List elements handed out one by one, `hostilityState` and the usage details: each
//! decoded at every split point and byte by byte, and lists of any length in a fixed-size
//! parser.

#[allow(unused_imports)]
use super::*;

/// Every output of one kind, in order.
#[allow(unused_macros)]
macro_rules! all {
    ($outs:expr, $variant:ident) => {
        $outs
            .iter()
            .filter_map(|o| match o {
                Owned::$variant(x) => Some((**x).clone()),
                _ => None,
            })
            .collect::<Vec<_>>()
    };
}

#[cfg(feature = "details")]
#[test]
fn hostility_state_and_usage_details() {
    let body = br#"{"object":"emotions.analysis","emotions":{
"user":{"category":"anger","hostilityState":{"level":"high","score":0.82,"escalationCount":3,
"lastEscalation":"2025-01-15T10:29:58.000Z","deEscalationDetected":false,
"recommendedResponse":"boundary_setting","extra":{"level":"none"}},"valence":-0.7},
"assistant":{"category":"calm"}},
"usage":{"analyse_token":17,"analyse_token_details":{"cached_tokens":5,"audio_tokens":0,"other":1}}}"#;
    let (outs, summary) = decode_all(body);
    let e = emotions(&outs);
    assert_eq!(e.len(), 2);
    let h = e[0].hostility.expect("hostilityState");
    assert_eq!(h.level.as_str(), "high");
    assert_eq!(h.score, Some(Score(8200)));
    assert_eq!(h.escalation_count, Some(3));
    assert_eq!(h.last_escalation.as_str(), "2025-01-15T10:29:58.000Z");
    assert_eq!(h.de_escalation_detected, Some(false));
    assert_eq!(h.recommended_response.as_str(), "boundary_setting");
    // The fields after the object are still the item's.
    assert_eq!(e[0].valence, Some(Score(-7000)));
    // An item without one has none (nothing carried over from the previous item).
    assert_eq!(e[1].hostility, None);
    assert_eq!(summary.usage.analyse_tokens, Some(17));
    let d = summary.details;
    assert_eq!((d.cached_tokens, d.audio_tokens), (Some(5), Some(0)));
}

/// `trajectory.baseline`'s map and text, beside the fields the details decoder had already.
#[cfg(feature = "details")]
#[test]
fn dominant_emotions_and_average_complexity() {
    let body = br#"{"trajectory":{"baseline":{"window":"week","dominantEmotions":{"joy":0.38,"neutral":0.21,
"nervousness":0.14,"optimism":0.11,"wonder":0.1,"sadness":0.05,"anger":0.04,"fear":0.02},
"averageComplexity":"layered","dataPointCount":42}}}"#;
    let (_, summary) = decode_all(body);
    let b = summary.details.baseline;
    assert_eq!(b.average_complexity.as_str(), "layered");
    assert_eq!(b.data_point_count, Some(42));
    let kept: Vec<(&str, i32)> = b
        .dominant_emotions
        .iter()
        .map(|(c, s)| (leak(c.as_str()), s.0))
        .collect();
    assert_eq!(
        kept,
        [
            ("joy", 3800),
            ("neutral", 2100),
            ("nervousness", 1400),
            ("optimism", 1100),
            ("sadness", 500),
            ("anger", 400)
        ]
    );
    // `wonder` is not an emotion label of this version, and `fear` fell off: both counted.
    assert!(b.dominant_emotions.is_truncated());
}

#[cfg(feature = "choices")]
#[test]
fn every_finished_choice_is_an_event_and_only_the_first_one_is_content() {
    let body = br#"{"object":"chat.completion","choices":[
{"index":0,"message":{"role":"assistant","content":"first"},"finish_reason":"stop"},
{"index":1,"message":{"role":"assistant","content":"second"},"finish_reason":"length"},
{"index":2,"message":{"role":"assistant","content":"third"},"finish_reason":null},
{"finish_reason":"content_filter","index":3}],
"emotions":{"user":{"category":"joy"}}}"#;
    let (outs, summary) = decode_all(body);
    assert_eq!(content(&outs), [b"first".to_vec()]);
    let choices: Vec<Choice> = outs
        .iter()
        .filter_map(|o| match o {
            Owned::Choice(c) => Some(*c),
            _ => None,
        })
        .collect();
    let seen: Vec<(u16, &str, &str)> = choices
        .iter()
        .map(|c| (c.index, c.role.as_str(), c.finish_reason.as_str()))
        .collect();
    assert_eq!(
        seen,
        [
            (0, "assistant", "stop"),
            (1, "assistant", "length"),
            (3, "", "content_filter")
        ]
    );
    assert_eq!(summary.finish_reason.as_str(), "stop");
    // The emotion after the choices is still read.
    assert_eq!(emotions(&outs).len(), 1);
}

/// Streamed chunks (one document each): only the chunk that finishes the choice yields it,
/// and the summary keeps its `finish_reason`.
#[cfg(feature = "choices")]
#[test]
fn a_streamed_choice_is_an_event_once_it_finishes() {
    let chunks: [&[u8]; 3] = [
        br#"{"choices":[{"index":0,"delta":{"role":"assistant","content":"Hel"},"finish_reason":null}]}"#,
        br#"{"choices":[{"index":0,"delta":{"content":"lo"},"finish_reason":null}]}"#,
        br#"{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#,
    ];
    let mut p = SuccessParser::new();
    let mut text = Vec::new();
    let mut finished = Vec::new();
    for chunk in chunks {
        let mut input = chunk;
        loop {
            let (n, out) = p.feed(input).unwrap();
            input = &input[n..];
            match out.map(own) {
                Some(Owned::Content(c)) => text.extend_from_slice(&c),
                Some(Owned::Choice(c)) => finished.push(c.finish_reason),
                Some(_) => {}
                None => break,
            }
        }
        while let Some(out) = p.finish().unwrap() {
            if let Output::Content(c) = out {
                text.extend_from_slice(c.as_bytes());
            }
        }
        p.reset();
    }
    assert_eq!(text, b"Hello");
    assert_eq!(finished, [label("stop")]);
    assert_eq!(p.summary().finish_reason.as_str(), "stop");
}

#[cfg(feature = "trajectory")]
#[test]
fn similar_moments_breakthrough_and_insights() {
    let body = br#"{"trajectory":{"trend":{"direction":"improving"},
"breakthrough":{"detected":true,"type":"intensity_spike","significance":0.21},
"momentum":{"currentEmotion":"joy","currentIntensity":0.85,"currentWonder":0.55,"trajectory":"de-escalating",
"momentum":-0.12,"averageIntensity":0.64,"averageWonder":0.41,"averageValence":0.44,"emotionalVolatility":0.17,
"discoveryPotential":"medium","windowHours":24,"dataPointCount":9},
"similarMoments":{"moments":[
{"memoryId":"mem-0193a1","similarity":0.91,"emotion":"joy","intensity":0.8,"timestamp":"2025-01-12T18:04:11.000Z","tags":["work","opportunity"],"context":"New role offer"},
{"memoryId":"mem-0193a7","similarity":0.84,"emotion":"excitement","intensity":0.74,"timestamp":"2025-01-09T09:41:52.000Z","tags":[]},
{"memoryId":"mem-0193b2","tags":["a",1,"b",{"c":"d"},"e\u00e9"]}],
"patterns":[{"patternId":"pat-12","patternType":"trigger_based","name":"Opportunity excitement","frequency":4,"confidence":0.72,"emotionalSequence":["nervousness","excitement","joy"]}],
"insights":"Similar moments of anticipation tend to resolve into joy within a day."}},
"emotions":{"user":{"category":"joy"}}}"#;
    let (outs, summary) = decode_all(body);
    let moments = all!(outs, Moment);
    assert_eq!(moments.len(), 3);
    let m = &moments[0];
    assert_eq!(
        (m.index, m.memory_id.as_str(), m.emotion.as_str()),
        (0, "mem-0193a1", "joy")
    );
    assert_eq!(
        (m.similarity, m.intensity),
        (Some(Score(9100)), Some(Score(8000)))
    );
    assert_eq!(m.timestamp.as_str(), "2025-01-12T18:04:11.000Z");
    assert_eq!((m.tag_count, m.tags.as_str()), (2, "work,opportunity"));
    assert_eq!(m.context.as_str(), "New role offer");
    assert_eq!((moments[1].index, moments[1].tag_count), (1, 0));
    assert_eq!(moments[1].context.as_str(), "");
    // Entries that are not strings are not tags.
    assert_eq!(
        (moments[2].tag_count, moments[2].tags.as_str()),
        (3, "a,b,e\u{e9}")
    );
    let patterns = all!(outs, Pattern);
    assert_eq!(patterns.len(), 1);
    let p = &patterns[0];
    assert!(p.similar_moments);
    assert_eq!(
        (p.id.as_str(), p.kind.as_str()),
        ("pat-12", "trigger_based")
    );
    assert_eq!(p.name.as_str(), "Opportunity excitement");
    assert_eq!((p.frequency, p.confidence), (Some(4), Some(Score(7200))));
    assert_eq!(
        (p.sequence_len, p.sequence.as_str()),
        (3, "nervousness,excitement,joy")
    );
    let t = summary.details.trajectory;
    assert_eq!(t.breakthrough, Some(true));
    assert_eq!(t.breakthrough_type.as_str(), "intensity_spike");
    assert_eq!(t.breakthrough_significance, Some(Score(2100)));
    assert_eq!(
        t.insights.as_str(),
        "Similar moments of anticipation tend to resolve into joy within a day."
    );
    assert_eq!(summary.details.trend.direction.as_str(), "improving");
    let m = t.momentum;
    assert_eq!(
        (
            m.current_emotion.as_str(),
            m.direction.as_str(),
            m.discovery_potential.as_str()
        ),
        ("joy", "de-escalating", "medium")
    );
    assert_eq!(
        (m.current_intensity, m.current_wonder, m.momentum),
        (Some(Score(8500)), Some(Score(5500)), Some(Score(-1200)))
    );
    assert_eq!(
        (
            m.average_intensity,
            m.average_wonder,
            m.average_valence,
            m.volatility
        ),
        (
            Some(Score(6400)),
            Some(Score(4100)),
            Some(Score(4400)),
            Some(Score(1700))
        )
    );
    assert_eq!((m.window_hours, m.data_point_count), (Some(24), Some(9)));
    assert_eq!(emotions(&outs).len(), 1);
}

#[cfg(feature = "growth")]
#[test]
fn growth_dimensions_one_by_one() {
    let body = br#"{"growth":{"comparisonWindow":{
"recent":{"start":"2025-01-08T00:00:00.000Z","end":"2025-01-15T00:00:00.000Z","dataPoints":18},
"historical":{"start":"2024-12-08T00:00:00.000Z","end":"2025-01-08T00:00:00.000Z","dataPoints":61}},
"dimensions":[
{"dimension":"regulation","percentageChange":12.5,"recentValue":0.62,"historicalValue":0.55,"threshold":0.05,"isGrowing":true,"description":"Steadier responses to setbacks"},
{"dimension":"vulnerability","percentageChange":-3.2,"isGrowing":false},
{}],
"overallGrowthScore":0.64,"dimensionsGrowing":3,"dimensionsDecline":0,
"summary":"Growth in regulation and awareness over the last week."}}"#;
    let (outs, summary) = decode_all(body);
    let dims = all!(outs, Dimension);
    assert_eq!(dims.len(), 3);
    let d = &dims[0];
    assert_eq!((d.index, d.dimension.as_str()), (0, "regulation"));
    assert_eq!(
        (
            d.percentage_change,
            d.recent_value,
            d.historical_value,
            d.threshold
        ),
        (
            Some(Score(125_000)),
            Some(Score(6200)),
            Some(Score(5500)),
            Some(Score(500))
        )
    );
    assert_eq!(d.is_growing, Some(true));
    assert_eq!(d.description.as_str(), "Steadier responses to setbacks");
    assert_eq!(
        (dims[1].percentage_change, dims[1].is_growing),
        (Some(Score(-32_000)), Some(false))
    );
    assert_eq!(dims[2].index, 2);
    assert_eq!(dims[2].dimension.as_str(), "");
    let g = summary.details.growth;
    assert_eq!(g.recent.start.as_str(), "2025-01-08T00:00:00.000Z");
    assert_eq!(g.recent.end.as_str(), "2025-01-15T00:00:00.000Z");
    assert_eq!(g.recent.data_points, Some(18));
    assert_eq!(g.historical.start.as_str(), "2024-12-08T00:00:00.000Z");
    assert_eq!(g.historical.data_points, Some(61));
    assert_eq!(g.overall_score, Some(Score(6400)));
    assert_eq!(
        (g.dimensions_growing, g.dimensions_declining),
        (Some(3), Some(0))
    );
    assert_eq!(
        g.summary.as_str(),
        "Growth in regulation and awareness over the last week."
    );
}

#[cfg(feature = "beliefs")]
#[test]
fn beliefs_one_by_one() {
    let body = br#"{"beliefs":{"beliefs":[
{"type":"identity","content":"I am someone who finishes what I start","confidence":0.8,"rawMatch":"I am someone who"},
{"type":"value","content":"Family comes first"}],
"totalBeliefs":2,"beliefsByType":{"identity":1,"value":1},"summary":"One identity and one value belief."},
"emotions":{"user":{"category":"pride"}}}"#;
    let (outs, summary) = decode_all(body);
    let beliefs = all!(outs, Belief);
    assert_eq!(beliefs.len(), 2);
    let b = &beliefs[0];
    assert_eq!((b.index, b.kind.as_str()), (0, "identity"));
    assert_eq!(b.content.as_str(), "I am someone who finishes what I start");
    assert_eq!(b.confidence, Some(Score(8000)));
    assert_eq!(b.raw_match.as_str(), "I am someone who");
    assert_eq!((beliefs[1].index, beliefs[1].kind.as_str()), (1, "value"));
    assert_eq!(beliefs[1].confidence, None);
    let x = summary.details.beliefs;
    assert_eq!(x.total, Some(2));
    let by_type = x.by_type;
    assert_eq!(
        (
            by_type.identity,
            by_type.value,
            by_type.explicit,
            by_type.purpose
        ),
        (Some(1), Some(1), None, None)
    );
    assert_eq!(x.summary.as_str(), "One identity and one value belief.");
    assert_eq!(emotions(&outs).len(), 1);
}

/// Every type of `beliefsByType`; unknown types, wrong values and a map of the wrong shape
/// are dropped without disturbing the rest.
#[cfg(feature = "beliefs")]
#[test]
fn beliefs_by_type() {
    let body = br#"{"beliefs":{"beliefsByType":{"explicit":3,"identity":0,"value":"two","purpose":4294967296,
"capability":5,"nested":{"value":9}},"totalBeliefs":7,"summary":"s"}}"#;
    let (_, summary) = decode_all(body);
    let x = summary.details.beliefs;
    assert_eq!(
        x.by_type,
        BeliefsByType {
            explicit: Some(3),
            identity: Some(0),
            value: None,
            purpose: Some(u32::MAX),
        }
    );
    assert_eq!((x.total, x.summary.as_str()), (Some(7), "s"));
    let body = br#"{"beliefs":{"beliefsByType":[{"value":1}],"totalBeliefs":1}}"#;
    let (_, summary) = decode_all(body);
    assert_eq!(summary.details.beliefs.by_type, BeliefsByType::default());
    assert_eq!(summary.details.beliefs.total, Some(1));
}

#[cfg(feature = "patterns")]
#[test]
fn detected_patterns_one_by_one() {
    let body = br#"{"patterns":{"detected":[
{"patternId":"p-1","patternType":"temporal","name":"Sunday evening dip","description":"Lower valence on Sunday evenings",
"trigger":"end of weekend","emotionalSequence":["calm","sadness"],"frequency":6,"confidence":0.66,
"lastOccurrence":"2025-01-12T19:00:00.000Z","firstDetected":"2024-11-03T19:00:00.000Z","typicalDuration":90,"typicalIntensity":0.4},
{"patternId":"p-2","patternType":"recovery"}],
"activePatterns":["p-1","p-2"],"patternSummary":"Two patterns, one active on weekends."}}"#;
    let (outs, summary) = decode_all(body);
    let patterns = all!(outs, Pattern);
    assert_eq!(patterns.len(), 2);
    let p = &patterns[0];
    assert!(!p.similar_moments);
    assert_eq!(
        (p.index, p.id.as_str(), p.kind.as_str()),
        (0, "p-1", "temporal")
    );
    assert_eq!(p.name.as_str(), "Sunday evening dip");
    assert_eq!(p.description.as_str(), "Lower valence on Sunday evenings");
    assert_eq!(p.trigger.as_str(), "end of weekend");
    assert_eq!((p.sequence_len, p.sequence.as_str()), (2, "calm,sadness"));
    assert_eq!((p.frequency, p.confidence), (Some(6), Some(Score(6600))));
    assert_eq!(p.last_occurrence.as_str(), "2025-01-12T19:00:00.000Z");
    assert_eq!(p.first_detected.as_str(), "2024-11-03T19:00:00.000Z");
    assert_eq!(
        (p.typical_duration, p.typical_intensity),
        (Some(90), Some(Score(4000)))
    );
    assert_eq!(
        (patterns[1].index, patterns[1].kind.as_str()),
        (1, "recovery")
    );
    let x = summary.details.patterns;
    assert_eq!((x.active_count, x.active.as_str()), (2, "p-1,p-2"));
    assert_eq!(x.summary.as_str(), "Two patterns, one active on weekends.");
}

/// Feeds `head`, then `element` `count` times, in pieces of `piece` bytes; returns how many
/// outputs came and the last one.
#[allow(dead_code)]
fn endless(head: &[u8], element: &[u8], count: usize, piece: usize) -> (usize, Option<Owned>) {
    let mut p = SuccessParser::new();
    let mut outputs = 0;
    let mut last = None;
    let mut feed = |p: &mut SuccessParser, mut input: &[u8]| {
        while !input.is_empty() {
            let (n, out) = p.feed(input).expect("valid JSON");
            input = &input[n..];
            if let Some(o) = out {
                outputs += 1;
                last = Some(own(o));
            }
        }
    };
    feed(&mut p, head);
    for _ in 0..count {
        for part in element.chunks(piece) {
            feed(&mut p, part);
        }
    }
    (outputs, last)
}

/// Lists far longer than anything the parser could hold arrive element by element from a
/// parser whose size is fixed at compile time (no allocator exists in the core): the only
/// memory a list costs is the one element slot.
#[cfg(all(
    feature = "choices",
    feature = "trajectory",
    feature = "growth",
    feature = "beliefs",
    feature = "patterns"
))]
#[test]
fn endless_lists_arrive_one_element_at_a_time() {
    const N: usize = 100_000;
    let size = core::mem::size_of::<SuccessParser>();
    let cases: [(&[u8], &[u8], usize); 6] = [
        (
            br#"{"choices":["#,
            br#"{"message":{"content":""},"finish_reason":"stop"},"#,
            N,
        ),
        (
            br#"{"trajectory":{"similarMoments":{"moments":["#,
            br#"{"memoryId":"m","tags":["x"]},"#,
            N,
        ),
        (
            br#"{"trajectory":{"similarMoments":{"patterns":["#,
            br#"{"patternId":"p"},"#,
            N,
        ),
        (
            br#"{"growth":{"dimensions":["#,
            br#"{"dimension":"awareness","isGrowing":true},"#,
            N,
        ),
        (br#"{"beliefs":{"beliefs":["#, br#"{"type":"value"},"#, N),
        (br#"{"patterns":{"detected":["#, br#"{"patternId":"p"},"#, N),
    ];
    for (head, element, count) in cases {
        let (outputs, last) = endless(head, element, count, 7);
        assert_eq!(outputs, count, "{}", String::from_utf8_lossy(head));
        // Positions saturate instead of wrapping.
        let index = match last {
            Some(Owned::Choice(c)) => c.index,
            Some(Owned::Moment(m)) => m.index,
            Some(Owned::Pattern(p)) => p.index,
            Some(Owned::Dimension(d)) => d.index,
            Some(Owned::Belief(b)) => b.index,
            other => panic!("{other:?}"),
        };
        assert_eq!(index, u16::MAX);
    }
    // A string list inside one element keeps what fits and counts the rest.
    let (outputs, _) = endless(
        br#"{"patterns":{"detected":[{"emotionalSequence":["#,
        br#""joy","#,
        N,
        3,
    );
    assert_eq!(outputs, 0);
    let mut p = SuccessParser::new();
    let mut body = Vec::new();
    body.extend_from_slice(br#"{"patterns":{"detected":[{"emotionalSequence":["#);
    for _ in 0..N {
        body.extend_from_slice(br#""joy","#);
    }
    body.extend_from_slice(br#""joy"]}]}}"#);
    let mut input = &body[..];
    let mut pattern = None;
    while !input.is_empty() {
        let (n, out) = p.feed(input).unwrap();
        input = &input[n..];
        if let Some(Output::Pattern(x)) = out {
            pattern = Some(*x);
        }
    }
    let pattern = pattern.expect("the pattern");
    assert_eq!(pattern.sequence_len, u16::MAX);
    assert!(pattern.sequence.is_truncated());
    assert_eq!(core::mem::size_of_val(&p), size);
}

/// Containers of the wrong type, and elements that are not objects, are skipped whole:
/// no event, no error, and the document's later values are still read.
#[cfg(all(
    feature = "choices",
    feature = "trajectory",
    feature = "growth",
    feature = "beliefs",
    feature = "patterns"
))]
#[test]
fn wrong_shapes_are_skipped() {
    let body = br#"{"growth":{"dimensions":{"dimension":"x"},"comparisonWindow":[1]},
"beliefs":{"beliefs":[1,"two",null,[{"type":"x"}]]},
"patterns":{"detected":"none","activePatterns":{"a":"b"}},
"trajectory":{"similarMoments":[{"moments":[{}]}],"momentum":[],"breakthrough":"yes"},
"choices":[1,[{"finish_reason":"stop"}]],
"emotions":{"user":{"hostilityState":["high"],"category":"joy"}},
"object":"emotions.analysis"}"#;
    let (outs, summary) = decode_all(body);
    assert_eq!(outs.len(), 1, "{outs:?}");
    let e = &emotions(&outs)[0];
    assert_eq!((e.category, e.hostility), (Some(Category::Joy), None));
    assert_eq!(summary.object.as_str(), "emotions.analysis");
    assert_eq!(summary.details.patterns.active_count, 0);
    assert_eq!(summary.details.trajectory, TrajectoryExtras::default());
}

/// `conversationMode` in full, as the backend code sends it (spec §3.4).
#[cfg(feature = "conversation")]
const CONVERSATION_BODY: &[u8] = br#"{"object":"emotions.analysis","conversationMode":{"mode":"emotional_support",
"confidence":0.86,"reasoning":"High distress with sadness \u2014 support first","crisisDetected":false,
"responseStrategy":{"tone":"warm","focus":"validation","actionables":["acknowledge feelings","ask open questions"]},
"personalityMode":"therapeutic","personalityConfidence":0.74,
"responseGuidance":{"tone":"gentle","focus":"listening","speechPatterns":["short sentences","mirror words"],
"prohibitions":["no advice yet"],"exampleResponses":["That sounds hard.","I'm here."],"extra":{"tone":"x"}}},
"emotions":{"user":{"category":"sadness"}}}"#;

#[cfg(feature = "conversation")]
#[test]
fn conversation_mode_in_full() {
    let (outs, summary) = decode_all(CONVERSATION_BODY);
    assert_eq!(emotions(&outs).len(), 1);
    let m = summary.details.conversation_mode;
    assert_eq!(m.mode.as_str(), "emotional_support");
    assert_eq!(
        (m.confidence, m.crisis_detected),
        (Some(Score(8600)), Some(false))
    );
    assert_eq!(
        m.reasoning.as_str(),
        "High distress with sadness \u{2014} support first"
    );
    let s = m.strategy;
    assert_eq!((s.tone.as_str(), s.focus.as_str()), ("warm", "validation"));
    assert_eq!(
        (s.actionables.count, s.actionables.joined.as_str()),
        (2, "acknowledge feelings,ask open questions")
    );
    assert_eq!(m.personality_mode, Some(PersonalityMode::Therapeutic));
    assert_eq!(m.personality_confidence, Some(Score(7400)));
    let g = m.guidance;
    assert_eq!((g.tone.as_str(), g.focus.as_str()), ("gentle", "listening"));
    assert_eq!(
        (g.speech_patterns.count, g.speech_patterns.joined.as_str()),
        (2, "short sentences,mirror words")
    );
    assert_eq!(
        (g.prohibitions.count, g.prohibitions.joined.as_str()),
        (1, "no advice yet")
    );
    assert_eq!(
        (
            g.example_responses.count,
            g.example_responses.joined.as_str()
        ),
        (2, "That sounds hard.,I'm here.")
    );
    assert!(!g.example_responses.joined.is_truncated());
}

/// An unknown personality mode is kept as sent; an empty list counts nothing.
#[cfg(feature = "conversation")]
#[test]
fn conversation_mode_open_enum_and_empty_lists() {
    let body =
        br#"{"conversationMode":{"personalityMode":"playful","responseStrategy":{"actionables":[]},
"responseGuidance":{"speechPatterns":[],"prohibitions":[""]}}}"#;
    let (_, summary) = decode_all(body);
    let m = summary.details.conversation_mode;
    assert_eq!(
        m.personality_mode,
        Some(PersonalityMode::Other(label("playful")))
    );
    assert_eq!(m.strategy.actionables, StringList::default());
    assert_eq!(m.guidance.speech_patterns, StringList::default());
    // An empty string is still an entry.
    assert_eq!(
        (
            m.guidance.prohibitions.count,
            m.guidance.prohibitions.joined.as_str()
        ),
        (1, "")
    );
}

/// Containers of the wrong shape, and entries that are not strings, are skipped whole and
/// the values after them are still read.
#[cfg(feature = "conversation")]
#[test]
fn conversation_mode_wrong_shapes_are_skipped() {
    let body = br#"{"conversationMode":{"responseStrategy":["warm"],"responseGuidance":"gentle",
"reasoning":{"text":"x"},"personalityMode":3,"personalityConfidence":"high","mode":"conversational"},
"conversationMode2":{"reasoning":"not this"},
"object":"emotions.analysis"}"#;
    let (outs, summary) = decode_all(body);
    assert!(outs.is_empty());
    let m = summary.details.conversation_mode;
    assert_eq!(m.mode.as_str(), "conversational");
    assert_eq!(m.strategy, ResponseStrategy::default());
    assert_eq!(m.guidance, ResponseGuidance::default());
    assert_eq!(
        (
            m.reasoning.as_str(),
            m.personality_mode,
            m.personality_confidence
        ),
        ("", None, None)
    );
    assert_eq!(summary.object.as_str(), "emotions.analysis");

    let body = br#"{"conversationMode":{"responseStrategy":{"tone":["a"],"focus":{"b":1},
"actionables":{"a":"b"}},"responseGuidance":{"speechPatterns":"one","prohibitions":[1,null,["x"],{"y":"z"},"kept",true],
"exampleResponses":[[["deep"]],"ok"]},"crisisDetected":true}}"#;
    let (_, summary) = decode_all(body);
    let m = summary.details.conversation_mode;
    assert_eq!(m.strategy, ResponseStrategy::default());
    assert_eq!(m.guidance.speech_patterns, StringList::default());
    // Only string entries are counted.
    assert_eq!(
        (
            m.guidance.prohibitions.count,
            m.guidance.prohibitions.joined.as_str()
        ),
        (1, "kept")
    );
    assert_eq!(
        (
            m.guidance.example_responses.count,
            m.guidance.example_responses.joined.as_str()
        ),
        (1, "ok")
    );
    assert_eq!(m.crisis_detected, Some(true));
}

/// Over-long texts keep what fits, cut on a character boundary and marked truncated.
#[cfg(feature = "conversation")]
#[test]
fn conversation_mode_long_texts_are_truncated() {
    let long = "é".repeat(200);
    let body = std::format!(
        r#"{{"conversationMode":{{"reasoning":"{long}","personalityMode":"{long}",
"responseStrategy":{{"tone":"{long}","actionables":["{long}","b"]}},
"responseGuidance":{{"focus":"a{long}","exampleResponses":["x","{long}"]}}}}}}"#
    );
    let (_, summary) = decode_all(body.as_bytes());
    let m = summary.details.conversation_mode;
    let cut = "é".repeat(DESCRIPTION_CAP / 2);
    for t in [m.reasoning, m.strategy.tone, m.strategy.actionables.joined] {
        assert_eq!(t.as_str(), cut);
        assert!(t.is_truncated());
    }
    assert_eq!(m.strategy.actionables.count, 2);
    // `a` + 47 two-byte characters: 95 bytes, the 96th would split one.
    assert_eq!(
        m.guidance.focus.as_str(),
        std::format!("a{}", "é".repeat(DESCRIPTION_CAP / 2 - 1))
    );
    assert!(m.guidance.focus.is_truncated());
    let examples = m.guidance.example_responses;
    assert_eq!(examples.count, 2);
    assert_eq!(
        examples.joined.as_str(),
        std::format!("x,{}", "é".repeat(DESCRIPTION_CAP / 2 - 1))
    );
    assert!(examples.joined.is_truncated());
    let Some(PersonalityMode::Other(mode)) = m.personality_mode else {
        panic!("{:?}", m.personality_mode)
    };
    assert_eq!(mode.as_str(), "é".repeat(LABEL_CAP / 2));
    assert!(mode.is_truncated());
}

/// Endless string lists and texts cost no memory beyond the parser's fixed size: counts
/// saturate, texts stay full and marked.
#[cfg(feature = "conversation")]
#[test]
fn conversation_mode_endless_lists_are_bounded() {
    const N: usize = 100_000;
    for key in [
        &br#"{"conversationMode":{"responseStrategy":{"actionables":["#[..],
        br#"{"conversationMode":{"responseGuidance":{"speechPatterns":["#,
        br#"{"conversationMode":{"responseGuidance":{"prohibitions":["#,
        br#"{"conversationMode":{"responseGuidance":{"exampleResponses":["#,
    ] {
        let mut p = SuccessParser::new();
        let size = core::mem::size_of_val(&p);
        let mut body = key.to_vec();
        for _ in 0..N {
            body.extend_from_slice(br#""entry","#);
        }
        body.extend_from_slice(br#""entry"]},"reasoning":""#);
        body.extend_from_slice(&b"r".repeat(N));
        body.extend_from_slice(br#""}}"#);
        for piece in body.chunks(13) {
            let mut input = piece;
            while !input.is_empty() {
                let (n, out) = p.feed(input).unwrap();
                assert!(out.is_none());
                input = &input[n..];
            }
        }
        assert_eq!(p.finish().unwrap().map(|_| ()), None);
        let m = p.summary().details.conversation_mode;
        let lists = [
            m.strategy.actionables,
            m.guidance.speech_patterns,
            m.guidance.prohibitions,
            m.guidance.example_responses,
        ];
        let full: Vec<_> = lists.iter().filter(|l| l.count > 0).collect();
        assert_eq!(full.len(), 1, "{}", String::from_utf8_lossy(key));
        assert_eq!(full[0].count, u16::MAX);
        assert!(full[0].joined.is_truncated());
        assert!(full[0].joined.as_str().starts_with("entry,entry,"));
        assert_eq!(m.reasoning.as_str().len(), DESCRIPTION_CAP);
        assert!(m.reasoning.is_truncated());
        assert_eq!(core::mem::size_of_val(&p), size);
    }
}
