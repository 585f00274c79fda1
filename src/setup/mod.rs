//! The set-up wizard: checks that report ok / fixed / warn / error.
