/// What this binary is: its version, and the commit it was built from.
///
/// The version is written here (and in `CHANGELOG.md`, which the release
/// script checks). The commit is not in any source file: the release build
/// passes it to the linker as the ELF build ID (`scripts/release/build.sh`,
/// see `ELFBuildID`), so no file is generated into the tree and the same
/// commit gives the same binary. A plain `swift build` has no commit.
enum BuildInfo {
    static let version = "0.2.0"

    /// The commit (40 hex digits), with `-dirty` if the tree had changes, or
    /// nil for a development build.
    static let commit: String? = ELFBuildID.current().flatMap(ELFBuildID.commit(fromBuildID:))

    /// `0.2.0 (commit 0123abc…)` or `0.2.0 (development build)`.
    static var description: String {
        "\(version) (\(commit.map { "commit \($0)" } ?? "development build"))"
    }
}
