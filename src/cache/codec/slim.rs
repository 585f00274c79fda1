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

    /// The item [`Enc::summary`] wrote, as a [`Slim`]: what it does not
    /// keep is skipped unread.
    /// `id`'s UTF-8 is checked with the item's other texts.
    pub fn slim(&mut self, id: &[u8], tier: Tier) -> Option<Slim> {
        let kind = self.raw()?;
        let title = self.raw()?;
        let status = self.raw()?;
        let priority = match self.buf.get(self.pos) {
            Some(3) => {
                self.pos += 1;
                Priority::Int(self.u64()? as i64)
            }
            _ => Priority::of(self.value()?),
        };
        match self.u8()? {
            0 => {}
            1 => self.skip_str()?,
            _ => return None,
        }
        // The texts, on the stack unless there are many tags.
        let n = self.count()?;
        let mut small: [&[u8]; 16] = [&[]; 16];
        let mut many: Vec<&[u8]> = Vec::new();
        let texts: &mut [&[u8]] = if 5 + n <= small.len() {
            &mut small[..5 + n]
        } else {
            many.resize(5 + n, &[]);
            &mut many
        };
        texts[..4].copy_from_slice(&[id, kind, title, status]);
        let mut len = 5;
        for _ in 0..n {
            if self.buf.get(self.pos) == Some(&6) {
                self.pos += 1;
                texts[len] = self.raw()?;
                len += 1;
            } else {
                self.skip_value(1)?;
            }
        }
        let texts = &mut texts[..len];
        let isbefore = match self.buf.get(self.pos..self.pos + 4) {
            Some([0, 0, 0, 0]) => {
                self.pos += 4;
                Box::default()
            }
            _ => crate::items::slim::text_list(&self.values(0)?),
        };
        let duplicate = self.skip_values()? > 0;
        self.skip_values()?;
        self.skip_value(0)?;
        let n = self.count()?;
        let mut locked_fields = Vec::with_capacity(n);
        for _ in 0..n {
            locked_fields.push(Box::from(self.str()?));
        }
        texts[4] = self.raw()?;
        self.skip_str()?;
        self.take(8)?;
        for _ in 0..2 {
            for _ in 0..self.count()? {
                for _ in 0..6 {
                    self.skip_str()?;
                }
                self.take(8)?;
            }
        }
        let claim_fields = match self.buf.get(self.pos..self.pos + 4) {
            Some([0, 0, 0, 0]) => {
                self.pos += 4;
                None
            }
            _ => Some(self.map(0)?),
        };
        let unread = self.count()?;
        for _ in 0..unread {
            if self.str()? != "human" {
                return None;
            }
            self.skip_str()?;
            self.skip_str()?;
            self.u8()?;
            self.skip_str()?;
        }
        Slim::from_bytes(
            texts,
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
