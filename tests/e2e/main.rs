//! Roster's end-to-end tests, in one binary so linking happens once. Every test loads the
//! real pack cdylibs that `cargo xtask build-plugins` built, through the real loader.

mod agency;
mod api;
mod cli;
mod decisions;
mod loader;
mod matrix_engine;
mod mods;
mod pack_tests;
mod staff;
mod studio;
mod tidy;
mod workspace;
