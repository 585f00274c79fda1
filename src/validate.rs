//! Validation of op logs (the `validate` command and the pre-commit hook).
