#if DEBUG || GOSSIP_MIRROR_FUZZ
@testable import Registry

/// Client configuration files that gossip-mirror reads before it replaces
/// them: a `hosts.toml` someone else wrote (`ExistingHostsFile`, through
/// `TOMLOutline`) and the `[[registry]]` entries of `registries.conf`
/// (`ExistingRegistryEntries`). A node agent runs as root over these files;
/// a file it cannot read must be refused, never crash it or be mangled.
///
/// Mode 0 (`hosts.toml`): the outline's tables and keys lie in order within
/// the file; a file that reads splits into a root and tables that put it
/// back together byte for byte (after a byte order mark); the file
/// gossip-mirror writes around it lexes again and names the mirror first,
/// then the kept file's hosts. Mode 1 (`registries.conf`): reading entries
/// never traps, and each entry is bytes of the file. Both: the `state(of:)`
/// readers of gossip-mirror's own markers never trap.
extension FuzzTarget {
    static let clientConfig = FuzzTarget(
        name: "client-config",
        summary: "hosts.toml (TOMLOutline, ExistingHostsFile, HostsFile rewrite) and registries.conf entries; byte-exact keeping",
        seeds: ClientConfigFuzzing.seeds,
        run: ClientConfigFuzzing.run)
}

enum ClientConfigFuzzing {
    static let registry = try! MirroredRegistry(validating: "docker.io")
    static let mirror = try! MirrorEndpoint(validating: "http://127.0.0.1:5000")

    static func run(_ bytes: [UInt8]) throws(PropertyViolation) {
        guard let mode = bytes.first else { return }
        let file = Array(bytes.dropFirst())
        _ = HostsFile.state(of: file)
        _ = RegistriesDropIn.state(of: file)
        if mode % 2 == 1 {
            guard let entries = try? ExistingRegistryEntries.entries(in: file, path: "fuzz.conf") else { return }
            for entry in entries {
                try require(!entry.registry.isEmpty && contains(file, entry.registry), "an entry's table is not bytes of the file")
            }
            return
        }
        guard let outline = try? TOMLOutline(file) else {
            try require((try? ExistingHostsFile(bytes: file, path: "hosts.toml")) == nil, "a file that does not lex was read")
            return
        }
        var end = outline.root.bytes.upperBound
        for table in outline.tables {
            try require(table.bytes.lowerBound >= end && table.bytes.upperBound <= file.count, "table \(table.header) at \(table.bytes)")
            end = table.bytes.upperBound
            for key in table.keys {
                try require(table.bytes.contains(key.bytes.lowerBound) && key.bytes.upperBound <= table.bytes.upperBound,
                        "key \(key.path) at \(key.bytes) outside its table \(table.bytes)")
            }
        }
        guard let existing = try? ExistingHostsFile(bytes: file, path: "hosts.toml") else { return }
        let bom = file.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        try require(existing.root + existing.tables == Array(file[bom...]), "root and tables do not make up the file")
        guard !existing.lists(mirror) else { return }  // the plan refuses that case before writing
        let written = HostsFile(registry: registry, mirrors: [mirror], existing: existing).bytes
        let reread: ExistingHostsFile
        do { reread = try ExistingHostsFile(bytes: written, path: "hosts.toml") } catch {
            throw PropertyViolation("the file written around a kept one does not read: \(error)")
        }
        try require(reread.hosts == [mirror.url] + existing.hosts.filter { $0 != mirror.url },
                "hosts after writing: \(reread.hosts), kept file's: \(existing.hosts)")
        try require(contains(written, existing.tables), "the kept tables are not in the written file byte for byte")
    }

    private static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty else { return true }
        guard needle.count <= haystack.count else { return false }
        for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
            if haystack[start..<(start + needle.count)].elementsEqual(needle) { return true }
        }
        return false
    }

    static func seeds() -> [[UInt8]] {
        let hosts = [
            "server = \"https://registry-1.docker.io\"\nca = [\"/etc/ca.pem\"]\n\n[host.\"https://harbor.local\"]\n  capabilities = [\"pull\", \"resolve\"]\n  skip_verify = true\n",
            "\u{FEFF}# comment\n[host.'http://10.0.0.5:5000'] # trailing\ncapabilities = [ \"pull\" ,\n  \"resolve\", ]\n[host.\"http://10.0.0.5:5000\".header]\n  x-a = \"\"\"multi\nline\"\"\"\n",
            "host.\"https://a\".capabilities = [\"pull\"]\n", "[[host]]\nname = { a = 1, b = [1, {c = 'd'}] }\ndate = 1979-05-27 07:32:00Z\n",
            "key = \"\\u00e9\\U0001F600\\t\"\r\n[table]\r\n",
        ]
        let conf = [
            "unqualified-search-registries = [\"docker.io\"]\n[[registry]]\nprefix = \"docker.io\"\nlocation = \"registry-1.docker.io\"\n[[registry.mirror]]\nlocation = \"10.0.0.1:5000\"\ninsecure = true\n",
            "[[registry]]\nlocation = \"quay.io\"\nmirror = [{ location = \"m.local\" }]\n[aliases]\n\"x\" = \"docker.io/x\"\n",
        ]
        return hosts.map { [0] + Array($0.utf8) } + conf.map { [1] + Array($0.utf8) }
    }
}
#endif
