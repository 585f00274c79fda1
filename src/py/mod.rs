//! Python compatibility: text byte for byte as the reference (Python)
//! writes it — `str()`/`repr()` of values ([`repr`]), `json.dumps`
//! ([`json`]), PyYAML's `safe_dump` ([`yaml`]) and the textconv view of an
//! op file ([`textconv`]) — so output compared with the reference's stays
//! identical.

pub mod json;
pub mod repr;
pub mod textconv;
pub mod yaml;
