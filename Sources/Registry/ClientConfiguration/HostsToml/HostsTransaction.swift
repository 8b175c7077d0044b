/// Writes the `hosts.toml` files of a plan, all or none: every write is
/// atomic (temporary file, fsync, rename, directory fsync), and if one
/// fails, the files this transaction already wrote are put back as they
/// were (`ClientConfigError.rolledBack`).
public enum HostsTransaction {
    /// Plans, then writes. Each registry is inspected again right before its
    /// file is written (the plan may be a moment old).
    public static func apply(_ settings: HostsSettings) throws(ClientConfigError) -> HostsRestoration {
        _ = try HostsPlan(settings)
        var changes: [HostsChange] = []
        var undo: [(HostsChange, [UInt8]?)] = []
        for registry in settings.registries {
            do throws(ClientConfigError) {
                let change = try HostsPlan.inspect(registry, settings)
                let previous = change.action == .update ? try ConfigFileSystem.read(change.path) : nil
                try execute(change)
                changes.append(change)
                if change.action != .unchanged { undo.append((change, previous)) }
            } catch {
                if undo.isEmpty { throw error }
                var leftBehind: [String] = []
                for (change, previous) in undo.reversed() where !Self.undo(change, previous: previous) {
                    leftBehind.append(change.path)
                }
                throw .rolledBack(error, leftBehind: leftBehind)
            }
        }
        return HostsRestoration(hostsDirectory: settings.hostsDirectory, directories: changes.map(\.directory), changes: changes)
    }

    private static func execute(_ change: HostsChange) throws(ClientConfigError) {
        let bytes = change.file.bytes
        switch change.action {
        case .unchanged:
            return
        case .create(directory: true):
            try ConfigFileSystem.makeDirectory(change.directory)
            do throws(ClientConfigError) {
                try ConfigFileSystem.writeAtomically(bytes, to: change.path)
            } catch {
                _ = ConfigFileSystem.removeDirectoryIfEmpty(change.directory)
                throw error
            }
        case .create(directory: false), .update:
            try ConfigFileSystem.writeAtomically(bytes, to: change.path)
        case .replace:
            try ConfigFileSystem.preserve(change.path, as: change.backupPath)
            do throws(ClientConfigError) {
                try ConfigFileSystem.writeAtomically(bytes, to: change.path)
            } catch {
                // The original is still in place; drop the fresh backup link.
                try? ConfigFileSystem.remove(change.backupPath)
                throw error
            }
        }
    }

    /// Undoes one executed change; reports whether that worked.
    private static func undo(_ change: HostsChange, previous: [UInt8]?) -> Bool {
        do {
            switch change.action {
            case .unchanged:
                return true
            case .create(directory: let createdDirectory):
                try ConfigFileSystem.remove(change.path)
                if createdDirectory { _ = ConfigFileSystem.removeDirectoryIfEmpty(change.directory) }
            case .replace:
                // Puts the foreign file back. (When it had superseded an older
                // backup, that older one stays superseded: the newer file wins.)
                try ConfigFileSystem.rename(change.backupPath, to: change.path)
            case .update:
                if let previous { try ConfigFileSystem.writeAtomically(previous, to: change.path) }
            }
            return true
        } catch {
            return false
        }
    }
}

/// What `HostsTransaction.apply` returns: enough to undo it later (on
/// SIGTERM, say).
public struct HostsRestoration: Sendable, Equatable {
    public var hostsDirectory: String
    /// Every registry directory the transaction covered, including unchanged ones.
    public var directories: [String]
    public var changes: [HostsChange]

    /// Restores every directory the transaction covered: gossip-mirror's
    /// files are removed or replaced by their backups; files that are no
    /// longer gossip-mirror's (someone rewrote them since) are left alone.
    /// Idempotent.
    public func restore() -> [HostsOutcome] {
        directories.map { HostsCleanup.restore(directory: $0, dryRun: false) }
    }
}
