//! The bytes of a streamed response: the request head, then chunked transfer coding with few
//! system calls (framing and small data copied next to each other, large data written from the
//! caller's memory), then the last chunk with the error trailers when the stream failed.

use std::io::{self, IoSlice, Write};

use super::{StreamTarget, ERROR_BODY_TRAILER, ERROR_TYPE_TRAILER, RESPONSE_MODE_HEADER};

/// Chunk data up to this size is copied next to its framing so that a burst of small writes
/// leaves in one `write` call; larger data goes to the socket from the caller's memory.
pub(super) const COALESCE_MAX: usize = 8 * 1024;
/// The copied bytes are flushed at this size even while more commands are queued.
const PENDING_FLUSH_AT: usize = 64 * 1024;

pub(super) fn request_head(target: &StreamTarget, content_type: &str) -> Vec<u8> {
    let mut head = Vec::with_capacity(320 + target.path.len());
    head.extend_from_slice(b"POST ");
    head.extend_from_slice(target.path.as_bytes());
    head.extend_from_slice(b" HTTP/1.1\r\nHost: ");
    head.extend_from_slice(target.authority.as_bytes());
    head.extend_from_slice(b"\r\nUser-Agent: lambda-rapid/0.1\r\n");
    head.extend_from_slice(RESPONSE_MODE_HEADER.as_bytes());
    head.extend_from_slice(b": streaming\r\nContent-Type: ");
    head.extend_from_slice(header_value(content_type).as_bytes());
    head.extend_from_slice(b"\r\nTransfer-Encoding: chunked\r\nTrailer: ");
    head.extend_from_slice(ERROR_TYPE_TRAILER.as_bytes());
    head.extend_from_slice(b", ");
    head.extend_from_slice(ERROR_BODY_TRAILER.as_bytes());
    head.extend_from_slice(b"\r\n\r\n");
    head
}

/// A header value keeps only visible ASCII, spaces and tabs: nothing can end the line early.
pub(super) fn header_value(value: &str) -> String {
    value
        .chars()
        .map(|c| {
            if c == '\t' || (' '..='~').contains(&c) {
                c
            } else {
                '?'
            }
        })
        .collect()
}

/// Chunked transfer coding with few system calls: framing and small data are copied into
/// `pending`; large data is written from the caller's memory with a vectored write.
pub(super) struct ChunkedWriter<W: Write> {
    out: W,
    pub(super) pending: Vec<u8>,
}

impl<W: Write> ChunkedWriter<W> {
    pub(super) fn new(out: W, head: Vec<u8>) -> Self {
        let mut pending = head;
        pending.reserve(PENDING_FLUSH_AT);
        ChunkedWriter { out, pending }
    }

    /// One HTTP chunk holding all `parts`; nothing at all if they are empty (a zero-size chunk
    /// would end the body).
    pub(super) fn chunk<C: AsRef<[u8]>>(&mut self, parts: &[C]) -> io::Result<()> {
        let total: usize = parts.iter().map(|p| p.as_ref().len()).sum();
        if total == 0 {
            return Ok(());
        }
        // `write!` into a Vec cannot fail.
        let _ = write!(self.pending, "{total:x}\r\n");
        for part in parts {
            let part = part.as_ref();
            if part.len() <= COALESCE_MAX {
                self.pending.extend_from_slice(part);
            } else {
                write_all_vectored(&mut self.out, &self.pending, part)?;
                self.pending.clear();
            }
        }
        self.pending.extend_from_slice(b"\r\n");
        if self.pending.len() >= PENDING_FLUSH_AT {
            self.flush()?;
        }
        Ok(())
    }

    pub(super) fn finish(&mut self, trailers: &[(&str, &str)]) -> io::Result<()> {
        self.pending.extend_from_slice(b"0\r\n");
        for (name, value) in trailers {
            self.pending.extend_from_slice(name.as_bytes());
            self.pending.extend_from_slice(b": ");
            self.pending.extend_from_slice(value.as_bytes());
            self.pending.extend_from_slice(b"\r\n");
        }
        self.pending.extend_from_slice(b"\r\n");
        self.flush()
    }

    pub(super) fn flush(&mut self) -> io::Result<()> {
        if !self.pending.is_empty() {
            self.out.write_all(&self.pending)?;
            self.pending.clear();
        }
        self.out.flush()
    }
}

fn write_all_vectored<W: Write>(out: &mut W, first: &[u8], second: &[u8]) -> io::Result<()> {
    let mut slices = [IoSlice::new(first), IoSlice::new(second)];
    let mut bufs = &mut slices[..];
    IoSlice::advance_slices(&mut bufs, 0);
    while !bufs.is_empty() {
        match out.write_vectored(bufs) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => IoSlice::advance_slices(&mut bufs, n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_are_framed_small_parts_coalesced_and_large_ones_passed_through() {
        let mut out = Vec::new();
        let mut w = ChunkedWriter::new(&mut out, b"HEAD\r\n\r\n".to_vec());
        let large = vec![b'x'; COALESCE_MAX + 1];
        w.chunk(&[&b"ab"[..], &b""[..], &b"c"[..]]).unwrap();
        w.chunk::<&[u8]>(&[]).unwrap(); // nothing: a zero-size chunk would end the body
        w.chunk(&[&large[..]]).unwrap();
        w.finish(&[(ERROR_TYPE_TRAILER, "E")]).unwrap();
        drop(w);
        let mut want = b"HEAD\r\n\r\n3\r\nabc\r\n".to_vec();
        want.extend_from_slice(format!("{:x}\r\n", large.len()).as_bytes());
        want.extend_from_slice(&large);
        want.extend_from_slice(b"\r\n0\r\nLambda-Runtime-Function-Error-Type: E\r\n\r\n");
        assert_eq!(out, want);
    }

    #[test]
    fn header_values_cannot_end_the_line() {
        assert_eq!(header_value("text/plain\r\nX: y"), "text/plain??X: y");
    }
}
