import Catalog
import Foundation
import NIOCore

/// A manifest or index from the cluster, verified against its digest.
public struct PeerManifest: Sendable {
    public var digest: Digest
    public var mediaType: String
    public var bytes: [UInt8]
    public var peer: String
}

extension PeerRouter {
    static let manifestTypes = [
        MediaType.ociIndex, MediaType.ociManifest, MediaType.dockerManifestList, MediaType.dockerManifest,
    ].joined(separator: ", ")

    /// The manifest `reference` names, from the first holder that has it.
    ///
    /// By digest, the bytes must hash to it. By tag, the holder names the
    /// digest in its sealed `Docker-Content-Digest` and the bytes must hash
    /// to that; with `tagQuorum` above 1, that many holders must name the
    /// same digest (the others are asked with HEAD), else it is a miss.
    public func manifest(_ reference: ImageReference) async -> PeerManifest? {
        let key = reference.digest.map { SummaryKey($0) } ?? SummaryKey(tagKey: reference.tagKey!)
        let target = Self.target(reference, kind: "manifests", reference: reference.digest?.description ?? reference.tag ?? "latest")
        var candidates = self.candidates(for: key)
        while let started = await start(candidates, target: target, method: .get, accept: Self.manifestTypes) {
            candidates = started.remaining
            let attempt = started.attempt
            let manifest: PeerManifest
            do {
                manifest = try await read(attempt, naming: reference)
                attempt.lease.end(.served)
            } catch {
                attempt.fail(error)
                continue
            }
            metrics.served(peerBytes: Int64(manifest.bytes.count))
            if reference.digest == nil, settings.tagQuorum > 1 {
                let others = directory.candidates(for: key).filter { $0.name != attempt.peer }
                guard await confirm(target, names: manifest.digest, agreeing: settings.tagQuorum - 1, among: others) else {
                    logger.info(
                        "tag not answered: fewer holders than the quorum name the same digest",
                        metadata: ["reference": "\(reference)", "digest": "\(manifest.digest)", "quorum": "\(settings.tagQuorum)"])
                    return nil
                }
            }
            return manifest
        }
        return nil
    }

    /// The verified manifest an accepted head announces.
    private func read(_ attempt: OpenAttempt, naming reference: ImageReference) async throws -> PeerManifest {
        let response = attempt.response
        let claimed = response.dockerContentDigest
        guard let expected = reference.digest ?? claimed else {
            throw PeerFetchError.invalidResponse("no Docker-Content-Digest for a tag")
        }
        if let claimed, claimed != expected {
            throw PeerFetchError.invalidResponse("the holder labels the content \(claimed), expected \(expected)")
        }
        guard let mediaType = response.contentType, MediaType.isManifest(mediaType) || MediaType.isIndex(mediaType) else {
            throw PeerFetchError.invalidResponse("not a manifest media type")
        }
        if let length = response.contentLength, length > Int64(settings.manifestLimit) { throw PeerFetchError.tooLarge }
        let bytes = try await response.collect(upTo: settings.manifestLimit, verifying: expected)
        return PeerManifest(digest: expected, mediaType: mediaType, bytes: Array(buffer: bytes), peer: attempt.peer)
    }

    /// Whether `needed` more holders answer a sealed HEAD of the tag at
    /// `target` with `digest`. A holder naming another digest ends the vote:
    /// the tag is contested (it moved upstream, or someone lies), and the
    /// upstream is the one to ask.
    private func confirm(_ target: String, names digest: Digest, agreeing needed: Int, among others: [PeerCandidate]) async -> Bool {
        var agreeing = 0
        for peer in others where agreeing < needed {
            guard case .success(let attempt) = await open(peer, target: target, method: .head, accept: Self.manifestTypes) else {
                continue
            }
            await attempt.response.body.discard()
            attempt.lease.end(.served)
            guard attempt.response.dockerContentDigest == digest else { return false }
            agreeing += 1
        }
        return agreeing >= needed
    }
}
