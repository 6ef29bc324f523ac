//! Generates the pack's typed names from `pack.toml` (and fails the build if it is invalid).

fn main() {
    roster_packgen::build_script("pack.toml");
}
