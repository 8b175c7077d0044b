/// Puts back what the `hosts.toml` writer replaced, needing no state but
/// the files themselves: a file with gossip-mirror's marker is replaced by
/// its backup (the original bytes, the same inode) or removed, with the
/// directory gossip-mirror created for it if that is empty now. A file
/// without the marker is never modified or removed.
public enum HostsCleanup {
    /// Restores every `hosts.toml` gossip-mirror wrote under `hostsDirectory`,
    /// whichever registries they were for. Returns one outcome per directory
    /// where gossip-mirror had something to undo. A missing `hostsDirectory`
    /// means there is nothing to do.
    public static func run(hostsDirectory: String, dryRun: Bool = false) throws(ClientConfigError) -> [HostsOutcome] {
        switch try ConfigFileSystem.kind(hostsDirectory, followLinks: true) {
        case .missing: return []
        case .directory: break
        default: throw .notADirectory(hostsDirectory)
        }
        var outcomes: [HostsOutcome] = []
        for name in try ConfigFileSystem.list(hostsDirectory) {
            let directory = ConfigFileSystem.join(hostsDirectory, name)
            guard (try? ConfigFileSystem.kind(directory, followLinks: true)) == .directory else { continue }
            if !dryRun { ConfigFileSystem.removeTemporaryFiles(in: directory) }
            let outcome = restore(directory: directory, dryRun: dryRun)
            if outcome.touchedOurFile { outcomes.append(outcome) }
        }
        return outcomes
    }

    /// Restores one registry directory.
    static func restore(directory: String, dryRun: Bool) -> HostsOutcome {
        let path = ConfigFileSystem.join(directory, HostsFile.fileName)
        let backupPath = ConfigFileSystem.join(directory, HostsFile.backupFileName)
        do throws(ClientConfigError) {
            guard try ConfigFileSystem.kind(path, followLinks: false) != .missing else {
                return HostsOutcome(directory: directory, action: .nothing)
            }
            guard let bytes = try? ConfigFileSystem.read(path), let state = HostsFile.state(of: bytes) else {
                return HostsOutcome(directory: directory, action: .notOurs)
            }
            if state.backup, try ConfigFileSystem.kind(backupPath, followLinks: false) != .missing {
                if !dryRun { try ConfigFileSystem.rename(backupPath, to: path) }
                return HostsOutcome(directory: directory, action: .restoredBackup)
            }
            if !dryRun { try ConfigFileSystem.remove(path) }
            var removedDirectory = false
            if state.createdDirectory {
                if dryRun {
                    removedDirectory = (try ConfigFileSystem.list(directory)) == [HostsFile.fileName]
                } else {
                    removedDirectory = ConfigFileSystem.removeDirectoryIfEmpty(directory)
                }
            }
            return HostsOutcome(directory: directory, action: state.backup ? .removedBackupMissing : .removed(directory: removedDirectory))
        } catch {
            return HostsOutcome(directory: directory, action: .failed(error))
        }
    }
}
