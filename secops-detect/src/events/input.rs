//! Reading records: one JSON value, a JSON array of them, NDJSON, or JSON values one after another
//! (pretty-printed records concatenated, as some exporters write them).

use std::io::{BufRead, BufReader, Read};

use serde_json::Value;
use serde_json::de::IoRead;

use crate::error::DetectError;

/// Records read from JSON input; see [`read_events`].
pub struct EventReader<R: Read> {
    state: State<R>,
    record: usize,
}

enum State<R: Read> {
    Start(BufReader<R>),
    Stream(serde_json::StreamDeserializer<'static, IoRead<BufReader<R>>, Value>),
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
        state: State::Start(BufReader::with_capacity(64 * 1024, reader)),
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
}

impl<R: Read> Iterator for EventReader<R> {
    type Item = Result<Value, DetectError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            match &mut self.state {
                State::Start(reader) => {
                    // Peek at the first non-blank byte: `[` is an array of records, anything else a stream.
                    let first = loop {
                        let buf = match reader.fill_buf() {
                            Ok(buf) => buf,
                            Err(e) => return self.fail(e.to_string()),
                        };
                        if buf.is_empty() {
                            break None;
                        }
                        match buf.iter().position(|b| !b.is_ascii_whitespace()) {
                            Some(i) => {
                                let byte = buf[i];
                                reader.consume(i);
                                break Some(byte);
                            }
                            None => {
                                let n = buf.len();
                                reader.consume(n);
                            }
                        }
                    };
                    let State::Start(reader) = std::mem::replace(&mut self.state, State::Done) else {
                        return None;
                    };
                    match first {
                        None => return None,
                        Some(b'[') => {
                            self.record = 1;
                            match serde_json::from_reader::<_, Vec<Value>>(reader) {
                                Ok(records) => {
                                    self.record = 0;
                                    self.state = State::Array(records.into_iter());
                                }
                                Err(e) => return self.fail(e.to_string()),
                            }
                        }
                        Some(_) => {
                            self.state =
                                State::Stream(serde_json::Deserializer::from_reader(reader).into_iter());
                        }
                    }
                }
                State::Stream(stream) => {
                    self.record += 1;
                    return match stream.next()? {
                        Ok(value) => Some(Ok(value)),
                        Err(e) => self.fail(e.to_string()),
                    };
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
