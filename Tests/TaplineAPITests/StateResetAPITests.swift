import Foundation
import TaplineCore
import TaplineStore
import TaplineStoreContract
import TaplineTestSupport
import Testing

@testable import TaplineAPI

@Suite("API: state reset")
struct StateResetAPITests {
    @Test(
        "reset clears the bookmarks (the next job starts from start_date), returns what they held and is audited; refused while a job runs")
    func reset() async throws {
        try await withAPI { api in
            try await api.create(#"{"type":"platform.demo","display_name":"A"}"#)
            guard case .started(let job, _) = try await api.store.startManualJob(sourceID: 1, now: clock.now, jobName: "116078.1.sync.a")
            else {
                Issue.record("not started")
                return
            }
            let running = try await api.call(.post, "/v4/sources/1/state/reset")
            #expect(running.status == 409 && running.sourcesError.code == "Conflict")
            #expect(running.sourcesError.message?.contains("116078.1.sync.a") == true)
            try api.store.recordCompletions([
                (
                    job.id,
                    JobOutcome(
                        status: .succeeded, completedAt: clock.now, tapExitStatus: 0, targetExitStatus: 0,
                        confirmedState: #"{"bookmarks":{"users":{"id":25}}}"#)
                )
            ])
            #expect(try await api.store.state(sourceID: 1) != nil)

            let reset = try await api.call(.post, "/v4/sources/1/state/reset")
            #expect(reset.status == 200, "\(reset.text)")
            #expect(reset["source_id"] as? Int == 1)
            #expect(((reset["previous_state"] as? [String: Any])?["bookmarks"] as? [String: Any])?["users"] != nil)
            #expect(try await api.store.state(sourceID: 1) == nil)
            let event = try #require(try await api.store.events(sourceID: 1).last)
            #expect(event.kind == .updated && event.reason == "state reset" && event.detail == "state")
            #expect(try await api.call(.post, "/v4/sources/1/state/reset")["previous_state"] is NSNull, "a second reset finds none")

            #expect(try await api.call(.post, "/v4/sources/9/state/reset").sourcesError.code == "InvalidId")
            #expect(try await api.call(.post, "/v4/sources/01/state/reset").sourcesError.code == "InvalidId")
            _ = try await api.call(.delete, "/v4/sources/1")
            #expect(try await api.call(.post, "/v4/sources/1/state/reset").status == 400)
        }
    }
}
