import Gossip

extension HTTPServerLimits {
    /// Every bound of the registry and status servers, with its default
    /// (see `DocumentedLimit`).
    public static var documented: [DocumentedLimit] {
        let d = HTTPServerLimits()
        return [
            .init("HTTPServerLimits.headerTimeout", .duration(d.headerTimeout), option: "--http-header-timeout"),
            .init("HTTPServerLimits.idleTimeout", .duration(d.idleTimeout), option: "--http-idle-timeout"),
            .init("HTTPServerLimits.maxConnections", .count(d.maxConnections), option: "--http-max-connections"),
            .init(
                "HTTPServerLimits.maxConnectionsPerAddress", .count(d.maxConnectionsPerAddress),
                option: "--http-max-connections-per-address"),
            .init("RegistryRoute.maximumPathLength", .bytes(RegistryRoute.maximumPathLength)),
            .init("RegistryHandler.maximumManifestSize", .bytes(RegistryHandler.Configuration().maximumManifestSize)),
        ]
    }
}
