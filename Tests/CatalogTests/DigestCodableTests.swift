import Foundation
import Testing
@testable import Catalog

@Suite struct DigestCodableTests {
    let hex = String(repeating: "ab", count: 32)

    @Test func descriptorRoundTripsThroughJSON() throws {
        let descriptor = Descriptor(mediaType: MediaType.ociManifest, digest: Digest("sha256:" + hex)!, size: 42)
        let json = try JSONEncoder().encode(descriptor)
        #expect(String(decoding: json, as: UTF8.self).contains("\"sha256:\(hex)\""))
        #expect(try JSONDecoder().decode(Descriptor.self, from: json) == descriptor)
    }

    @Test(arguments: ["sha512:" + String(repeating: "ab", count: 32), "sha256:" + String(repeating: "AB", count: 32),
                      "sha256:abc", "sha256:../../etc/passwd"])
    func rejectsNonCanonicalDigests(digest: String) {
        let json = #"{"mediaType":"x","digest":"\#(digest)","size":1}"#
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Descriptor.self, from: Data(json.utf8)) }
    }
}
