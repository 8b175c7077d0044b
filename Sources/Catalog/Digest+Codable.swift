/// A digest encodes as its canonical string, `sha256:<64 lowercase hex>`, as in
/// OCI descriptors. Decoding is as strict as `Digest.init(_:)`, so a descriptor
/// that names another algorithm (or a malformed digest) fails to decode instead
/// of turning into a path under a content root.
extension Digest: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let string = try container.decode(String.self)
        guard let digest = Digest(string) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "not a sha256 digest in canonical form: \(string.prefix(80))")
        }
        self = digest
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
