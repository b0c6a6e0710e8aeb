//! sv-eval
