import ArgumentParser
import Registry

/// Limits of the registry and status HTTP servers (see `HTTPServerLimits`
/// for the reasons behind each default).
struct HTTPOptions: ParsableArguments {
    static let configurableOptions: [ConfigurationSources.Option] = [
        .init(name: "http-header-timeout"), .init(name: "http-idle-timeout"), .init(name: "http-max-connections"),
        .init(name: "http-max-connections-per-address"),
    ]

    private static let defaults = HTTPServerLimits()

    @Option(
        name: .customLong("http-header-timeout"),
        help: "Time a client has to send a whole request, from connecting or from the first byte of a later request (e.g. 10s).")
    var headerTimeout = DurationArgument(defaults.headerTimeout, "10s")

    @Option(name: .customLong("http-idle-timeout"), help: "How long a kept-alive connection may wait for its next request.")
    var idleTimeout = DurationArgument(defaults.idleTimeout, "60s")

    @Option(
        name: .customLong("http-max-connections"),
        help: "Connections open at once from non-loopback addresses, per server; more are closed at once.")
    var maxConnections = defaults.maxConnections

    @Option(name: .customLong("http-max-connections-per-address"), help: "Connections open at once from one non-loopback address.")
    var maxConnectionsPerAddress = defaults.maxConnectionsPerAddress

    func validate() throws {
        guard headerTimeout.duration > .zero, idleTimeout.duration > .zero else {
            throw ValidationError("--http-header-timeout and --http-idle-timeout must be positive")
        }
        guard maxConnections > 0, maxConnectionsPerAddress > 0 else {
            throw ValidationError("--http-max-connections and --http-max-connections-per-address must be positive")
        }
    }

    var limits: HTTPServerLimits {
        HTTPServerLimits(
            headerTimeout: headerTimeout.duration, idleTimeout: idleTimeout.duration, maxConnections: maxConnections,
            maxConnectionsPerAddress: maxConnectionsPerAddress)
    }
}
