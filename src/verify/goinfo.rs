//! Go build info (placeholder until the parser branch lands).
use super::facts::GoBuildInfo;
pub fn go_buildinfo(
    _bytes: &[u8],
    _elf: &goblin::elf::Elf<'_>,
) -> Option<Result<GoBuildInfo, String>> {
    None
}
