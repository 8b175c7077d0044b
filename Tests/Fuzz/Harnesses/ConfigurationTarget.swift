#if DEBUG || GOSSIP_MIRROR_FUZZ
import Foundation
@testable import gossip_mirror
import Yams

/// The configuration file loader (`ConfigurationSources`) and the command
/// line it produces, parsed by the real commands (in `swift test`; see
/// below for the fuzz build).
///
/// Mode 0 loads arbitrary bytes as the YAML file of a subcommand; mode 1
/// writes one string option (or a list for `join`) as a double-quoted YAML
/// scalar holding arbitrary text. Properties: merging and parsing never trap;
/// merging is idempotent (merging its own output adds nothing); and a string
/// the file gives an option reaches the parsed command unchanged, whatever it
/// looks like (`1e3`, `-x`, `null` in quotes) — a plain `null` or empty value
/// leaves the option unset.
///
/// Kept thin: the loader is being rewritten; only `merge(arguments:environment:)`
/// and `GossipMirror.parseAsRoot` are used.
extension FuzzTarget {
    static let configuration = FuzzTarget(
        name: "configuration",
        summary: "ConfigurationSources.merge of a YAML file, then GossipMirror.parseAsRoot; values reach options unchanged",
        seeds: ConfigurationFuzzing.seeds,
        run: ConfigurationFuzzing.run)
}

enum ConfigurationFuzzing {
    static let subcommands = ["run", "configure-containerd", "cleanup", "members", "locate"]
    /// `run`'s string options without validation, and where their values land.
    static let runStrings: [(option: String, value: @Sendable (Run) -> String?)] = [
        ("cluster-label", { $0.clusterLabel }), ("containerd-namespace", { $0.containerdNamespace }),
        ("oci-layout", { $0.ociLayout }),
    ]

    /// The file's name; its text comes from the input through `readFile`
    /// (no disk in the loop).
    static let path = "/etc/gossip-mirror/fuzz.yaml"
    /// `run` with nothing set: what a null value leaves an option at.
    static let defaults = try! Run.parse([])

    static func run(_ bytes: [UInt8]) throws(PropertyViolation) {
        var input = FuzzInput(bytes)
        let mode = input.byte() % 2
        let subcommand = mode == 0 ? input.pick(subcommands) : "run"
        let yaml: [UInt8]
        var expected: (option: String, values: [String])? = nil
        if mode == 0 {
            yaml = input.rest()
        } else {
            let option = input.pick(runStrings.map(\.option) + ["join"])
            let values = option == "join"
                ? input.rest().split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
                : [String(decoding: input.rest(), as: UTF8.self)]
            expected = (option, values)
            let scalars = values.map(doubleQuoted)
            yaml = Array((option + ": " + (option == "join" ? "[" + scalars.joined(separator: ", ") + "]" : scalars[0]) + "\n").utf8)
        }
        // As `String(contentsOfFile:encoding: .utf8)` reads it.
        let readFile: (String) throws -> String = { _ in
            guard let text = String(validating: yaml, as: UTF8.self) else {
                throw ConfigurationSources.Failure(description: "not UTF-8")
            }
            return text
        }
        let arguments = [subcommand, "--config", path]
        let merged: [String]
        do { merged = try ConfigurationSources.merge(arguments: arguments, environment: [:], readFile: readFile) } catch {
            try require(expected == nil, "a file with one quoted string for \(expected!.option) was refused: \(error)")
            return
        }
        try require(Array(merged.prefix(arguments.count)) == arguments, "merging changed the given arguments: \(merged)")
        let again = try? ConfigurationSources.merge(arguments: merged, environment: [:], readFile: readFile)
        try require(again == merged, "merging twice adds more: \(again ?? [])")
        if let expected {
            // The values reach the command line as written, in order.
            let added = Array(merged.dropFirst(arguments.count))
            let written = expected.values.flatMap { ConfigurationSources.argument(expected.option, $0) }
            try require(added == written, "\(expected.option) = \(expected.values) merged as \(added)")
        }
        #if !GOSSIP_MIRROR_FUZZ
        // The real commands' parsing, in `swift test` (seeds and committed
        // inputs) only: ArgumentParser reflects over every option on each
        // parse, about 6 ms under the sanitizers, which held a campaign to
        // under 100 executions a second; the fuzzer checks the loader and
        // the command line it writes (above), the tests the whole chain.
        guard merged.count > arguments.count || expected != nil else { return }
        let parsed = Result { try GossipMirror.parseAsRoot(merged) }
        let command = try? parsed.get()

        if let expected {
            guard let run = command as? Run else {
                let reason = (try? parsed.get()).map { "parsed as \(type(of: $0))" } ?? "\(parsed)"
                throw PropertyViolation("\(expected.option) = \(expected.values) did not parse (\(reason)): \(merged)")
            }
            let got = expected.option == "join" ? run.join : [runStrings.first { $0.option == expected.option }!.value(run) ?? "<unset>"]
            try require(got == expected.values, "\(expected.option): the file said \(expected.values), the command has \(got)")
        } else if let run = command as? Run {
            try checkScalarsReachRun(yaml, run)
        }
        #endif
    }

    /// In an arbitrary file that parsed: each of `run`'s string options that
    /// the file gives as a scalar has the scalar's text, or its default when
    /// the scalar is null.
    private static func checkScalarsReachRun(_ yaml: [UInt8], _ run: Run) throws(PropertyViolation) {
        guard let text = String(validating: yaml, as: UTF8.self),
              let node = try? Yams.compose(yaml: text), let mapping = node.mapping
        else { return }
        for (option, value) in runStrings {
            guard let node = mapping[option], let scalar = node.scalar else { continue }
            if node.null != nil {
                try require(value(run) == value(defaults), "\(option): a null value set it to \(value(run) ?? "nil")")
            } else {
                try require(value(run) == scalar.string,
                        "\(option): the file says \(scalar.string.debugDescription), the command has \((value(run) ?? "nil").debugDescription)")
            }
        }
    }

    /// A YAML double-quoted scalar for any text (YAML 1.2 §7.3.1 escapes).
    static func doubleQuoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F || (0x80..<0xA0).contains(scalar.value)
                || scalar.value == 0xFEFF || scalar.value == 0xFFFE || scalar.value == 0xFFFF:
                out += String(format: "\\u%04X", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    static func seeds() -> [[UInt8]] {
        let files = [
            "name: node-1\ngossip-addr: 0.0.0.0:7946\njoin: [10.0.0.2, 10.0.0.3:7000]\nkey-file: /etc/gossip-mirror/key\n"
                + "profile: wan\naccess-log: false\ncluster-label: 1e3\ncontainerd-namespace: ~\n",
            "hosts-dir: /etc/containerd/certs.d\nmirror-registry:\n  - docker.io\n  - ghcr.io\nmirror-url: http://127.0.0.1:5000\n",
            "status-addr: 127.0.0.1:9090\n", "cluster-label: {a: 1}\n", "join: [[a]]\n", "--- !!map\n? name\n: x\n",
        ]
        var seeds = files.enumerated().map { index, file in [0, UInt8(index == 1 ? 1 : 0)] + Array(file.utf8) }
        seeds.append([1, 0] + Array("-x".utf8))
        seeds.append([1, 3] + Array("a\u{0}--join=b\u{0}".utf8))
        return seeds
    }
}
#endif
