import Foundation
import HTTPTypes
import TaplineCore
import Testing

@testable import TaplineAPI

/// `/v4/sources` through the real router, checked against the Stitch v4 wire contract.
@Suite("API: sources")
struct SourcesAPITests {
    @Test("create returns the full Stitch Source object")
    func create() async throws {
        try await withAPI { api in
            let r = try await api.create(
                #"{"type":"platform.demo","display_name":"My Demo!","properties":{"record_count":"5","api_key":"sekret","frequency_in_minutes":"30"}}"#
            )
            #expect(r.status == 200)
            #expect(r["id"] as? Int == 1)
            #expect(r["name"] as? String == "my_demo")
            #expect(r["display_name"] as? String == "My Demo!")
            #expect(r["type"] as? String == "platform.demo")
            #expect(r["stitch_client_id"] as? Int == 116078)
            let properties = try #require(r["properties"] as? [String: Any])
            #expect(properties["record_count"] as? String == "5")
            #expect(properties["frequency_in_minutes"] as? String == "30")
            #expect(properties["cron_expression"] is NSNull)
            #expect(properties["api_key"] == nil, "credentials are never returned")
            #expect(!r.text.contains("sekret"))
            let schedule = try #require(r["schedule"] as? [String: Any])
            #expect(schedule["type"] as? String == "interval")
            #expect(schedule["unit"] as? String == "minute")
            #expect(schedule["next_fire_time"] as? String == "2026-11-29T10:00:00Z")
            #expect(r.text.contains(#""interval":30.0"#))
            for key in ["paused_at", "system_paused_at", "deleted_at", "check_job_name"] {
                #expect(r[key] is NSNull, "\(key)")
            }
            #expect(r["created_at"] as? String == "2026-11-29T10:00:00Z")
            #expect(r["updated_at"] as? String == "2026-11-29T10:00:00Z")
            let card = try #require(r["report_card"] as? [String: Any])
            #expect(card["current_step_type"] as? String == "fully_configured")
            let steps = try #require(card["steps"] as? [[String: Any]])
            #expect(steps.map { $0["type"] as? String } == ["form", "fully_configured"])
            let form = try #require(steps[0]["properties"] as? [[String: Any]])
            let apiKey = try #require(form.first { $0["name"] as? String == "api_key" })
            #expect(apiKey["is_credential"] as? Bool == true && apiKey["provided"] as? Bool == true)
        }
    }

    @Test("a source with required properties missing stays at the form step without a schedule")
    func incomplete() async throws {
        try await withAPI { api in
            let r = try await api.create(#"{"type":"platform.postgres","display_name":"PG"}"#)
            #expect(r.status == 200)
            #expect(r["schedule"] is NSNull)
            let card = try #require(r["report_card"] as? [String: Any])
            #expect(card["current_step"] as? Int == 0)
            #expect(card["current_step_type"] as? String == "form")
            #expect(
                (card["steps"] as? [[String: Any]])?.map { $0["type"] as? String } == [
                    "form", "discover_schema", "field_selection", "fully_configured",
                ])
            #expect((r["properties"] as? [String: Any])?["frequency_in_minutes"] as? String == "30")
        }
    }

