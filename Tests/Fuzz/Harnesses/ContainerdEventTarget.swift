#if DEBUG || GOSSIP_MIRROR_FUZZ
@testable import Catalog
import SwiftProtobuf

/// containerd's event stream, as the catalog decodes it: an `Envelope` from
/// `Events.Subscribe`, and the image event inside its `Any`.
///
/// Properties: a decoded envelope serializes to bytes that decode to the same
/// envelope (protobuf binary is not canonical, so equality is of messages,
/// and serializing twice gives the same bytes); `imageName(in:)` never traps;
/// and a name it finds, if it parses as a store name (qualified), prints back
/// to a name that parses to the same reference.
extension FuzzTarget {
    static let containerdEvent = FuzzTarget(
        name: "containerd-event",
        summary: "containerd Events.Envelope protobuf decoding, ContainerdEventFeed.imageName, message round trips",
        seeds: ContainerdEventFuzzing.seeds,
        run: ContainerdEventFuzzing.run)
}

enum ContainerdEventFuzzing {
    static func run(_ bytes: [UInt8]) throws(PropertyViolation) {
        guard let envelope = try? Containerd_Services_Events_V1_Envelope(serializedBytes: bytes) else { return }
        let encoded: [UInt8]
        do { encoded = try envelope.serializedBytes() } catch {
            throw PropertyViolation("a decoded envelope does not serialize: \(error)")
        }
        let again = try? Containerd_Services_Events_V1_Envelope(serializedBytes: encoded)
        try require(again == envelope, "a decoded envelope serializes to bytes that decode to another envelope")
        try require((try? again?.serializedBytes()) == encoded, "serializing the same envelope twice gave other bytes")

        guard let name = ContainerdEventFeed.imageName(in: envelope.event) else { return }
        guard let reference = try? ImageReference(qualified: name) else { return }
        try require((try? ImageReference(qualified: reference.description)) == reference,
                "image name \(name.debugDescription) prints as \(reference.description), which reads otherwise")
    }

    static func seeds() -> [[UInt8]] {
        var create = Containerd_Services_Images_V1_ImageCreate()
        create.name = "docker.io/library/alpine:3"
        create.labels = ["io.cri-containerd.image": "managed"]
        var update = Containerd_Services_Images_V1_ImageUpdate()
        update.name = "myhost/app:1"
        var delete = Containerd_Services_Images_V1_ImageDelete()
        delete.name = "registry.example/app@sha256:" + String(repeating: "ab", count: 32)
        let events: [(String, any SwiftProtobuf.Message)] = [
            ("containerd.services.images.v1.ImageCreate", create), ("containerd.services.images.v1.ImageUpdate", update),
            ("containerd.services.images.v1.ImageDelete", delete),
        ]
        return events.map { type, message in
            var envelope = Containerd_Services_Events_V1_Envelope()
            envelope.namespace = "k8s.io"
            envelope.topic = "/images/create"
            envelope.timestamp = Google_Protobuf_Timestamp(seconds: 1_700_000_000, nanos: 5)
            envelope.event.typeURL = type
            envelope.event.value = try! message.serializedData()
            return try! envelope.serializedBytes()
        }
    }
}
#endif
