//! Decoding a cached item's summary straight into a [`Slim`] one: what a
//! slim item keeps is read, the rest skipped unread (no allocation).

use super::{Dec, MAX_DEPTH};
use crate::items::slim::{Priority, Rest, Slim};
use crate::items::tiers::Tier;

impl Dec<'_> {
    /// Skips a value (checking its structure, not its strings' UTF-8).
    fn skip_value(&mut self, depth: u32) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        match self.u8()? {
            0..=2 => {}
            3..=5 => {
                self.take(8)?;
            }
            6 => self.skip_str()?,
            7 => {
                for _ in 0..self.count()? {
                    self.skip_value(depth + 1)?;
                }
            }
            8 => {
                for _ in 0..self.count()? {
                    self.skip_str()?;
                    self.skip_value(depth + 1)?;
                }
            }
            _ => return None,
        }
        Some(())
    }

    /// Skips a list of values; how many there were.
    fn skip_values(&mut self) -> Option<usize> {
        let n = self.count()?;
        for _ in 0..n {
            self.skip_value(1)?;
        }
        Some(n)
    }

    /// A list of values as text ([`crate::items::slim::text_list`]): a
    /// string is taken as it is, without making a [`serde_json::Value`].
    fn texts_of_values(&mut self) -> Option<Box<[Box<str>]>> {
        let n = self.count()?;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(match self.buf.get(self.pos) {
                Some(6) => {
                    self.pos += 1;
                    Box::from(self.str()?)
                }
                _ => crate::items::item::value_text(&self.value()?).into(),
            });
        }
        Some(out.into_boxed_slice())
    }

    /// The item [`Enc::summary`] wrote, as a [`Slim`]: what it does not
    /// keep is skipped unread.
    /// `id`'s UTF-8 is checked with the item's other texts.
    pub fn slim(&mut self, id: &[u8], tier: Tier) -> Option<Slim> {
        // (Slim::from_block checks that the ends are in order.)
        let (ends, text) = self.texts_unordered()?;
        let priority = match self.buf.get(self.pos) {
            Some(3) => {
                self.pos += 1;
                Priority::Int(self.u64()? as i64)
            }
            _ => Priority::of(self.value()?),
        };
        let isbefore = match self.buf.get(self.pos..self.pos + 4) {
            Some([0, 0, 0, 0]) => {
                self.pos += 4;
                Box::default()
            }
            _ => self.texts_of_values()?,
        };
        let duplicate = self.skip_values()? > 0;
        let n = self.count()?;
        let mut locked_fields = Vec::with_capacity(n);
        for _ in 0..n {
            locked_fields.push(Box::from(self.str()?));
        }
        let claim_fields = match self.buf.get(self.pos..self.pos + 4) {
            Some([0, 0, 0, 0]) => {
                self.pos += 4;
                None
            }
            _ => Some(self.map(0)?),
        };
        let unread = self.u32()? as usize;
        let rest = self.u32()? as usize;
        self.take(rest)?;
        let ends = ends
            .chunks_exact(4)
            .map(|e| u32::from_le_bytes(e.try_into().expect("4 bytes")));
        Slim::from_block(
            id,
            text,
            ends,
            Rest {
                priority,
                isbefore,
                claim_fields,
                locked_fields: locked_fields.into_boxed_slice(),
                unread,
                tier,
                duplicate,
            },
        )
    }
}