    @Test("an explicit name is accepted and validated")
    func explicitName() async throws {
        try await withAPI { api in
            let r = try await api.create(#"{"type":"platform.demo","display_name":"Shop","name":"shop_eu"}"#)
            #expect(r["name"] as? String == "shop_eu")
            let bad = try await api.create(#"{"type":"platform.demo","display_name":"Shop 2","name":"Shop-EU"}"#)
            #expect(bad.status == 400)
            #expect(bad.sourcesError.code == "InvalidName")
            #expect(bad.sourcesError.message == SourceName.rulesMessage)
        }
    }

    @Test(
        "bad create bodies: Stitch's error, and nothing is written",
        arguments: [
            ("", "InvalidBody", SourceError.postBodyMessage),
            ("{", "InvalidBody", "request body is not valid JSON"),
            ("[1,2]", "InvalidBody", SourceError.postBodyMessage),
            (#"{"type":"platform.demo","display_name":"x","extra":1}"#, "InvalidBody", SourceError.postBodyMessage),
            (#"{"display_name":"x"}"#, "InvalidBody", SourceError.postBodyMessage),
            (#"{"type":"","display_name":"x"}"#, "InvalidBody", SourceError.postBodyMessage),
            (#"{"type":"platform.demo","display_name":"   "}"#, "InvalidBody", SourceError.postBodyMessage),
            (#"{"type":"platform.demo","display_name":7}"#, "InvalidBody", SourceError.postBodyMessage),
            (#"{"type":"platform.demo","display_name":"x","properties":"a=b"}"#, "InvalidBody", SourceError.postBodyMessage),
            (#"{"type":"platform.demo","display_name":"x","destination_id":"7"}"#, "InvalidBody", "destination_id must be an integer"),
            (#"{"type":"platform.nope","display_name":"x"}"#, "InvalidType", "invalid source type (platform.nope)"),
            (
                "{\"type\":\"platform.demo\",\"display_name\":\"####\"}", "InvalidDisplayName",
                "invalid name after deriving it from display_name (#### -> )"
            ),
            (
                #"{"type":"platform.demo","display_name":"9 Lives"}"#, "InvalidDisplayName",
                "invalid name after deriving it from display_name (9 Lives -> 9_lives)"
            ),
            (
                #"{"type":"platform.demo","display_name":"x","properties":{"frequency_in_minutes":"45"}}"#, "InvalidProperties",
                "properties do not match schema"
            ),
            (
                #"{"type":"platform.demo","display_name":"x","properties":{"frequency_in_minutes":60}}"#, "InvalidProperties",
                "properties do not match schema"
            ),
            (
                #"{"type":"platform.demo","display_name":"x","properties":{"record_count":""}}"#, "InvalidProperties",
                "properties do not match schema"
            ),
            (
                #"{"type":"platform.demo","display_name":"x","properties":{"cron_expression":"* * * * * *"}}"#, "InvalidCronExpression",
                #"cron_expression "* * * * * *" is invalid: Support for specifying both a day-of-week AND a day-of-month parameter is not implemented."#
            ),
        ])
    func badCreate(_ body: String, _ code: String, _ message: String) async throws {
        try await withAPI { api in
            let r = try await api.create(body)
            #expect(r.status == 400, "\(r.text)")
            #expect(r.sourcesError.code == code)
            #expect(r.sourcesError.message == message)
            #expect(try await api.sourceCount() == 0)
        }
    }

    @Test("InvalidProperties lists every bad property and carries the type's report card")
    func badProperties() async throws {
        try await withAPI { api in
            let r = try await api.create(
                #"{"type":"platform.demo","display_name":"x","properties":{"record_count":"many","fail":"maybe","zzz":"1"}}"#)
            let data = try #require(r["data"] as? [String: Any])
            #expect(data["bad_properties"] as? [String] == ["fail", "record_count", "zzz"])
            #expect((data["report_card"] as? [String: Any])?["type"] as? String == "platform.demo")
        }
    }

    @Test("duplicate names")
    func duplicates() async throws {
        try await withAPI { api in
            #expect(try await api.create(#"{"type":"platform.demo","display_name":"Shop"}"#).status == 200)
            let same = try await api.create(#"{"type":"platform.demo","display_name":"Shop"}"#)
            #expect(same.sourcesError.code == "InvalidName")
            #expect(same.sourcesError.message == "non-unique name (Shop)")
            let derived = try await api.create(#"{"type":"platform.demo","display_name":"SHOP!"}"#)
            #expect(derived.sourcesError.message == "non-unique name after deriving it from display_name (SHOP! -> shop)")
            #expect(try await api.sourceCount() == 1)
        }
    }

    @Test("list is a plain array including paused and deleted sources; GET works with an empty JSON body")
    func list() async throws {
        try await withAPI { api in
            try await api.create(#"{"type":"platform.demo","display_name":"A"}"#)
            try await api.create(#"{"type":"platform.demo","display_name":"B"}"#)
            try await api.create(#"{"type":"platform.demo","display_name":"C"}"#)
            try await api.call(.put, "/v4/sources/2", body: #"{"paused_at":"2026-01-01T00:00:00Z"}"#)
            try await api.call(.delete, "/v4/sources/3")
            let r = try await api.call(.get, "/v4/sources")
            #expect(r.status == 200)
            #expect(r.array.map { $0["name"] as? String } == ["a", "b", "c"])
            #expect(r.array[1]["paused_at"] as? String == "2026-01-01T00:00:00Z")
            #expect(r.array[2]["deleted_at"] as? String == "2026-11-29T10:00:00Z")
            #expect(r.array.allSatisfy { $0["report_card"] != nil })
        }
    }

    @Test("retrieve: active, paused or deleted; unknown ids are the generic 404")
    func retrieve() async throws {
        try await withAPI { api in
            try await api.create(#"{"type":"platform.demo","display_name":"A"}"#)
            #expect(try await api.call(.get, "/v4/sources/1")["name"] as? String == "a")
            try await api.call(.delete, "/v4/sources/1")
            #expect(try await api.call(.get, "/v4/sources/1")["deleted_at"] as? String != nil)
            for id in ["99", "abc", "-1", "99999999999999999999"] {
                let r = try await api.call(.get, "/v4/sources/\(id)")
                #expect(r.status == 404)
                #expect(r.sourcesError.code == "NotFound")
            }
        }
    }
}
