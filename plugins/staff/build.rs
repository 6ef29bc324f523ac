//! Generates the pack's typed names from `pack.toml` (and fails the build if it is invalid).

fn main() -> Result<(), roster_packgen::GenError> {
    roster_packgen::build("pack.toml")
}
