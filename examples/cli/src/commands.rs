//! The API commands once their options are parsed and a client exists: each sends its
//! request and prints the result (see `USAGE` in `main.rs` for the output contract).

use std::io::Write;

use kaiko_std::kaiko_core::request::{ChatMessage, ChatRequest, EMOTION_MODEL, Message, Request};
use kaiko_std::{Analysis, Client, Event, Retry};

use super::{CallOptions, EXIT_OUTPUT, Op, call_error, emit, emotion_json, one_line, to_json};

/// The LLM a chat uses unless `--model` says otherwise.
const DEFAULT_CHAT_MODEL: &str = "gpt-4o-mini";

/// Builds the request `op` sends from its options and operands, and hands it to `f`.
pub(super) fn with_request<R>(
    op: Op,
    args: &CallOptions,
    operands: &[String],
    f: impl FnOnce(Request<'_>) -> R,
) -> R {
    let first = operands.first().map_or("", String::as_str);
    let second = operands.get(1).map_or("", String::as_str);
    match op {
        Op::Analyze => {
            let mut message = Message::user(first);
            if let Some(id) = &args.external_id {
                message = message.with_external_id(id);
            }
            let messages = [message];
            f(match &args.context {
                Some(context_id) => Request::AnalyzeInContext {
                    model: EMOTION_MODEL,
                    context_id,
                    messages: &messages,
                },
                None => Request::analyze(&messages),
            })
        }
        Op::Chat => {
            let messages = [ChatMessage::user(first)];
            f(Request::ChatCompletion(chat_request(args, &messages)))
        }
        Op::Batch => {
            let messages: Vec<Message<'_>> = operands.iter().map(|t| Message::user(t)).collect();
            f(Request::BatchAnalyze {
                model: EMOTION_MODEL,
                messages: &messages,
            })
        }
        Op::ContextShow => f(Request::ContextState { context_id: first }),
        Op::ContextMessage => f(Request::MessageLookup {
            context_id: first,
            external_id: second,
        }),
    }
}

/// `kaiko chat`'s request: one user message.
fn chat_request<'a>(args: &'a CallOptions, messages: &'a [ChatMessage<'a>]) -> ChatRequest<'a> {
    ChatRequest {
        model: args.model.as_deref().unwrap_or(DEFAULT_CHAT_MODEL),
        emotion_model: args.emotion_model.as_deref().unwrap_or(EMOTION_MODEL),
        context_id: args.context.as_deref(),
        messages,
        temperature: args.temperature,
        max_tokens: args.max_tokens,
        stream: args.stream,
    }
}

/// The retry progress line on stderr.
fn retry_note(r: &Retry) {
    note!(
        "retry {}/{} in {} after {}",
        r.retry,
        r.max_retries,
        r.delay,
        one_line(&r.cause.to_string())
    );
}

fn deprecation_note(a: &Analysis) {
    deprecation_warning(&a.success);
}

/// One line on stderr when the response announced a deprecation, with the Sunset date if any.
fn deprecation_warning(s: &kaiko_std::Success) {
    if !s.deprecated {
        return;
    }
    // Where the server documents it (RFC 8594 §6), else the changelog.
    let see = if s.link.is_empty() {
        "check the API changelog".to_owned()
    } else {
        format!("see Link: {}", one_line(s.link.as_str()))
    };
    match s.sunset {
        Some(t) => note!(
            "kaiko: warning: the server marks this endpoint deprecated; it may stop answering on {} (Sunset header); {see}",
            utc_date(u64::from(t.get()))
        ),
        None => note!(
            "kaiko: warning: the server marks this endpoint deprecated (Deprecation or Sunset header); {see}"
        ),
    }
}

