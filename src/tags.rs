//! Tags and the tag catalog (`tracker/tag_catalog.yaml`): counts, statuses,
//! descriptions, deprecation and renaming.
