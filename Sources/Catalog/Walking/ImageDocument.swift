#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The fields of an index, manifest list or manifest that a walk needs; every
/// other field is ignored. One shape decodes all of them (and `index.json` of
/// an OCI layout), since they differ only in which fields are present.
struct ImageDocument: Decodable {
    var mediaType: String?
    var manifests: [DocumentDescriptor]?
    var config: DocumentDescriptor?
    var layers: [DocumentDescriptor]?

    static func decode(_ bytes: [UInt8]) throws -> ImageDocument {
        try JSONDecoder().decode(ImageDocument.self, from: Data(bytes))
    }

    /// Children in document order: manifests, then config, then layers.
    var children: [DocumentDescriptor] { (manifests ?? []) + (config.map { [$0] } ?? []) + (layers ?? []) }
}

/// A descriptor as written in a document. The digest stays a string so that
/// one entry with another algorithm does not make the whole document
/// undecodable; `descriptor` drops such entries.
struct DocumentDescriptor: Decodable {
    var mediaType: String?
    var digest: String
    var size: Int64
    var annotations: [String: String]?

    /// The validated descriptor, or nil for a digest this mirror cannot serve
    /// or a negative size. A missing media type becomes octet-stream.
    var descriptor: Descriptor? {
        guard let parsed = Digest(digest), size >= 0 else { return nil }
        let type = mediaType.flatMap { $0.isEmpty ? nil : $0 } ?? MediaType.octetStream
        return Descriptor(mediaType: type, digest: parsed, size: size)
    }
}
