//! The bytes of one write as the upload thread gets them: the caller's own memory when it is
//! large (a JS Buffer crosses without a copy; the upload thread hands it back to be released
//! on the caller's thread, `SpentChunks`), a copy when it is small (copying a few KiB costs
//! less than a reference kept across threads).

/// Parts smaller than this (or as large) are copied on the caller's thread instead of shared.
pub const COPY_MAX: usize = 16 * 1024;

pub enum Chunk<B> {
    Shared(B),
    Copied(Vec<u8>),
}

impl<B: AsRef<[u8]>> AsRef<[u8]> for Chunk<B> {
    fn as_ref(&self) -> &[u8] {
        match self {
            Chunk::Shared(b) => b.as_ref(),
            Chunk::Copied(v) => v.as_slice(),
        }
    }
}

/// The parts of one write, in order: runs of small parts copied into one, large parts shared.
pub fn share_or_copy<B: AsRef<[u8]>>(parts: Vec<B>) -> Vec<Chunk<B>> {
    let mut out = Vec::with_capacity(parts.len());
    let mut copied: Vec<u8> = Vec::new();
    for part in parts {
        if part.as_ref().len() <= COPY_MAX {
            copied.extend_from_slice(part.as_ref());
        } else {
            if !copied.is_empty() {
                out.push(Chunk::Copied(std::mem::take(&mut copied)));
            }
            out.push(Chunk::Shared(part));
        }
    }
    if !copied.is_empty() {
        out.push(Chunk::Copied(copied));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_parts_are_copied_together_and_large_ones_shared_in_order() {
        let large = vec![b'L'; COPY_MAX + 1];
        let parts = vec![b"a".to_vec(), b"b".to_vec(), large.clone(), b"c".to_vec()];
        let chunks = share_or_copy(parts);
        let kinds: Vec<(&str, &[u8])> = chunks
            .iter()
            .map(|c| match c {
                Chunk::Shared(b) => ("shared", b.as_slice()),
                Chunk::Copied(v) => ("copied", v.as_slice()),
            })
            .collect();
        assert_eq!(
            kinds,
            vec![
                ("copied", &b"ab"[..]),
                ("shared", &large[..]),
                ("copied", &b"c"[..])
            ]
        );
        assert!(share_or_copy(Vec::<Vec<u8>>::new()).is_empty());
    }
}
