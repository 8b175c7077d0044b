import Foundation
import Yams

/// Merges options from the environment and a YAML file into the command line
/// before parsing, so that all three sources share one set of names and
/// ArgumentParser validates every value, whichever source it came from.
/// Precedence: command line, then environment, then file.
///
/// A subcommand takes from the environment and the file only the options it
/// declares: one file (or one environment) serves several commands, e.g.
/// `GOSSIP_MIRROR_CONFIG=run.yaml gossip-mirror cleanup` reads `hosts-dir`
/// from the file made for `run` and ignores `join`. A key that no
/// subcommand knows is an error, so typos do not pass silently.
enum ConfigurationSources {
    /// An option that may come from elsewhere than the command line.
    struct Option {
        var name: String
        var repeatable = false
        /// A Boolean flag declared with `inversion: .prefixedNo`: the value
        /// (true/false, yes/no, on/off, 1/0) becomes `--name` or `--no-name`.
        var flag = false

        /// `GOSSIP_MIRROR_GOSSIP_ADDR` for `gossip-addr`.
        var environmentName: String { "GOSSIP_MIRROR_" + String(name.uppercased().map { $0 == "-" ? "_" : $0 }) }
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Options each subcommand accepts from the environment or a file.
    static let options: [String: [Option]] = [
        "run": Run.configurableOptions + ContainerdHostsOptions.configurableOptions + RoutingOptions.configurableOptions
            + HTTPOptions.configurableOptions + ColdPullOptions.configurableOptions + GossipLimitsOptions.configurableOptions,
        "configure-containerd": ConfigureContainerd.configurableOptions,
        "configure-containers": ConfigureContainers.configurableOptions,
        "cleanup": Cleanup.configurableOptions,
        "members": [Option(name: "status-addr")],
        "status": [Option(name: "status-addr")],
        "locate": [Option(name: "status-addr")],
    ]

    /// Every key some subcommand takes.
    static let knownNames: Set<String> = Set(options.values.flatMap { $0.map(\.name) })

    /// - Parameter readFile: reads the configuration file's text (a seam
    ///   for the fuzz harness, which gives the text without a file).
    static func merge(
        arguments: [String], environment: [String: String], readFile: (String) throws -> String = readFile
    ) throws -> [String] {
        guard let subcommand = arguments.first, let known = options[subcommand] else { return arguments }
        var merged = arguments
        // Split at the first `=` scalar, not Character: in `--name=҇` the `=`
        // and a combining mark are one Character, and the option was not
        // seen as given (found by fuzzing: merging twice added it again).
        let given = Set(arguments.compactMap { arg -> String? in
            guard arg.hasPrefix("--") else { return nil }
            let scalars = arg.unicodeScalars.dropFirst(2)
            return String(String.UnicodeScalarView(scalars.prefix { $0 != "=" }))
        })
        var file: [String: FileValue] = [:]
        if let path = configPath(arguments, environment) {
            file = try loadYAML(path, readFile: readFile)
            let unknown = Set(file.keys).subtracting(knownNames)
            if !unknown.isEmpty {
                throw Failure(description: "\(path): unknown option(s) \(unknown.sorted().joined(separator: ", ")) (no gossip-mirror command takes them)")
            }
        }
        for option in known where !given.contains(option.name) && !(option.flag && given.contains("no-" + option.name)) {
            var values: [String] = []
            if let text = environment[option.environmentName], !text.isEmpty {
                values = option.repeatable ? text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } : [text]
            } else if let value = file[option.name] {
                switch value {
                case .list(let list):
                    guard option.repeatable else { throw Failure(description: "option \(option.name) takes one value, not a list") }
                    values = list
                case .scalar(let text): values = [text]
                case .unset: break
                }
            }
            if option.flag {
                for value in values { merged.append(try flagArgument(option.name, value)) }
                continue
            }
            for value in values { merged += argument(option.name, value) }
        }
        return merged
    }

    /// A value starting with `-` as `--name=value`, so that it is not read
    /// as an option; any other as `--name value`: ArgumentParser splits
    /// `--name=value` at a Character `=`, which a combining mark at the
    /// start of the value joins (found by fuzzing).
    static func argument(_ name: String, _ value: String) -> [String] {
        value.utf8.first == UInt8(ascii: "-") ? ["--\(name)=\(value)"] : ["--\(name)", value]
    }

    private static func flagArgument(_ name: String, _ value: String) throws -> String {
        switch value.lowercased() {
        case "true", "yes", "on", "1": return "--\(name)"
        case "false", "no", "off", "0": return "--no-\(name)"
        default: throw Failure(description: "option \(name) is a flag: give true or false, not \(value)")
        }
    }

    private static func configPath(_ arguments: [String], _ environment: [String: String]) -> String? {
        if let i = arguments.firstIndex(of: "--config"), i + 1 < arguments.count { return arguments[i + 1] }
        if let arg = arguments.first(where: { $0.hasPrefix("--config=") }) { return String(arg.dropFirst(9)) }
        return environment["GOSSIP_MIRROR_CONFIG"]
    }

    /// An option's value in the file: the text of a scalar or of each item
    /// of a list, as written (YAML's typed reading would turn `1e3` into
    /// `1000.0` and `0x10` into `16`), or null (`name:` or `~`), which sets nothing.
    enum FileValue {
        case scalar(String)
        case list([String])
        case unset
    }

    static func readFile(_ path: String) throws -> String {
        do { return try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw Failure(description: "cannot read config file \(path): \(error.localizedDescription)")
        }
    }

    private static func loadYAML(_ path: String, readFile: (String) throws -> String) throws -> [String: FileValue] {
        let text = try readFile(path)
        let document: Node?
        // UTF-8 given, not `.default`, which reads the whole process
        // environment on every parse to choose.
        do { document = try Yams.compose(yaml: text, .default, .default, .utf8) } catch {
            throw Failure(description: "config file \(path) is not valid YAML: \(error)")
        }
        guard let document else { return [:] }
        guard let mapping = document.mapping else {
            throw Failure(description: "config file \(path) must be a mapping of option names to values")
        }
        var options: [String: FileValue] = [:]
        for (key, value) in mapping {
            guard let name = key.scalar?.string else {
                throw Failure(description: "config file \(path): option names must be plain strings")
            }
            if value.null != nil {
                options[name] = .unset
            } else if let scalar = value.scalar {
                options[name] = .scalar(scalar.string)
            } else if let sequence = value.sequence {
                options[name] = .list(try sequence.map { item in
                    guard let scalar = item.scalar, item.null == nil else {
                        throw Failure(description: "config file \(path): option \(name) takes a list of plain values")
                    }
                    return scalar.string
                })
            } else {
                throw Failure(description: "config file \(path): option \(name) takes a value or a list, not a mapping")
            }
        }
        return options
    }
}
