import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Logging

/// The one HTTP/2 connection a `ContainerdStore` keeps to containerd's socket, and
/// typed wrappers of the few calls it makes. Every call carries the
/// `containerd-namespace` header (containerd answers `failedPrecondition`
/// without it), and gRPC failures come out as `ContainerdError`.
final class ContainerdConnection: Sendable {
    typealias Transport = HTTP2ClientTransport.Posix

    let socketPath: String
    let namespace: String

    private let client: GRPCClient<Transport>
    private let images: Containerd_Services_Images_V1_Images.Client<Transport>
    private let content: Containerd_Services_Content_V1_Content.Client<Transport>
    private let eventService: Containerd_Services_Events_V1_Events.Client<Transport>
    private let namespaces: Containerd_Services_Namespaces_V1_Namespaces.Client<Transport>
    private let metadata: Metadata
    private let unaryOptions: CallOptions
    private let streamOptions: CallOptions
    private let runner: Task<Void, Never>

    init(socketPath: String, namespace: String, callTimeout: Duration, logger: Logger) throws {
        self.socketPath = socketPath
        self.namespace = namespace

        // The transport reconnects by itself; keep its delays short so that a
        // restarted containerd is found again within about a second. The store's
        // own retry loop (capped at `maxReconnectDelay`) paces the attempts.
        let config = Transport.Config.defaults { config in
            config.backoff = .init(initial: .milliseconds(100), max: .seconds(1), multiplier: 1.6, jitter: 0.2)
        }
        let transport = try Transport(
            target: .unixDomainSocket(path: socketPath),
            transportSecurity: .plaintext,
            config: config
        )
        let client = GRPCClient(transport: transport)
        self.client = client
        self.images = .init(wrapping: client)
        self.content = .init(wrapping: client)
        self.eventService = .init(wrapping: client)
        self.namespaces = .init(wrapping: client)

        var metadata = Metadata()
        metadata.addString(namespace, forKey: "containerd-namespace")
        self.metadata = metadata

        // Fail fast while containerd is down instead of queueing calls until it is
        // back: the caller (a registry request) would rather answer 404 now.
        var unary = CallOptions.defaults
        unary.timeout = callTimeout
        unary.waitForReady = false
        self.unaryOptions = unary
        var stream = CallOptions.defaults
        stream.timeout = nil
        stream.waitForReady = false
        self.streamOptions = stream

        self.runner = Task {
            do {
                try await client.runConnections()
            } catch {
                logger.error("containerd client stopped", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Lets in-flight calls finish, then closes the connection; later calls fail.
    func close() {
        client.beginGracefulShutdown()
    }

    // MARK: Calls

    func listImages() async throws -> [Containerd_Services_Images_V1_Image] {
        try await call("Images.List", notFound: "image list") {
            try await self.images.list(.init(), metadata: self.metadata, options: self.unaryOptions).images
        }
    }

    /// The image named `name`, or nil if the namespace has none of that name.
    func image(named name: String) async throws -> Containerd_Services_Images_V1_Image? {
        var request = Containerd_Services_Images_V1_GetImageRequest()
        request.name = name
        do {
            return try await call("Images.Get", notFound: "image \(name)") {
                try await self.images.get(request, metadata: self.metadata, options: self.unaryOptions).image
            }
        } catch ContainerdError.notFound {
            return nil
        }
    }

    /// The committed blob's metadata, or nil if the namespace does not hold it.
    func info(_ digest: Digest) async throws -> Containerd_Services_Content_V1_Info? {
        var request = Containerd_Services_Content_V1_InfoRequest()
        request.digest = digest.description
        do {
            return try await call("Content.Info", notFound: "blob \(digest)") {
                try await self.content.info(request, metadata: self.metadata, options: self.unaryOptions).info
            }
        } catch ContainerdError.notFound {
            return nil
        }
    }

    /// Reads `size` bytes of a blob from `offset` through the content API.
    func read(_ digest: Digest, offset: Int64, size: Int64) async throws -> [UInt8] {
        var request = Containerd_Services_Content_V1_ReadContentRequest()
        request.digest = digest.description
        request.offset = offset
        request.size = size
        return try await call("Content.Read", notFound: "blob \(digest)") {
            try await self.content.read(request, metadata: self.metadata, options: self.unaryOptions) { response in
                var bytes = [UInt8]()
                bytes.reserveCapacity(Int(size))
                for try await chunk in response.messages {
                    bytes.append(contentsOf: chunk.data)
                }
                return bytes
            }
        }
    }

    /// The namespace's ingests in progress (writes not yet committed).
    func listStatuses() async throws -> [Containerd_Services_Content_V1_Status] {
        try await call("Content.ListStatuses", notFound: "ingest list") {
            try await self.content.listStatuses(.init(), metadata: self.metadata, options: self.unaryOptions).statuses
        }
    }

    /// Names of every namespace containerd knows.
    func namespaceNames() async throws -> [String] {
        try await call("Namespaces.List", notFound: "namespace list") {
            try await self.namespaces.list(.init(), metadata: self.metadata, options: self.unaryOptions)
                .namespaces.map(\.name)
        }
    }

    /// Streams events matching `filters` to `handle` until containerd ends the
    /// stream (it never does by itself while running) or the task is cancelled.
    func subscribe(
        filters: [String],
        handle: @escaping @Sendable (Containerd_Services_Events_V1_Envelope) async -> Void
    ) async throws {
        var request = Containerd_Services_Events_V1_SubscribeRequest()
        request.filters = filters
        try await call("Events.Subscribe", notFound: "event stream") {
            try await self.eventService.subscribe(request, metadata: self.metadata, options: self.streamOptions) {
                response in
                for try await envelope in response.messages {
                    await handle(envelope)
                }
            }
        }
    }

    // MARK: Errors

    private func call<Result: Sendable>(
        _ method: String,
        notFound: String,
        _ body: () async throws -> Result
    ) async throws -> Result {
        do {
            return try await body()
        } catch let error as RPCError {
            throw explain(error, method: method, notFound: notFound)
        }
    }

    private func explain(_ error: RPCError, method: String, notFound: String) -> ContainerdError {
        switch error.code {
        case .notFound:
            return .notFound(notFound)
        case .unavailable, .deadlineExceeded:
            if let problem = ContainerdSocketCheck.problem(at: socketPath) { return problem }
            var detail = error.message
            if let cause = error.cause { detail += " (\(cause))" }
            return .unavailable(path: socketPath, detail: detail)
        case .permissionDenied, .unauthenticated:
            return .permissionDenied(path: socketPath)
        case .invalidArgument where error.message.contains("namespace"):
            return .invalidNamespace(namespace)
        default:
            return .rpcFailed(method: method, code: "\(error.code)", message: error.message)
        }
    }
}
