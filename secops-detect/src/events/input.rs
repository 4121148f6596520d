//! Reading records: one JSON value, a JSON array of them, NDJSON, or JSON values one after another
//! (pretty-printed records concatenated, as some exporters write them).
//!
//! Records are parsed from an in-memory buffer that is refilled from the reader as needed: serde_json parses
//! a slice much faster than it parses from a reader byte by byte, and the buffer keeps memory bounded by the
//! largest record rather than by the input.

use std::io::{ErrorKind, Read};

use serde_json::Value;

use crate::error::DetectError;

/// Bytes read at a time; a record larger than this doubles the read until it fits.
const CHUNK: usize = 256 * 1024;

/// Records read from JSON input; see [`read_events`].
pub struct EventReader<R: Read> {
    reader: R,
    buf: Vec<u8>,
    pos: usize,
    eof: bool,
    state: State,
    record: usize,
}

enum State {
    Start,
    Stream,
    Array(std::vec::IntoIter<Value>),
    Done,
}

/// Read records from `reader`: a single JSON value, a JSON array of records, NDJSON, or JSON values written
/// one after another. Reading stops at the first malformed record, which is returned as an error naming
/// its position.
///
/// ```
/// use secops_detect::events::read_events;
///
/// let ndjson = "{\"a\": 1}\n{\"a\": 2}\n";
/// let array = "[{\"a\": 1}, {\"a\": 2}]";
/// let pretty = "{\n  \"a\": 1\n}\n{\n  \"a\": 2\n}";
/// for input in [ndjson, array, pretty] {
///     let records: Vec<_> = read_events(input.as_bytes()).collect::<Result<_, _>>().unwrap();
///     assert_eq!(records.len(), 2);
/// }
/// assert!(read_events("{\"a\": ".as_bytes()).any(|r| r.is_err()));
/// ```
pub fn read_events<R: Read>(reader: R) -> EventReader<R> {
    EventReader {
        reader,
        buf: Vec::new(),
        pos: 0,
        eof: false,
        state: State::Start,
        record: 0,
    }
}

impl<R: Read> EventReader<R> {
    fn fail(&mut self, message: String) -> Option<Result<Value, DetectError>> {
        self.state = State::Done;
        Some(Err(DetectError::EventInput {
            record: self.record,
            message,
        }))
    }

    /// Read more input: at least [`CHUNK`] bytes, or as much as is buffered already, so that a record
    /// that keeps not fitting is re-parsed a logarithmic number of times.
    fn refill(&mut self) -> std::io::Result<()> {
        if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        let want = CHUNK.max(self.buf.len());
        let start = self.buf.len();
        self.buf.resize(start + want, 0);
        let mut filled = start;
        while filled < self.buf.len() {
            match self.reader.read(&mut self.buf[filled..]) {
                Ok(0) => {
                    self.eof = true;
                    break;
                }
                Ok(n) => filled += n,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => {
                    self.buf.truncate(filled);
                    return Err(e);
                }
            }
        }
        self.buf.truncate(filled);
        Ok(())
    }

    /// Skip blanks; `Ok(None)` at the end of the input.
    fn next_byte(&mut self) -> std::io::Result<Option<u8>> {
        loop {
            if let Some(skip) = self.buf[self.pos..].iter().position(|b| !b.is_ascii_whitespace()) {
                self.pos += skip;
                return Ok(Some(self.buf[self.pos]));
            }
            self.pos = self.buf.len();
            if self.eof {
                return Ok(None);
            }
            self.refill()?;
        }
    }
}

impl<R: Read> Iterator for EventReader<R> {
    type Item = Result<Value, DetectError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            match &mut self.state {
                State::Start => {
                    // `[` first: an array of records, read whole. Anything else: a stream of records.
                    match self.next_byte() {
                        Err(e) => return self.fail(e.to_string()),
                        Ok(None) => {
                            self.state = State::Done;
                            return None;
                        }
                        Ok(Some(b'[')) => {
                            self.record = 1;
                            while !self.eof {
                                if let Err(e) = self.refill() {
                                    return self.fail(e.to_string());
                                }
                            }
                            match serde_json::from_slice::<Vec<Value>>(&self.buf[self.pos..]) {
                                Ok(records) => {
                                    self.record = 0;
                                    self.buf = Vec::new();
                                    self.pos = 0;
                                    self.state = State::Array(records.into_iter());
                                }
                                Err(e) => return self.fail(e.to_string()),
                            }
                        }
                        Ok(Some(_)) => self.state = State::Stream,
                    }
                }
                State::Stream => {
                    match self.next_byte() {
                        Err(e) => return self.fail(e.to_string()),
                        Ok(None) => {
                            self.state = State::Done;
                            return None;
                        }
                        Ok(Some(_)) => {}
                    }
                    let slice = &self.buf[self.pos..];
                    let mut stream = serde_json::Deserializer::from_slice(slice).into_iter::<Value>();
                    let parsed = stream.next();
                    let used = stream.byte_offset();
                    match parsed {
                        Some(Ok(value)) => {
                            // A number or literal that ends the buffer may go on in the next chunk.
                            let complete = value.is_object() || value.is_array() || value.is_string();
                            if !complete && used == slice.len() && !self.eof {
                                if let Err(e) = self.refill() {
                                    return self.fail(e.to_string());
                                }
                                continue;
                            }
                            self.pos += used;
                            self.record += 1;
                            return Some(Ok(value));
                        }
                        Some(Err(e)) if e.is_eof() && !self.eof => {
                            if let Err(e) = self.refill() {
                                return self.fail(e.to_string());
                            }
                        }
                        Some(Err(e)) => {
                            self.record += 1;
                            return self.fail(e.to_string());
                        }
                        None => {
                            self.state = State::Done;
                            return None;
                        }
                    }
                }
                State::Array(records) => {
                    self.record += 1;
                    return records.next().map(Ok);
                }
                State::Done => return None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that hands out at most `n` bytes per read, to cut records across refills.
    struct Trickle<'a>(&'a [u8], usize);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.1.min(buf.len()).min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn records_larger_than_a_chunk_and_split_reads() {
        let big = "x".repeat(3 * CHUNK);
        let input = format!("{{\"a\": \"{big}\"}}\n12345\n{{\"b\": [1, 2]}}\n\"s\"");
        let records: Vec<Value> = read_events(Trickle(input.as_bytes(), 7000))
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(records.len(), 4);
        assert_eq!(records[0]["a"].as_str().map(str::len), Some(3 * CHUNK));
        assert_eq!(records[1], 12345);
        assert_eq!(records[3], "s");
    }

    #[test]
    fn errors_name_the_record() {
        let results: Vec<_> = read_events("{\"a\": 1}\n{\"a\": }\n{\"a\": 3}".as_bytes()).collect();
        assert_eq!(results.len(), 2);
        match &results[1] {
            Err(DetectError::EventInput { record, .. }) => assert_eq!(*record, 2),
            other => panic!("{other:?}"),
        }
        assert_eq!(read_events("   \n".as_bytes()).count(), 0);
    }
}
