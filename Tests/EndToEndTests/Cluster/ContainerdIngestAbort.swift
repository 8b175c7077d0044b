import GRPCCore
import GRPCNIOTransportHTTP2

/// containerd's `Content.Abort` for one ingest ref, as a client of the
/// daemon would call it: `ctr` has no command for it, and the project's
/// generated API subset holds only what the product calls. The request is
/// one protobuf field (`AbortRequest.ref = 1`), written by hand; the answer
/// is `google.protobuf.Empty`.
enum ContainerdIngestAbort {
    struct RawBytes: MessageSerializer, MessageDeserializer {
        func serialize<Bytes: GRPCContiguousBytes>(_ message: [UInt8]) throws -> Bytes { Bytes(message) }
        func deserialize<Bytes: GRPCContiguousBytes>(_ bytes: Bytes) throws -> [UInt8] {
            bytes.withUnsafeBytes { Array($0) }
        }
    }

    /// `AbortRequest { string ref = 1; }` on the wire.
    static func request(ref: String) -> [UInt8] {
        let bytes = Array(ref.utf8)
        var varint: [UInt8] = []
        var n = bytes.count
        repeat {
            varint.append(UInt8(n & 0x7F) | (n >= 0x80 ? 0x80 : 0))
            n >>= 7
        } while n > 0
        return [0x0A] + varint + bytes
    }

    /// Aborts the ingest `ref` in `namespace` of the containerd at `socket`.
    static func abort(ref: String, namespace: String, socket: String) async throws {
        let transport = try HTTP2ClientTransport.Posix(target: .unixDomainSocket(path: socket), transportSecurity: .plaintext)
        try await withGRPCClient(transport: transport) { client in
            var metadata = Metadata()
            metadata.addString(namespace, forKey: "containerd-namespace")
            try await client.unary(
                request: ClientRequest(message: request(ref: ref), metadata: metadata),
                descriptor: MethodDescriptor(fullyQualifiedService: "containerd.services.content.v1.Content", method: "Abort"),
                serializer: RawBytes(), deserializer: RawBytes(), options: .defaults
            ) { response in _ = try response.message }
        }
    }
}
