/// A `hosts.toml` that gossip-mirror did not write (a site mirror such as a
/// Harbor, Zot or distribution pull-through cache, TLS settings for the
/// upstream), split so that gossip-mirror's file can keep it byte for byte:
/// its top-level keys (`server`, `ca`, `capabilities`, …) stay at the top,
/// its `[host."…"]` tables follow the mirror's, so containerd tries the
/// mirror first and the site's hosts after it, as before.
///
/// TOML wants every top-level key before the first table, and containerd
/// tries hosts in file order; these two facts fix the layout.
public struct ExistingHostsFile: Equatable, Sendable {
    /// Everything before the first table: top-level keys, comments, blank
    /// lines (without a UTF-8 byte order mark, which may only open a file).
    public var root: [UInt8]
    /// From the first table header to the end of the file.
    public var tables: [UInt8]
    /// Whether the file names its `server` (then gossip-mirror adds none).
    public var hasServer: Bool
    /// The hosts its `[host."…"]` tables (or dotted `host."…".key` lines) name, in order.
    public var hosts: [String]

    /// Splits `bytes`, read from `path`; a file that does not lex as TOML is
    /// refused (its entries could not be kept).
    public init(bytes: [UInt8], path: String) throws(ClientConfigError) {
        let outline: TOMLOutline
        do { outline = try TOMLOutline(bytes) } catch {
            throw .unreadableExistingFile(path, line: error.line, reason: error.reason)
        }
        let bom = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        root = Array(bytes[bom..<max(bom, outline.rootEnd)])
        tables = Array(bytes[outline.rootEnd...])
        hasServer = outline.root.keys.contains { $0.path == ["server"] }
        // containerd orders hosts by where they appear: one defined by dotted
        // keys at the top would come before the mirror's table.
        if let dotted = outline.root.keys.first(where: { $0.path.first == "host" }) {
            let line = bytes[..<dotted.bytes.lowerBound].reduce(1) { $1 == 0x0A ? $0 + 1 : $0 }
            throw .unreadableExistingFile(
                path, line: line,
                reason: "a host defined by dotted keys at the top (host.\"…\".key = …) would be tried before the mirror; "
                    + "write it as a [host.\"…\"] table")
        }
        var hosts: [String] = []
        for table in outline.tables where table.header.count >= 2 && table.header[0] == "host" && !hosts.contains(table.header[1]) {
            hosts.append(table.header[1])
        }
        self.hosts = hosts
    }

    /// Whether one of the file's hosts is `mirror` (then adding the mirror's
    /// table would define the same table twice).
    func lists(_ mirror: MirrorEndpoint) -> Bool {
        hosts.contains { ((try? MirrorEndpoint(validating: $0))?.url ?? $0) == mirror.url }
    }
}
