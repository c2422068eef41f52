//! Shared runtime for Weir controllers.
