import Foundation
import Gossip
import Testing

@testable import Registry

@Suite struct PeerCredentialsTests {
    @Test func tokensBindRequestAndTime() async throws {
        let key = ClusterKey.generate()
        let credentials = PeerCredentials(window: 60) { [key] }
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let token = try #require(await credentials.token(method: "GET", target: "/v2/a/blobs/x?ns=docker.io", now: now))
        #expect(await credentials.verify(token, method: "GET", target: "/v2/a/blobs/x?ns=docker.io", now: now))
        #expect(await credentials.verify(token, method: "GET", target: "/v2/a/blobs/x?ns=docker.io", now: now + 59))
        // Another path, method, time window or key: refused.
        #expect(!(await credentials.verify(token, method: "GET", target: "/v2/a/blobs/y?ns=docker.io", now: now)))
        #expect(!(await credentials.verify(token, method: "HEAD", target: "/v2/a/blobs/x?ns=docker.io", now: now)))
        #expect(!(await credentials.verify(token, method: "GET", target: "/v2/a/blobs/x?ns=docker.io", now: now + 61)))
        let other = PeerCredentials(window: 60) { [ClusterKey.generate()] }
        #expect(!(await other.verify(token, method: "GET", target: "/v2/a/blobs/x?ns=docker.io", now: now)))
        for garbage in ["", "v1", "v1.x.y", "v2.1.AAAA", String(repeating: "A", count: 500), token + "A"] {
            #expect(!(await credentials.verify(garbage, method: "GET", target: "/", now: now)))
        }
    }

    @Test func rotationKeepsOldTokensValid() async throws {
        let old = ClusterKey.generate()
        let new = ClusterKey.generate()
        let before = PeerCredentials { [old] }
        let during = PeerCredentials { [new, old] }
        let token = try #require(await before.token(method: "GET", target: "/v2/"))
        #expect(await during.verify(token, method: "GET", target: "/v2/"))
    }
}
