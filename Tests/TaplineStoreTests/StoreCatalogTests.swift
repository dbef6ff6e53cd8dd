import Foundation
import TaplineCore
import TaplineStoreContract
import TaplineTestSupport
import Testing

@testable import TaplineStore

/// The catalog a job gets is the tap's own, every key of every entry kept (Meltano SDK taps read
/// `replication_method`, `table_name`, `key_properties`, …), with only the selection merged in.
@Suite("Store: catalog fidelity")
struct StoreCatalogTests {
    static let sdkCatalog = #"""
        {"streams": [
          {"tap_stream_id": "public-users", "stream": "users", "table_name": "users", "replication_method": "",
           "key_properties": ["id"], "replication_key": null, "is_view": false, "database_name": "app",
           "schema": {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": ["string", "null"]}}},
           "metadata": [
             {"breadcrumb": [], "metadata": {"inclusion": "available", "table-key-properties": ["id"], "schema-name": "public"}},
             {"breadcrumb": ["properties", "id"], "metadata": {"inclusion": "automatic"}},
             {"breadcrumb": ["properties", "name"], "metadata": {"inclusion": "available"}}]},
          {"tap_stream_id": "public-orders", "stream": "orders", "table_name": "orders", "replication_method": "",
           "key_properties": ["id"], "schema": {"type": "object"}, "metadata": []}
        ]}
        """#

    @Test(
        "every key of the discovered entry reaches the job's catalog; the selection is merged into its metadata",
        arguments: StoreBackend.available)
    func wholeEntries(kind: StoreBackend) async throws {
        // As discovery stores them (DiscoveryRunner.parseCatalog): each entry whole, as text.
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(Self.sdkCatalog.utf8)) as? [String: Any])
        func text(_ value: Any) throws -> String {
            String(decoding: try JSONSerialization.data(withJSONObject: value, options: [.sortedKeys]), as: UTF8.self)
        }
        let streams = try (parsed["streams"] as? [[String: Any]] ?? []).map { entry in
            DiscoveredStream(
                tapStreamID: entry["tap_stream_id"] as! String, streamName: entry["stream"] as! String,
                schema: try text(entry["schema"]!), metadata: try text(entry["metadata"]!), catalogEntry: try text(entry))
        }
        try await kind.withStore(catalog: testCatalog) { store in try await Self.check(store, streams) }
    }

    static func check(_ store: any APIStore, _ streams: [DiscoveredStream]) async throws {
        let source = try await store.createSource(try newSource("Pg"), actor: alice, now: t0)
        #expect(try await store.startConnectionCheck(sourceID: source.id, name: "1.1.check.x", now: t0))
        try await store.finishConnectionCheck(name: "1.1.check.x", exitStatus: 0, errorMessage: nil, streams: streams, now: t0)
        _ = try await store.updateStreamMetadata(
            sourceID: source.id,
            changes: [
                (
                    "public-users",
                    [
                        [
                            "breadcrumb": [String](),
                            "metadata": ["selected": true, "replication-method": "INCREMENTAL", "replication-key": "id"],
                        ]
                    ]
                )
            ],
            now: t0)
        let text = try #require(try await store.selectedCatalog(sourceID: source.id))
        let catalog = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        let entries = try #require(catalog["streams"] as? [[String: Any]])
        let users = try #require(entries.first { $0["tap_stream_id"] as? String == "public-users" })
        #expect(users["table_name"] as? String == "users")
        #expect(users["replication_method"] as? String == "")
        #expect(users["key_properties"] as? [String] == ["id"])
        #expect(users["replication_key"] is NSNull && users["is_view"] as? Bool == false && users["database_name"] as? String == "app")
        #expect(((users["schema"] as? [String: Any])?["properties"] as? [String: Any])?.keys.sorted() == ["id", "name"])
        let metadata = try #require(users["metadata"] as? [[String: Any]])
        let own = try #require(metadata.first { ($0["breadcrumb"] as? [String])?.isEmpty == true }?["metadata"] as? [String: Any])
        #expect(own["selected"] as? Bool == true && own["replication-method"] as? String == "INCREMENTAL")
        #expect(own["replication-key"] as? String == "id" && own["schema-name"] as? String == "public")
        #expect(metadata.count == 3)
        let orders = try #require(entries.first { $0["tap_stream_id"] as? String == "public-orders" })
        #expect(orders["table_name"] as? String == "orders" && orders["stream"] as? String == "orders")
    }
}
