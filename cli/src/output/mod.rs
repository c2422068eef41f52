//! How the CLI shows things: aligned tables, colour on terminals, ages, progress while waiting,
//! and YAML/JSON for `-o`.

pub mod age;
pub mod format;
pub mod progress;
pub mod style;
pub mod table;
