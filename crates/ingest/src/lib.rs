//! Streaming ingest of customs declarations.
//!
//! A [`DeclarationReader`] turns a CSV or JSON Lines file (optionally gzip-compressed) into
//! [`Declaration`]s one row at a time, so memory does not grow with the file. Source layouts are
//! described by a [`Profile`] that maps source columns onto declaration fields. Every row ends up
//! either accepted or quarantined with its file, line, field and reason ([`Quarantined`]); the
//! [`IngestReport`] accounts for each row (`read == accepted + quarantined`). Only unusable input
//! (unreadable file, empty file, missing required column) is an [`IngestError`].
//!
//! ```no_run
//! use borderline_ingest::{DeclarationReader, Profile, Row};
//! let mut reader = DeclarationReader::open("declarations.csv", Profile::korea_customs())?;
//! for row in reader.by_ref() {
//!     match row {
//!         Row::Accepted(declaration) => println!("{}", declaration.declaration_id),
//!         Row::Quarantined(q) => eprintln!("{q}"),
//!     }
//! }
//! println!("{}", reader.report());
//! # Ok::<(), borderline_ingest::IngestError>(())
//! ```

mod field;
mod profile;
mod reader;
mod seen;
mod sink;

pub use borderline_core::Declaration;
pub use field::Field;
pub use profile::{Profile, ProfileError, ValueFormats};
pub use reader::{
    bounded, read_all, DeclarationReader, IngestError, IngestReport, QuarantineWriter, Quarantined,
    Row, SourceFormat, QUOTE_LIMIT,
};
pub use sink::{drive, QuarantineSink};
