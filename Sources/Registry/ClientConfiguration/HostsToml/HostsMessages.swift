/// Every sentence the `hosts.toml` writer says about its work, in one
/// table: what a change or a restoration is, before it happens (a dry run)
/// and after, and the notes that go with a change.
public enum HostsMessages {
    static func describe(_ change: HostsChange, _ tense: ChangeTense) -> String {
        let path = change.path
        let backup = HostsFile.backupFileName
        let (planned, done): (String, String)
        switch change.action {
        case .create(directory: true): (planned, done) = ("would create \(path) (and its directory)", "created \(path) (and its directory)")
        case .create: (planned, done) = ("would create \(path)", "created \(path)")
        case .replace:
            (planned, done) = (
                "would replace \(path), keeping its entries after the mirror (the file itself kept as \(backup))",
                "replaced \(path), keeping its entries after the mirror (the file itself kept as \(backup))"
            )
        case .update: (planned, done) = ("would update \(path)", "updated \(path)")
        case .unchanged: (planned, done) = ("\(path) is already up to date", "\(path) is already up to date")
        }
        return tense == .planned ? planned : done
    }

    static func describe(_ outcome: HostsOutcome, _ tense: ChangeTense) -> String {
        let path = outcome.path
        let backup = HostsFile.backupFileName
        let (planned, done): (String, String)
        switch outcome.action {
        case .restoredBackup: (planned, done) = ("would restore \(path) from \(backup)", "restored \(path) from \(backup)")
        case .removed(directory: true): (planned, done) = ("would remove \(path) and its directory", "removed \(path) and its directory")
        case .removed: (planned, done) = ("would remove \(path)", "removed \(path)")
        case .removedBackupMissing:
            (planned, done) = (
                "would remove \(path); its backup \(backup) is missing, nothing to put back",
                "removed \(path); its backup \(backup) was missing, nothing to put back"
            )
        case .notOurs: (planned, done) = ("left \(path) alone (not written by gossip-mirror)", "left \(path) alone (not written by gossip-mirror)")
        case .nothing: (planned, done) = ("no hosts.toml in \(outcome.directory)", "no hosts.toml in \(outcome.directory)")
        case let .failed(error): (planned, done) = ("cannot restore \(path): \(error)", "could not restore \(path): \(error)")
        }
        return tense == .planned ? planned : done
    }

    // MARK: Notes on a change

    static func keptEntries(_ existing: ExistingHostsFile, path: String) -> String {
        let hosts = existing.hosts.isEmpty ? "no hosts of its own" : "its hosts (\(existing.hosts.joined(separator: ", ")))"
        return "the existing \(path) is not gossip-mirror's: its settings and \(hosts) are kept, byte for byte, after the mirror; "
            + "cleanup puts the file itself back"
    }

    static let olderBackupSuperseded = "an older \(HostsFile.backupFileName) is replaced by this newer file"

    static func staleBackup(_ backupPath: String) -> String {
        "\(backupPath) is left from an earlier run whose hosts.toml was removed by hand; it is left alone"
    }

    static func catchAllStopsApplying(_ catchAll: String, registry: MirroredRegistry) -> String {
        "\(catchAll) no longer applies to \(registry) while this directory exists"
    }

    static func certificatesNamed(_ directory: String) -> String {
        "the certificate files in \(directory) are named in the new file, so TLS to the upstream keeps using them"
    }

    static func keptServer(_ path: String) -> String {
        "\(path) names its own server, which stays in force (--plain-http-registry does not change it)"
    }
}
