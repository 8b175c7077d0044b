import Catalog

/// What `TestImageBuilder` wrote: an OCI image layout with one tagged image, and
/// the descriptors a test needs to check what a store or catalog reports.
public struct TestImage: Sendable {
    /// One platform's manifest and what it references.
    public struct PlatformImage: Sendable, Hashable {
        public var platform: TestImageBuilder.Platform
        public var manifest: Descriptor
        public var config: Descriptor
        public var layers: [Descriptor]

        /// The manifest, the config and the layers.
        public var descriptors: [Descriptor] { [manifest, config] + layers }
    }

    /// The OCI image layout directory (`oci-layout`, `index.json`, `blobs/sha256/`).
    public var layoutDirectory: String
    /// The tag (`org.opencontainers.image.ref.name` in the layout's index.json).
    public var tag: String
    /// What the tag points at: the index for a multi-platform image, else the manifest.
    public var root: Descriptor
    /// Each platform's image, in the order the index lists them.
    public var platforms: [PlatformImage]

    /// True when `root` is an image index.
    public var isIndex: Bool { root.mediaType == TestImageBuilder.MediaType.index }

    public func image(for platform: TestImageBuilder.Platform) -> PlatformImage? {
        platforms.first { $0.platform == platform }
    }

    /// The platform `ctr images pull` fetches on this machine (linux and this CPU).
    public var hostImage: PlatformImage? { image(for: .host) }

    /// Everything a pull for this machine's platform stores: the index (if any),
    /// then the host platform's manifest, config and layers.
    public var pulledDescriptors: [Descriptor] {
        (isIndex ? [root] : []) + (hostImage?.descriptors ?? [])
    }

    /// Every blob in the layout.
    public var allDescriptors: [Descriptor] {
        (isIndex ? [root] : []) + platforms.flatMap(\.descriptors)
    }

    /// Where a blob of this image is in the layout.
    public func blobPath(_ digest: Digest) -> String {
        layoutDirectory + "/blobs/sha256/" + digest.hex
    }
}