/// `YYYY-MM-DD` of a Unix time in UTC (days to civil date, proleptic Gregorian calendar).
fn utc_date(unix: u64) -> String {
    let z = i64::try_from(unix / 86_400).unwrap_or(i64::MAX / 2) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

/// Runs `op` (not chat) and keeps its items.
fn collect(
    client: &mut Client,
    op: Op,
    args: &CallOptions,
    operands: &[String],
) -> Result<Analysis, u8> {
    collect_with(client, op, args, operands, |_| {})
}

/// [`collect`], handing every other event to `on_event` (retries are reported here).
fn collect_with(
    client: &mut Client,
    op: Op,
    args: &CallOptions,
    operands: &[String],
    mut on_event: impl FnMut(Event<'_>),
) -> Result<Analysis, u8> {
    with_request(op, args, operands, |request| {
        client
            .collect(request, |event| match event {
                Event::RetryScheduled(r) => retry_note(r),
                other => on_event(other),
            })
            .map_err(call_error)
    })
}

/// Similar moments a context's state lists, at most this many (the rest are counted).
const MAX_MOMENTS: usize = 100;

/// One similar moment of a context's trajectory, as printed and as JSON.
struct MomentRow {
    id: String,
    emotion: String,
    intensity: Option<kaiko_std::kaiko_core::score::Score>,
    similarity: Option<kaiko_std::kaiko_core::score::Score>,
}

pub(super) fn analyze(client: &mut Client, args: &CallOptions, text: &str) -> u8 {
    match collect(client, Op::Analyze, args, &[text.to_owned()]) {
        Ok(a) => {
            deprecation_note(&a);
            if args.json {
                emit(&format!("{}\n", to_json(&a)))
            } else {
                emit(&super::to_text(&a))
            }
        }
        Err(code) => code,
    }
}

pub(super) fn batch(client: &mut Client, args: &CallOptions, texts: &[String]) -> u8 {
    let a = match collect(client, Op::Batch, args, texts) {
        Ok(a) => a,
        Err(code) => return code,
    };
    deprecation_note(&a);
    let mut out = String::new();
    for (i, e) in a.emotions.iter().enumerate() {
        // Array items carry their position; map-shaped answers are numbered in order.
        let index = if e.role.is_empty() {
            usize::from(e.index)
        } else {
            i
        };
        if args.json {
            let mut v = emotion_json(e);
            v["index"] = serde_json::json!(index);
            out.push_str(&v.to_string());
        } else {
            let opt = |s: Option<kaiko_std::kaiko_core::score::Score>| {
                s.map_or_else(|| "-".to_owned(), |s| s.to_string())
            };
            out.push_str(&format!(
                "{index} {} intensity {} valence {} arousal {}",
                e.category
                    .as_ref()
                    .map_or("-".to_owned(), |c| one_line(c.as_str())),
                opt(e.intensity),
                opt(e.valence),
                opt(e.arousal)
            ));
        }
        out.push('\n');
    }
    if a.emotions.len() != texts.len() {
        note!(
            "kaiko: warning: {} texts sent, {} results received",
            texts.len(),
            a.emotions.len()
        );
    }
    emit(&out)
}

pub(super) fn context_show(client: &mut Client, args: &CallOptions, context_id: &str) -> u8 {
    let ops = [context_id.to_owned()];
    let (mut moments, mut more) = (Vec::new(), 0usize);
    let result = collect_with(client, Op::ContextShow, args, &ops, |event| match event {
        Event::RetryScheduled(_) => moments.clear(),
        Event::Moment(m) if moments.len() < MAX_MOMENTS => moments.push(MomentRow {
            id: m.memory_id.as_str().to_owned(),
            emotion: m.emotion.as_str().to_owned(),
            intensity: m.intensity,
            similarity: m.similarity,
        }),
        Event::Moment(_) => more += 1,
        _ => {}
    });
    context_output(result, args, &moments, more)
}

pub(super) fn context_message(
    client: &mut Client,
    args: &CallOptions,
    context_id: &str,
    external_id: &str,
) -> u8 {
    let ops = [context_id.to_owned(), external_id.to_owned()];
    context_output(
        collect(client, Op::ContextMessage, args, &ops),
        args,
        &[],
        0,
    )
}

/// A context state or message: the items, then the trajectory (baseline, trend, each similar
/// moment on its own line) and ids the body gave.
fn context_output(
    result: Result<Analysis, u8>,
    args: &CallOptions,
    moments: &[MomentRow],
    more_moments: usize,
) -> u8 {
    let a = match result {
        Ok(a) => a,
        Err(code) => return code,
    };
    deprecation_note(&a);
    let d = &a.success.summary.details;
    let opt = |s: Option<kaiko_std::kaiko_core::score::Score>| {
        s.map_or_else(|| "-".to_owned(), |s| s.to_string())
    };
    let count = |n: Option<u32>| n.map_or_else(|| "-".to_owned(), |n| n.to_string());
    if args.json {
        let mut v: serde_json::Value =
            serde_json::from_str(&to_json(&a)).unwrap_or(serde_json::Value::Null);
        let score = |s: Option<kaiko_std::kaiko_core::score::Score>| s.map(super::score);
        v["trajectory"] = serde_json::json!({
            "baseline": {
                "window": d.baseline.window.as_str(),
                "data_point_count": d.baseline.data_point_count,
                "average_intensity": score(d.baseline.average_intensity),
                "valence": score(d.baseline.valence),
                "arousal": score(d.baseline.arousal),
            },
            "trend": {
                "direction": d.trend.direction.as_str(),
                "valence": score(d.trend.valence),
                "intensity": score(d.trend.intensity),
            },
            "similar_moments": moments
                .iter()
                .map(|m| serde_json::json!({
                    "memory_id": m.id,
                    "emotion": m.emotion,
                    "intensity": score(m.intensity),
                    "similarity": score(m.similarity),
                }))
                .collect::<Vec<_>>(),
            "similar_moments_not_shown": more_moments,
        });
        v["external_id"] = serde_json::json!(d.external_id.as_str());
        v["message_id"] = serde_json::json!(d.message_id.as_str());
        return emit(&format!("{v}\n"));
    }
    let mut out = super::to_text(&a);
    let b = &d.baseline;
    out.push_str(&format!(
        "baseline         data points {}, intensity {}, valence {}, arousal {}\n",
        count(b.data_point_count),
        opt(b.average_intensity),
        opt(b.valence),
        opt(b.arousal)
    ));
    let t = &d.trend;
    out.push_str(&format!(
        "trend            {} (valence {}, intensity {})\n",
        if t.direction.is_empty() {
            "-".to_owned()
        } else {
            one_line(t.direction.as_str())
        },
        opt(t.valence),
        opt(t.intensity)
    ));
    for m in moments {
        out.push_str(&format!(
            "moment           {} {} intensity {} similarity {}\n",
            one_line(&m.id),
            one_line(&m.emotion),
            opt(m.intensity),
            opt(m.similarity)
        ));
    }
    if more_moments > 0 {
        out.push_str(&format!("moment           ... {more_moments} more\n"));
    }
    if !d.message_id.is_empty() {
        out.push_str(&format!(
            "message id       {}\n",
            one_line(d.message_id.as_str())
        ));
    }
    emit(&out)
}

pub(super) fn chat(client: &mut Client, args: &CallOptions, text: &str) -> u8 {
    let stream = args.stream && !args.json;
    let mut printed = false;
    let mut failed_output = false;
    let messages = [ChatMessage::user(text)];
    let result = {
        client.chat(chat_request(args, &messages), |event| match event {
            Event::RetryScheduled(r) => {
                if printed {
                    note!("\nkaiko: the answer above was cut off; the retry's answer follows");
                    printed = false;
                }
                retry_note(r);
            }
            Event::Content(piece) if stream && !failed_output => {
                let mut out = std::io::stdout().lock();
                if out
                    .write_all(piece.as_bytes())
                    .and_then(|()| out.flush())
                    .is_err()
                {
                    failed_output = true;
                }
                printed = true;
            }
            _ => {}
        })
    };
    let chat = match result {
        Ok(c) => c,
        Err(e) => {
            if printed {
                let _ = emit("\n");
            }
            return call_error(e);
        }
    };
    if failed_output {
        return EXIT_OUTPUT;
    }
    let s = &chat.success;
    let u = &s.summary.usage;
    deprecation_warning(s);
    if args.json {
        let usage = serde_json::json!({
            "prompt_tokens": u.prompt_tokens,
            "completion_tokens": u.completion_tokens,
            "total_tokens": u.total_tokens,
        });
        let v = serde_json::json!({
            "content": chat.content,
            "finish_reason": s.summary.finish_reason.as_str(),
            "emotions": chat.emotions.iter().map(emotion_json).collect::<Vec<_>>(),
            "usage": usage,
            "request_id": s.request_id.as_str(),
        });
        return emit(&format!("{v}\n"));
    }
    for e in &chat.emotions {
        note!(
            "emotion {}: {} intensity {} valence {}",
            if e.role.is_empty() {
                "-".to_owned()
            } else {
                one_line(e.role.as_str())
            },
            e.category
                .as_ref()
                .map_or("-".to_owned(), |c| one_line(c.as_str())),
            e.intensity
                .map_or_else(|| "-".to_owned(), |s| s.to_string()),
            e.valence.map_or_else(|| "-".to_owned(), |s| s.to_string()),
        );
    }
    let n = |v: Option<u32>| v.map_or_else(|| "-".to_owned(), |v| v.to_string());
    note!(
        "usage: prompt {} completion {} total {} tokens",
        n(u.prompt_tokens),
        n(u.completion_tokens),
        n(u.total_tokens)
    );
    if stream {
        emit("\n")
    } else {
        emit(&format!("{}\n", chat.content))
    }
}

#[cfg(test)]
mod tests {
    use super::utc_date;

    #[test]
    fn utc_dates() {
        assert_eq!(utc_date(0), "1970-01-01");
        assert_eq!(utc_date(784_111_777), "1994-11-06");
        assert_eq!(utc_date(1_774_915_200), "2026-03-31");
        assert_eq!(utc_date(951_782_400), "2000-02-29");
        assert_eq!(utc_date(2_146_003_199), "2038-01-01");
        // Far future values do not overflow.
        assert!(!utc_date(u64::MAX).is_empty());
    }
}
