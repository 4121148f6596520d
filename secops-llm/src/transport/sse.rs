//! An incremental Server-Sent Events decoder (the WHATWG event-stream format) that accepts bytes cut anywhere:
//! mid-line, mid-UTF-8 character, mid-event.

use memchr::memchr;

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SseEvent {
    /// The `event:` field; empty when the server sent none (the spec's default type is `message`).
    pub event: String,
    /// The `data:` lines joined with `\n`.
    pub data: String,
}

/// The stream is not valid UTF-8.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the event stream is not valid UTF-8 near byte {offset}")]
pub struct SseError {
    /// Bytes consumed before the bad line.
    pub offset: usize,
}

/// Decodes an event stream chunk by chunk.
#[derive(Debug, Default)]
pub struct SseDecoder {
    pending: Vec<u8>,
    event: String,
    data: String,
    has_data: bool,
    consumed: usize,
}

impl SseDecoder {
    /// A decoder at the start of a stream.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds the next bytes; complete events are appended to `out`.
    pub fn feed(&mut self, chunk: &[u8], out: &mut Vec<SseEvent>) -> Result<(), SseError> {
        if self.pending.is_empty() {
            // Fast path: decode straight from the chunk, keep only an incomplete last line.
            let rest = self.lines(chunk, out)?;
            self.pending.extend_from_slice(rest);
        } else {
            self.pending.extend_from_slice(chunk);
            let pending = std::mem::take(&mut self.pending);
            let rest = self.lines(&pending, out)?;
            self.pending = rest.to_vec();
        }
        Ok(())
    }

    /// Whether bytes or fields of an event that was never completed are buffered (a cut-off stream).
    #[must_use]
    pub fn has_partial_event(&self) -> bool {
        !self.pending.is_empty() || self.has_data || !self.event.is_empty()
    }

    fn lines<'b>(&mut self, mut bytes: &'b [u8], out: &mut Vec<SseEvent>) -> Result<&'b [u8], SseError> {
        while let Some(nl) = memchr(b'\n', bytes) {
            let mut line = &bytes[..nl];
            if let [head @ .., b'\r'] = line {
                line = head;
            }
            self.line(line, out)?;
            self.consumed += nl + 1;
            bytes = &bytes[nl + 1..];
        }
        Ok(bytes)
    }

    fn line(&mut self, line: &[u8], out: &mut Vec<SseEvent>) -> Result<(), SseError> {
        if line.is_empty() {
            if self.has_data {
                if self.data.ends_with('\n') {
                    self.data.pop();
                }
                out.push(SseEvent {
                    event: std::mem::take(&mut self.event),
                    data: std::mem::take(&mut self.data),
                });
            } else {
                self.event.clear();
            }
            self.has_data = false;
            return Ok(());
        }
        if line[0] == b':' {
            return Ok(());
        }
        let (field, value) = match memchr(b':', line) {
            Some(colon) => {
                let value = &line[colon + 1..];
                (&line[..colon], value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (line, &b""[..]),
        };
        let value = std::str::from_utf8(value).map_err(|_| SseError {
            offset: self.consumed,
        })?;
        match field {
            b"data" => {
                self.data.push_str(value);
                self.data.push('\n');
                self.has_data = true;
            }
            b"event" => {
                self.event.clear();
                self.event.push_str(value);
            }
            // `id` and `retry` only matter to reconnecting browsers; unknown fields are ignored per the spec.
            _ => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_in_pieces(bytes: &[u8], piece: usize) -> Vec<SseEvent> {
        let mut d = SseDecoder::new();
        let mut out = Vec::new();
        for chunk in bytes.chunks(piece) {
            d.feed(chunk, &mut out).unwrap();
        }
        out
    }

    #[test]
    fn decodes_fields_comments_crlf_and_multiline_data() {
        let stream = "event: message_start\ndata: {\"a\":1}\n\n: keep-alive\n\ndata: line1\r\ndata:line2\r\n\r\nevent: ping\nid: 7\nretry: 10\ndata: ü✓\n\n";
        let expected = vec![
            SseEvent {
                event: "message_start".into(),
                data: "{\"a\":1}".into(),
            },
            SseEvent {
                event: String::new(),
                data: "line1\nline2".into(),
            },
            SseEvent {
                event: "ping".into(),
                data: "ü✓".into(),
            },
        ];
        for piece in 1..stream.len() {
            assert_eq!(
                decode_in_pieces(stream.as_bytes(), piece),
                expected,
                "piece size {piece}"
            );
        }
    }

    #[test]
    fn reports_partial_events_and_bad_utf8() {
        let mut d = SseDecoder::new();
        let mut out = Vec::new();
        d.feed(b"data: {\"half\":", &mut out).unwrap();
        assert!(out.is_empty() && d.has_partial_event());
        let mut d = SseDecoder::new();
        assert!(d.feed(b"data: \xff\xfe\n\n", &mut out).is_err());
    }
}
