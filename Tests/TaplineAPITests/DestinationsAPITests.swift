import Foundation
import HTTPTypes
import TaplineCore
import TaplineStore
import TaplineStoreContract
import Testing

@testable import TaplineAPI

/// `/v4/destinations`: one destination per account, of a configured type; deleting it stops
/// scheduled starts for every source until a new one exists.
@Suite("API: destinations")
struct DestinationsAPITests {
    @Test("a fresh account has the built-in JSONL destination, reported as Stitch's s3; a second create is refused as Stitch refuses it")
    func listAndSecondCreate() async throws {
        try await withAPI { api in
            let list = try await api.call(.get, "/v4/destinations")
            #expect(list.status == 200 && list.array.count == 1)
            #expect(list.array.first?["type"] as? String == "s3" && list.array.first?["tapline_type"] as? String == "jsonl")
            #expect(list.array.first?["stitch_client_id"] as? Int == 116078)
            let second = try await api.call(.post, "/v4/destinations", body: #"{"type":"postgres","properties":{"host":"db"}}"#)
            #expect(second.status == 400 && second.json as? String == "an account can have at most one destination")
            let types = try await api.call(.get, "/v4/destination-types")
            #expect(types.array.map { $0["type"] as? String } == ["s3", "postgres"])
            #expect(try await api.call(.get, "/v4/destinations").array.count == 1)
        }
    }

    @Test("one destination by id, as mage-ai's get_destination reads it: live, deleted with its deleted_at, unknown a 404")
    func retrieveByID() async throws {
        try await withAPI { api in
            let one = try await api.call(.get, "/v4/destinations/1")
            #expect(one.status == 200 && one["id"] as? Int == 1 && one["type"] as? String == "s3" && one["deleted_at"] is NSNull)
            let listed = try await api.call(.get, "/v4/destinations").array.first
            #expect(listed.map { NSDictionary(dictionary: $0) } == NSDictionary(dictionary: one.object), "the same object as the list's")
            #expect(try await api.call(.delete, "/v4/destinations/1").status == 200)
            let deleted = try await api.call(.get, "/v4/destinations/1")
            #expect(deleted.status == 200 && deleted["deleted_at"] is String)
            for missing in ["2", "0", "abc", "-1"] {
                let answer = try await api.call(.get, "/v4/destinations/\(missing)")
                #expect(answer.status == 404 && answer["error"] as? String == "NotFound", "\(missing): \(answer.text)")
                #expect((answer.object["data"] as? [String: Any])?["message"] as? String == "destination not found (\(missing))")
            }
            #expect(try await api.call(.get, "/v4/destinations/1", token: nil).status == 401)
        }
    }

    @Test(
        "deleting the destination system-pauses every source (manual starts get invalid_source); a new one releases them with a next fire")
    func deleteAndRecreate() async throws {
        try await withAPI { api in
            #expect(
                try await api.create(#"{"type":"platform.demo","display_name":"A","properties":{"cron_expression":"0 * * ? * *"}}"#).status
                    == 200)
            #expect(try await api.call(.put, "/v4/sources/1", body: #"{"paused_at":"2026-01-01T00:00:00Z"}"#).status == 200)
            #expect(
                try await api.create(#"{"type":"platform.demo","display_name":"B","properties":{"cron_expression":"0 * * ? * *"}}"#).status
                    == 200)
            let deleted = try await api.call(.delete, "/v4/destinations/1")
            #expect(deleted.status == 200 && deleted["deleted_at"] is String)
            #expect(try await api.call(.get, "/v4/destinations").array.isEmpty)
            let b = try await api.call(.get, "/v4/sources/2")
            #expect(b["system_paused_at"] is String && b["schedule"] is NSNull)
            #expect((b["system_pause_reason"] as? String)?.contains("POST /v4/destinations") == true)
            let start = try await api.call(.post, "/v4/sources/2/sync")
            #expect(
                start.status == 400 && start.jobError.type == "invalid_source" && start.jobError.message?.contains("destination") == true)
            #expect(try await api.call(.delete, "/v4/destinations/1").status == 400, "already deleted")

            let created = try await api.call(
                .post, "/v4/destinations", body: #"{"type":"pg","properties":{"host":"db","port":"5432","password":"s3cret"}}"#)
            #expect(created.status == 200 && created["type"] as? String == "postgres" && created["id"] as? Int == 2)
            #expect(!created.text.contains("s3cret"), "credentials are never returned")
            #expect((created["properties"] as? [String: Any])?["port"] as? String == "5432")
            let released = try await api.call(.get, "/v4/sources/2")
            #expect(released["system_paused_at"] is NSNull && (released["schedule"] as? [String: Any])?["next_fire_time"] is String)
            // A user pause is the user's: it stays.
            #expect(try await api.call(.get, "/v4/sources/1")["paused_at"] is String)
            let events = try await api.store.events(sourceID: 2).map(\.kind)
            #expect(events.suffix(2) == [.systemPaused, .systemUnpaused])
        }
    }

    @Test("updates merge properties, refuse a type change, unknown keys, bad types and a missing required property")
    func update() async throws {
        try await withAPI { api in
            _ = try await api.call(.delete, "/v4/destinations/1")
            #expect(
                try await api.call(.post, "/v4/destinations", body: #"{"type":"pg","properties":{"port":"5432"}}"#).status == 400,
                "host is required")
            #expect(
                try await api.call(.post, "/v4/destinations", body: #"{"type":"pg","properties":{"host":"db","port":"x"}}"#).status == 400)
            #expect(try await api.call(.post, "/v4/destinations", body: #"{"type":"nope","properties":{}}"#).status == 400)
            #expect(try await api.call(.post, "/v4/destinations", body: #"{"type":"pg","properties":{"host":"db"}}"#).status == 200)
            let put = try await api.call(.put, "/v4/destinations/2", body: #"{"properties":{"port":"6543"}}"#)
            #expect(put.status == 200 && (put["properties"] as? [String: Any])?["host"] as? String == "db")
            #expect((put["properties"] as? [String: Any])?["port"] as? String == "6543")
            let typeChange = try await api.call(.put, "/v4/destinations/2", body: #"{"type":"s3"}"#)
            #expect(typeChange.status == 400 && typeChange.sourcesError.message == "Modifications to type are unsupported")
            let unknown = try await api.call(.put, "/v4/destinations/2", body: #"{"properties":{"colour":"red"}}"#)
            #expect(unknown.status == 400 && unknown.sourcesError.code == "InvalidProperties")
            #expect(try await api.call(.put, "/v4/destinations/2", body: #"{"properties":{"host":null}}"#).status == 400)
            #expect(try await api.call(.put, "/v4/destinations/9", body: #"{"properties":{}}"#).status == 400)
        }
    }
}
