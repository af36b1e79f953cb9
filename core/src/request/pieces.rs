//! The constant pieces of a request, stored one after the other, each after a byte holding its
//! length. A piece is named by its offset ([`Piece`]): one number is cheaper to pass than a
//! `&str` (pointer and length), which adds up over the few dozen places that write one.

/// The offset of a piece's length byte in [`TEXT`].
#[derive(Clone, Copy)]
pub(super) struct Piece(u16);

macro_rules! pieces {
    ($($name:ident = $text:literal,)*) => {
        const LIST: &[&str] = &[$($text),*];
        pieces!(@at 0; $($name)*);
    };
    (@at $i:expr; $name:ident $($rest:ident)*) => {
        pub(super) const $name: Piece = at($i);
        pieces!(@at $i + 1; $($rest)*);
    };
    (@at $i:expr;) => {};
}

pieces! {
    MODEL = "{\"model\":",
    EMOTION_MODEL = ",\"emotion_model\":",
    CONTEXT_ID = ",\"context_id\":",
    MESSAGES = ",\"messages\":[{",
    NEXT_MESSAGE = ",{",
    ROLE = "\"role\":",
    EXTERNAL_ID = "\"externalId\":",
    CONTENT_TEXT = "\"content\":{\"text\":",
    CONTENT = "\"content\":",
    TIMESTAMP = ",\"timestamp\":",
    MODEL_PARAMS = ",\"model_params\":{",
    TEMPERATURE = "\"temperature\":",
    MAX_TOKENS = "\"max_tokens\":",
    STREAM = ",\"stream\":true",
    POST = "POST ",
    GET = "GET ",
    V2 = "/v2",
    ANALYZE = "/emotions/analysis",
    EMOTIONS = "/emotions/",
    BATCH = "/emotions/batch-analysis",
    CHAT = "/chat/completions",
    ANALYSIS = "/analysis",
    MESSAGE = "/message/",
    NOTHING = "",
    VERSION_HOST = " HTTP/1.1\r\nHost: ",
    ACCEPT = "\r\nAccept: application/json",
    EVENT_STREAM = ", text/event-stream",
    X_API_KEY = "\r\nx-api-key: ",
    BEARER = "\r\nAuthorization: Bearer ",
    CONTENT_LENGTH = "\r\nContent-Type: application/json\r\nContent-Length: ",
    CLOSE = "\r\nConnection: close",
    END = "\r\n\r\n",
}

/// Every piece of [`LIST`], each after its length.
static TEXT: [u8; TEXT_LEN] = join();

const TEXT_LEN: usize = {
    let mut n = 0;
    let mut i = 0;
    while i < LIST.len() {
        n += 1 + LIST[i].len();
        i += 1;
    }
    n
};

const fn join() -> [u8; TEXT_LEN] {
    let mut text = [0; TEXT_LEN];
    let mut at = 0;
    let mut i = 0;
    while i < LIST.len() {
        let piece = LIST[i].as_bytes();
        assert!(piece.len() <= u8::MAX as usize);
        text[at] = piece.len() as u8;
        let mut j = 0;
        while j < piece.len() {
            text[at + 1 + j] = piece[j];
            j += 1;
        }
        at += 1 + piece.len();
        i += 1;
    }
    text
}

/// The piece `LIST[i]`.
const fn at(i: usize) -> Piece {
    let mut at = 0;
    let mut j = 0;
    while j < i {
        at += 1 + LIST[j].len();
        j += 1;
    }
    assert!(at <= u16::MAX as usize);
    Piece(at as u16)
}

impl Piece {
    /// The piece's bytes.
    #[cfg_attr(feature = "fast", inline(always))]
    pub(super) fn bytes(self) -> &'static [u8] {
        let at = usize::from(self.0);
        let len = TEXT.get(at).copied().map_or(0, usize::from);
        let start = at.wrapping_add(1);
        TEXT.get(start..start.wrapping_add(len)).unwrap_or(&[])
    }
}

#[cfg(test)]
mod tests {
    use super::{LIST, at};

    #[test]
    fn every_piece_reads_back_whole() {
        for (i, want) in LIST.iter().enumerate() {
            assert_eq!(at(i).bytes(), want.as_bytes(), "piece {i}");
        }
    }
}
