//! The one-screen compiled rendering of an `.ops` file, for `git diff`.
