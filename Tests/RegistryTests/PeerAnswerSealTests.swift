import Foundation
import Gossip
import NIOHTTP1
import Testing

@testable import Registry

/// Issue 9, finding 4: a holder's answer is sealed over what the relay relies on.
@Suite struct PeerAnswerSealTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)
    static let digest = "sha256:" + String(repeating: "ab", count: 32)

    static func sealed(key: ClusterKey, token: String, headers: HTTPHeaders, status: Int = 200) async throws -> PeerResponseHead {
        let holder = PeerAnswerSeal(credentials: PeerCredentials(nodeName: "holder") { [key] })
        let fields = PeerAnswerSeal.Fields(status: status, headers: headers)
        let value = try #require(await holder.seal(token: token, method: "GET", target: "/v2/a/manifests/v1", fields: fields, now: now))
        var headers = headers
        headers.add(name: PeerAnswerSeal.header, value: value)
        return PeerResponseHead(status: status, headers: headers)
    }

    @Test func aSealCoversStatusDigestTypeLengthRangeRequestAndTime() async throws {
        let key = ClusterKey.generate()
        let relay = PeerAnswerSeal(credentials: PeerCredentials(nodeName: "relay") { [key] })
        let token = "v2.1800000000.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
        let headers: HTTPHeaders = [
            "Docker-Content-Digest": Self.digest, "Content-Type": "application/vnd.oci.image.manifest.v1+json",
            "Content-Length": "512", "Content-Range": "bytes 0-511/1024",
        ]
        let head = try await Self.sealed(key: key, token: token, headers: headers, status: 206)
        func verify(_ head: PeerResponseHead, responder: String = "holder", token: String = token, target: String = "/v2/a/manifests/v1",
                    now: Date = Self.now) async -> Bool {
            await relay.verify(head, responder: responder, token: token, method: "GET", target: target, now: now)
        }
        #expect(await verify(head))
        #expect(await verify(head, now: Self.now + 100))

        // Each covered field, changed, breaks the seal.
        for (name, value) in [
            ("Docker-Content-Digest", "sha256:" + String(repeating: "cd", count: 32)), ("Content-Type", "application/json"),
            ("Content-Length", "511"), ("Content-Range", "bytes 1-512/1024"),
        ] {
            var changed = head
            changed.headers.replaceOrAdd(name: name, value: value)
            #expect(!(await verify(changed)), "\(name) is not covered")
            changed.headers.remove(name: name)
            #expect(!(await verify(changed)), "dropping \(name) is not noticed")
        }
        var status = head
        status.status = 200
        #expect(!(await verify(status)))
        #expect(!(await verify(head, responder: "another-holder")))
        #expect(!(await verify(head, token: token.replacingOccurrences(of: "AAAAAAAAAAAAAAAA.", with: "AAAAAAAAAAAAAAAB."))))
        #expect(!(await verify(head, target: "/v2/a/manifests/v2")))
        #expect(!(await verify(head, now: Self.now + 121)))
        let stranger = PeerAnswerSeal(credentials: PeerCredentials(nodeName: "relay") { [ClusterKey.generate()] })
        #expect(!(await stranger.verify(head, responder: "holder", token: token, method: "GET", target: "/v2/a/manifests/v1", now: Self.now)))
        var unsealed = head
        unsealed.headers.remove(name: PeerAnswerSeal.header)
        #expect(!(await verify(unsealed)))
        for garbage in ["", "v1", "v1.-1.x", "v1.-9223372036854775808.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", String(repeating: "v", count: 400)] {
            var forged = head
            forged.headers.replaceOrAdd(name: PeerAnswerSeal.header, value: garbage)
            #expect(!(await verify(forged)))
        }
    }

    /// The seal's MAC in another base64 spelling (the two unused bits of
    /// its last character) is refused, as for tokens. One row per spelling.
    @Test(arguments: 1...3)
    func otherSpellingsOfTheSealAreRefused(flip: Int) async throws {
        let key = ClusterKey.generate()
        let relay = PeerAnswerSeal(credentials: PeerCredentials(nodeName: "relay") { [key] })
        let token = "v2.1800000000.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
        let head = try await Self.sealed(key: key, token: token, headers: ["Content-Length": "3"])
        func verify(_ head: PeerResponseHead) async -> Bool {
            await relay.verify(head, responder: "holder", token: token, method: "GET", target: "/v2/a/manifests/v1", now: Self.now)
        }
        #expect(await verify(head))
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
        var characters = Array(head.headers.first(name: PeerAnswerSeal.header)!)
        let last = characters.count - 2
        characters[last] = alphabet[alphabet.firstIndex(of: characters[last])! ^ flip]
        var respelled = head
        respelled.headers.replaceOrAdd(name: PeerAnswerSeal.header, value: String(characters))
        #expect(!(await verify(respelled)))
    }

    /// A covered header added where the answer had none, with the value that
    /// once stood for "absent" in the MAC input (found by fuzzing: the seal
    /// still verified). One row per header.
    @Test(arguments: ["Docker-Content-Digest", "Content-Type", "Content-Length", "Content-Range"])
    func anAddedHeaderSpelledLikeAbsenceBreaksTheSeal(name: String) async throws {
        let key = ClusterKey.generate()
        let relay = PeerAnswerSeal(credentials: PeerCredentials(nodeName: "relay") { [key] })
        let token = "v2.1800000000.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
        let head = try await Self.sealed(key: key, token: token, headers: [:], status: 404)
        #expect(await relay.verify(head, responder: "holder", token: token, method: "GET", target: "/v2/a/manifests/v1", now: Self.now))
        var added = head
        added.headers.add(name: name, value: "-")
        #expect(!(await relay.verify(added, responder: "holder", token: token, method: "GET", target: "/v2/a/manifests/v1", now: Self.now)))
    }
}
