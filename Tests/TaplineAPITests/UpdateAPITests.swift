import Foundation
import HTTPTypes
import TaplineCore
import TaplineTestSupport
import Testing

@testable import TaplineAPI

/// `PUT` and `DELETE /v4/sources/{id}`: updates, pause and unpause, soft delete.
@Suite("API: update, pause, delete")
struct UpdateAPITests {
    @Test("pause with any instant pauses now, echoes the instant normalised, and drops the schedule")
    func pause() async throws {
        try await withAPI { api in
            try await api.create(#"{"type":"platform.demo","display_name":"A"}"#)
            let r = try await api.call(.put, "/v4/sources/1", body: #"{"paused_at":"2030-06-01T02:00:00.250+02:00"}"#)
            #expect(r.status == 200)
            #expect(r["paused_at"] as? String == "2030-06-01T00:00:00Z")
            #expect(r["schedule"] is NSNull)
            let events = try await api.store.events(sourceID: 1)
            #expect(events.map(\.kind) == [.created, .paused])
            #expect(events.last?.actor == "tester")
            let unpaused = try await api.call(.put, "/v4/sources/1", body: #"{"paused_at":null}"#)
            #expect(unpaused["paused_at"] is NSNull)
            let schedule = try #require(unpaused["schedule"] as? [String: Any])
            #expect(schedule["next_fire_time"] as? String == "2026-11-29T11:00:00Z")
        }
    }

    @Test("properties merge key by key; display name changes; the schema name does not")
    func merge() async throws {
        try await withAPI { api in
            try await api.create(#"{"type":"platform.demo","display_name":"A","properties":{"record_count":"5","fail":"true"}}"#)
            let r = try await api.call(
                .put, "/v4/sources/1",
                body:
                    #"{"display_name":"Renamed","properties":{"fail":null,"frequency_in_minutes":"1440","anchor_time":"2026-01-01T03:30:00Z"},"destination_id":3}"#
            )
            #expect(r.status == 200, "\(r.text)")
            #expect(r["display_name"] as? String == "Renamed")
            #expect(r["name"] as? String == "a")
            let properties = try #require(r["properties"] as? [String: Any])
            #expect(properties["record_count"] as? String == "5")
            #expect(properties["fail"] == nil)
            #expect(properties["frequency_in_minutes"] as? String == "1440")
            #expect(properties["anchor_time"] as? String == "2026-01-01T03:30:00.000Z")
            let schedule = try #require(r["schedule"] as? [String: Any])
            #expect(schedule["next_fire_time"] as? String == "2026-11-30T03:30:00Z")
            #expect(r.text.contains(#""interval":1440.0"#))
            let cron = try await api.call(.put, "/v4/sources/1", body: #"{"properties":{"cron_expression":"0 0 12 ? * MON-FRI *"}}"#)
            #expect((cron["schedule"] as? [String: Any])?["type"] as? String == "cron")
            #expect((cron["schedule"] as? [String: Any])?["cron_expression"] as? String == "0 0 12 ? * MON-FRI *")
            #expect((cron["schedule"] as? [String: Any])?["next_fire_time"] as? String == "2026-11-30T12:00:00Z")
        }
    }

    @Test("cron_timezone reads the cron expression in an IANA zone; shown only when set; a bad name is refused")
    func cronTimeZone() async throws {
        try await withAPI { api in
            let plain = try await api.create(
                #"{"type":"platform.demo","display_name":"A","properties":{"cron_expression":"0 0 12 ? * MON-FRI *"}}"#)
            #expect(plain["properties"] as? [String: Any] != nil)
            #expect((plain["properties"] as? [String: Any])?["cron_timezone"] == nil, "a Stitch client sees Stitch's keys only")
            #expect((plain["schedule"] as? [String: Any])?["cron_timezone"] == nil)
            let zoned = try await api.call(.put, "/v4/sources/1", body: #"{"properties":{"cron_timezone":"America/New_York"}}"#)
            #expect(zoned.status == 200, "\(zoned.text)")
            #expect((zoned["properties"] as? [String: Any])?["cron_timezone"] as? String == "America/New_York")
            let schedule = try #require(zoned["schedule"] as? [String: Any])
            // Noon in New York (EST, UTC−5) on Monday 2026-11-30.
            #expect(schedule["next_fire_time"] as? String == "2026-11-30T17:00:00Z")
            #expect(schedule["cron_timezone"] as? String == "America/New_York")
            for bad in ["Mars/Olympus", "EST+5", "america/new_york", ""] {
                let r = try await api.call(.put, "/v4/sources/1", body: #"{"properties":{"cron_timezone":"\#(bad)"}}"#)
                #expect(r.status == 400, "\(bad): \(r.text)")
                #expect(r.text.contains("cron_timezone"), "\(bad): \(r.text)")
            }
            let back = try await api.call(.put, "/v4/sources/1", body: #"{"properties":{"cron_timezone":null}}"#)
            #expect((back["schedule"] as? [String: Any])?["next_fire_time"] as? String == "2026-11-30T12:00:00Z")
            #expect(try await api.store.events(sourceID: 1).last?.detail == "cron_timezone")
        }
    }

    @Test("PUT {} changes nothing and returns the source")
    func emptyPut() async throws {
        try await withAPI { api in
            let created = try await api.create(#"{"type":"platform.demo","display_name":"A"}"#)
            let r = try await api.call(.put, "/v4/sources/1", body: "{}")
            #expect(r.status == 200)
            #expect(r.text == created.text)
        }
    }

    @Test(
        "bad PUT bodies: Stitch's error, and nothing changes",
        arguments: [
            ("", "InvalidBody", "PUT body must be a JSON object"),
            ("nope", "InvalidBody", "request body is not valid JSON"),
            (#"{"type":"platform.postgres"}"#, "InvalidBody", SourceError.putBodyMessage),
            (#"{"name":"other"}"#, "InvalidBody", SourceError.putBodyMessage),
            (#"{"display_name":""}"#, "InvalidDisplayName", "invalid display_name ()"),
            (#"{"display_name":null}"#, "InvalidDisplayName", "invalid display_name (null)"),
            (#"{"paused_at":"yesterday"}"#, "InvalidBody", #"paused_at must be an ISO 8601 timestamp or null, got "yesterday""#),
            (#"{"paused_at":true}"#, "InvalidBody", "paused_at must be an ISO 8601 timestamp or null, got true"),
            (
                #"{"system_paused_at":"2026-01-01T00:00:00Z"}"#, "InvalidBody",
                #"system_paused_at can only be set to null (which clears a system pause), got "2026-01-01T00:00:00Z""#
            ),
            (#"{"properties":[]}"#, "InvalidBody", "properties must be a JSON object"),
            (#"{"destination_id":1.5}"#, "InvalidBody", "destination_id must be an integer"),
            (#"{"properties":{"frequency_in_minutes":"7"}}"#, "InvalidProperties", "properties do not match schema"),
            (
                #"{"paused_at":"2026-01-01T00:00:00Z","properties":{"cron_expression":"0 0 0 ? * ?"}}"#, "InvalidCronExpression",
                #"cron_expression "0 0 0 ? * ?" is invalid: '?' can only be specfied for Day-of-Month -OR- Day-of-Week."#
            ),
        ])
    func badPut(_ body: String, _ code: String, _ message: String) async throws {
        try await withAPI { api in
            let created = try await api.create(#"{"type":"platform.demo","display_name":"A"}"#)
            let r = try await api.call(.put, "/v4/sources/1", body: body)
            #expect(r.status == 400, "\(r.text)")
            #expect(r.sourcesError.code == code)
            #expect(r.sourcesError.message == message)
            #expect(try await api.call(.get, "/v4/sources/1").text == created.text)
            #expect(try await api.store.events(sourceID: 1).count == 1)
        }
    }

    @Test("system_paused_at: null clears a system pause (tapline extension)")
    func clearSystemPause() async throws {
        try await withAPI { api in
            try await api.create(#"{"type":"platform.demo","display_name":"A"}"#)
            try await api.store.systemPause(sourceID: 1, reason: "command not found: tap-x", now: clock.now)
            let paused = try await api.call(.get, "/v4/sources/1")
            #expect(paused["system_paused_at"] as? String == "2026-11-29T10:00:00Z")
            #expect(paused["system_pause_reason"] as? String == "command not found: tap-x")
            #expect(paused["schedule"] is NSNull)
            let r = try await api.call(.put, "/v4/sources/1", body: #"{"system_paused_at":null}"#)
            #expect(r["system_paused_at"] is NSNull)
            #expect(r["schedule"] is [String: Any])
            #expect(try await api.store.events(sourceID: 1).map(\.kind) == [.created, .systemPaused, .systemUnpaused])
        }
    }

    @Test("unknown or impossible ids on PUT and DELETE are 400 InvalidId")
    func invalidIDs() async throws {
        try await withAPI { api in
            for method in [HTTPRequest.Method.put, .delete] {
                for id in ["42", "x"] {
                    let r = try await api.call(method, "/v4/sources/\(id)", body: "{}")
                    #expect(r.status == 400)
                    #expect(r.sourcesError.code == "InvalidId")
                    #expect(r.sourcesError.message == "source not found (\(id))")
                }
            }
        }
    }

    @Test("delete is soft: the source stays readable, loses its schedule, and cannot be changed")
    func delete() async throws {
        try await withAPI { api in
            try await api.create(#"{"type":"platform.demo","display_name":"A"}"#)
            let r = try await api.call(.delete, "/v4/sources/1")
            #expect(r.status == 200)
            #expect(r["deleted_at"] as? String == "2026-11-29T10:00:00Z")
            #expect(r["schedule"] is NSNull)
            #expect(r["report_card"] != nil)
            let again = try await api.call(.delete, "/v4/sources/1")
            #expect(again.status == 200)
            #expect(again.text == r.text)
            let put = try await api.call(.put, "/v4/sources/1", body: #"{"paused_at":null}"#)
            #expect(put.status == 400)
            #expect(put.sourcesError.message == "source is deleted (1)")
        }
    }
}
