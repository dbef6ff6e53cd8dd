import Foundation
import HTTPTypes
import TaplineCore
import TaplineStore
import TaplineStoreContract
import Testing

@testable import TaplineAPI

/// What real Stitch integrations (mage-ai's Stitch service, dagster-stitch) read: keys they
/// index directly, the exit fields they poll, HEAD, and Stitch's error strings.
@Suite("API: shapes integrations read")
struct IntegrationShapesAPITests {
    static let catalog = #"""
        [{"breadcrumb": [], "metadata": {"inclusion": "available", "table-key-properties": ["id"]}},
         {"breadcrumb": ["properties", "id"], "metadata": {"inclusion": "automatic"}},
         {"breadcrumb": ["properties", "name"], "metadata": {"inclusion": "available"}}]
        """#

    func discovered(_ api: APIClient) async throws {
        #expect(try await api.create(#"{"type":"platform.postgres","display_name":"Pg","properties":{"host":"db"}}"#).status == 200)
        #expect(try await api.store.startConnectionCheck(sourceID: 1, name: "1.1.check.x", now: Date()))
        try await api.store.finishConnectionCheck(
            name: "1.1.check.x", exitStatus: 0, errorMessage: nil,
            streams: [
                DiscoveredStream(tapStreamID: "public-users", streamName: "users", schema: "{}", metadata: Self.catalog),
                DiscoveredStream(tapStreamID: "public-orders", streamName: "orders", schema: "{}", metadata: "[]"),
            ], now: Date())
    }

    @Test("a never-selected stream shows selected: null in its stream-level metadata; fields show selected false until selected")
    func selectedKeys() async throws {
        try await withAPI { api in
            try await discovered(api)
            let list = try await api.call(.get, "/v4/sources/1/streams")
            for stream in list.array {
                let metadata = try #require(stream["metadata"] as? [String: Any])
                #expect(metadata.keys.contains("selected") && metadata["selected"] is NSNull, "\(stream)")
            }
            let users = try #require(list.array.first { $0["tap_stream_id"] as? String == "public-users" })
            let schema = try await api.call(.get, "/v4/sources/1/streams/\(users["stream_id"] as! Int)")
            let entries =
                try #require(try JSONSerialization.jsonObject(with: Data(schema.text.utf8)) as? [String: Any])["metadata"]
                as? [[String: Any]]
            for entry in try #require(entries) {
                let values = try #require(entry["metadata"] as? [String: Any])
                let breadcrumb = entry["breadcrumb"] as? [String] ?? []
                if breadcrumb.isEmpty { #expect(values["selected"] is NSNull) } else { #expect(values["selected"] as? Bool == false) }
            }
            let put = try await api.call(
                .put, "/v4/sources/1/streams/metadata",
                body:
                    #"{"streams":[{"tap_stream_id":"public-users","metadata":[{"breadcrumb":["properties","name"],"metadata":{"selected":true}}]}]}"#
            )
            #expect(put.status == 200)
            let after = try await api.call(.get, "/v4/sources/1/streams/\(users["stream_id"] as! Int)")
            #expect(
                after.text.contains(#""breadcrumb":["properties","name"],"metadata":{"inclusion":"available","selected":true}"#),
                "\(after.text)")
        }
    }

    @Test("a metadata entry without tap_stream_id is named nil among the invalid ids, as Stitch does")
    func missingTapStreamID() async throws {
        try await withAPI { api in
            try await discovered(api)
            let r = try await api.call(
                .put, "/v4/sources/1/streams/metadata",
                body: #"{"streams":[{"metadata":[{"breadcrumb":[],"metadata":{"selected":true}}]}]}"#)
            #expect(r.status == 400 && r.object["invalid_fields"] as? String == "invalid tap-stream-ids:  [nil]", "\(r.text)")
        }
    }

    @Test("HEAD answers wherever GET does, with its status and no body")
    func head() async throws {
        try await withAPI { api in
            #expect(try await api.create(#"{"type":"platform.demo","display_name":"Shop"}"#).status == 200)
            for path in ["/v4/sources", "/v4/sources/1", "/v4/source-types", "/v4/sources/1/jobs", "/healthz", "/openapi.yaml"] {
                let r = try await api.call(.head, path)
                #expect(r.status == 200 && r.text.isEmpty, "HEAD \(path): \(r.status) \(r.text)")
            }
            let missing = try await api.call(.head, "/v4/sources/99")
            #expect(missing.status == 404 && missing.text.isEmpty)
            #expect(try await api.call(.head, "/v4/sources", token: nil).status == 401)
        }
    }

    @Test("destination_id is shown in the Source object once given")
    func destinationID() async throws {
        try await withAPI { api in
            let created = try await api.create(#"{"type":"platform.demo","display_name":"Shop"}"#)
            #expect(created.object.keys.contains("destination_id") && created["destination_id"] is NSNull)
            let r = try await api.call(.put, "/v4/sources/1", body: #"{"destination_id":7}"#)
            #expect(r.status == 200 && r["destination_id"] as? Int == 7)
        }
    }

    @Test("a failed load carries warehouse_message in error_state.notification_data")
    func warehouseMessage() async throws {
        try await withAPI { api in
            #expect(try await api.create(#"{"type":"platform.demo","display_name":"Shop"}"#).status == 200)
            guard case .started(let job, _) = try await api.store.startManualJob(sourceID: 1, now: Date(), jobName: "1.1.sync.a")
            else {
                Issue.record("not started")
                return
            }
            try api.store.recordCompletions([
                (
                    job.id,
                    JobOutcome(
                        status: .failed, completedAt: Date(), discoveryExitStatus: 0, tapExitStatus: 0, targetExitStatus: 1,
                        targetDescription: "psycopg2.errors.DiskFull: could not extend file", streamRecords: ["users": 3])
                )
            ])
            let loads = try await api.call(.get, "/v4/116078/loads")
            let load = try #require((loads["data"] as? [[String: Any]])?.first)
            let data = try #require((load["error_state"] as? [String: Any])?["notification_data"] as? [String: Any])
            #expect(data["warehouse_message"] as? String == "psycopg2.errors.DiskFull: could not extend file")
            #expect(load["last_batch_loaded_at"] is NSNull)
        }
    }

    @Test("a load's whole-second time is never earlier than the completion it records: rounded up, an exact second kept")
    func loadTimeRoundsUp() async throws {
        try await withAPI { api in
            var expected: [String: String] = [:]
            for (index, completed) in ["2026-11-29T09:58:05.569Z", "2026-11-29T09:59:07.000Z"].enumerated() {
                let name = "S\(index)"
                #expect(try await api.create(#"{"type":"platform.demo","display_name":"\#(name)"}"#).status == 200)
                let sourceID = Int64(index + 1)
                guard
                    case .started(let job, _) = try await api.store.startManualJob(
                        sourceID: sourceID, now: clock.now, jobName: "\(sourceID).1.sync.a")
                else {
                    Issue.record("not started")
                    return
                }
                let at = try #require(Timestamp.parse(completed))
                try api.store.recordCompletions([
                    (
                        job.id,
                        JobOutcome(
                            status: .succeeded, completedAt: at, discoveryExitStatus: 0, tapExitStatus: 0, targetExitStatus: 0,
                            streamRecords: ["users": 3], loadedRecords: ["users": 3])
                    )
                ])
                expected["s\(index)"] = index == 0 ? "2026-11-29T09:58:06Z" : "2026-11-29T09:59:07Z"
            }
            let loads = try #require(try await api.call(.get, "/v4/116078/loads")["data"] as? [[String: Any]])
            var seen: [String: String] = [:]
            for load in loads { seen[load["source_name"] as? String ?? ""] = load["last_batch_loaded_at"] as? String }
            #expect(seen == expected)
        }
    }
}
