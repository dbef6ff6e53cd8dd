/// The stream and field metadata keys a caller may set (Stitch's "non-discoverable" keys): the
/// tap discovers every other key, and `PUT …/streams/metadata` refuses to write them. Shown in
/// each stream's schema as `non-discoverable-metadata-keys`, enforced by the store.
public enum StreamMetadataKeys {
    public static let writable = ["selected", "replication-method", "replication-key", "view-key-properties"]
}
