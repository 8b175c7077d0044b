/// The `[[registry]]` entries containers/image (Podman, Buildah, Skopeo,
/// CRI-O) already has for some prefixes, read from `registries.conf` and the
/// other drop-ins, so that gossip-mirror's drop-in can carry them: a
/// drop-in entry replaces the whole entry of the same prefix
/// (containers-registries.conf.d(5)), and without carrying them a site's
/// own mirrors would stop applying while gossip-mirror's drop-in is there.
struct ExistingRegistryEntries: Sendable {
    /// One `[[registry]]` table and its `[[registry.mirror]]` tables, byte for byte.
    struct Entry: Sendable, Equatable {
        var prefix: String
        /// The file it was read from.
        var source: String
        /// The `[[registry]]` header and its keys.
        var registry: [UInt8]
        /// Its `[[registry.mirror]]` tables, in order.
        var mirrors: [UInt8]
        /// Mirrors given as an inline array (`mirror = [{…}]`): tables cannot be appended to it.
        var hasInlineMirrors: Bool
    }

    /// The entry in force for each prefix (the last file that defines it wins).
    var entries: [String: Entry] = [:]

    /// Reads `files` in order (missing ones are skipped).
    init(files: [String]) throws(ClientConfigError) {
        for path in files {
            guard let bytes = try ConfigFileSystem.read(path) else { continue }
            for entry in try Self.entries(in: bytes, path: path) { entries[entry.prefix] = entry }
        }
    }

    static func entries(in bytes: [UInt8], path: String) throws(ClientConfigError) -> [Entry] {
        let outline: TOMLOutline
        do { outline = try TOMLOutline(bytes) } catch {
            throw .unreadableExistingFile(path, line: error.line, reason: error.reason)
        }
        var entries: [Entry] = []
        var current: Entry?
        for table in outline.tables {
            if table.header == ["registry"], table.isArrayElement {
                if let current { entries.append(current) }
                // containers-registries.conf(5): the prefix defaults to the location.
                current = (table.string("prefix") ?? table.string("location")).map { prefix in
                    Entry(
                        prefix: prefix, source: path, registry: Array(bytes[table.bytes]), mirrors: [],
                        hasInlineMirrors: table.keys.contains { $0.path.first == "mirror" })
                }
            } else if table.header.first == "registry", table.header.count > 1, current != nil {
                current!.mirrors += bytes[table.bytes]
            } else if let done = current {
                entries.append(done)
                current = nil
            }
        }
        if let current { entries.append(current) }
        return entries
    }

    /// The `*.conf` files of a drop-in directory in the order containers/image loads them.
    static func dropIns(in directory: String) -> [String] {
        ((try? ConfigFileSystem.list(directory)) ?? []).filter { $0.hasSuffix(".conf") }.sorted()
            .map { ConfigFileSystem.join(directory, $0) }
    }
}
