import Foundation
import HTTPTypes
import TaplineCore
import TaplineStore
import TaplineStoreContract
import TaplineTestSupport
import Testing

@testable import TaplineAPI

/// `POST`/`DELETE /v4/sources/{id}/sync` and `GET /v4/sources/{id}/jobs` through the router.
@Suite("API: replication jobs")
struct ReplicationJobsAPITests {
    @Test("start answers the job name, works while paused, and leaves the pause alone")
    func start() async throws {
        try await withAPI { api in
            try await api.create(#"{"type":"platform.demo","display_name":"A"}"#)
            try await api.call(.put, "/v4/sources/1", body: #"{"paused_at":"2026-01-01T00:00:00Z"}"#)
            // Body-less POST with a JSON content type, as Stitch clients send it.
            let r = try await api.call(.post, "/v4/sources/1/sync")
            #expect(r.status == 200)
            let name = try #require(r["job_name"] as? String)
            #expect(name.hasPrefix("116078.1.sync."))
            #expect(api.jobs.started == [name])
            #expect(try await api.call(.get, "/v4/sources/1")["paused_at"] as? String == "2026-01-01T00:00:00Z")
            let again = try await api.call(.post, "/v4/sources/1/sync")
            #expect(again.status == 200)
            #expect(again.jobError.type == "already_running")
            #expect(again.jobError.message == "Did not create job for client-id: 116078; connection-id: 1 because one already exists")
            #expect(api.jobs.started.count == 1)
            // The start is in the audit trail with the token's name; the refused one is not.
            let starts = try await api.store.events(sourceID: 1).filter { $0.kind == .manualStart }
            #expect(starts.map(\.actor) == ["tester"])
            #expect(starts.map(\.detail) == [name])
        }
    }

    @Test("unknown, deleted and unconfigured sources are 400 invalid_source")
    func refusals() async throws {
        try await withAPI { api in
            let unknown = try await api.call(.post, "/v4/sources/77/sync")
            #expect(unknown.status == 400)
            #expect(unknown.jobError.type == "invalid_source")
            #expect(unknown.jobError.message == "Unable to locate source(77) for client (116078)")
            #expect(
                try await api.call(.post, "/v4/sources/abc/sync").jobError.message == "Unable to locate source(abc) for client (116078)")
            try await api.create(#"{"type":"platform.demo","display_name":"A"}"#)
            try await api.call(.delete, "/v4/sources/1")
            let deleted = try await api.call(.post, "/v4/sources/1/sync")
            #expect(deleted.status == 400 && deleted.jobError.message == "Integration is deleted.")
            try await api.create(#"{"type":"platform.postgres","display_name":"PG"}"#)
            let incomplete = try await api.call(.post, "/v4/sources/2/sync")
            #expect(incomplete.status == 400)
            #expect(incomplete.jobError.message == "Source 2 is not fully configured (current step: form)")
            #expect(api.jobs.started.isEmpty)
        }
    }

    @Test("stop answers {\"status\":200} whether or not a job runs; unknown sources are invalid_source")
    func stop() async throws {
        try await withAPI { api in
            try await api.create(#"{"type":"platform.demo","display_name":"A"}"#)
            let r = try await api.call(.delete, "/v4/sources/1/sync")
            #expect(r.status == 200)
            #expect(r.text == #"{"status":200}"#)
            #expect(api.jobs.stopped == [1])
            #expect(try await api.call(.delete, "/v4/sources/9/sync").jobError.type == "invalid_source")
        }
    }

    @Test("jobs are listed newest first, 100 per page, with Stitch's pagination body")
    func jobsPages() async throws {
        try await withAPI { api in
            try await api.create(#"{"type":"platform.demo","display_name":"A"}"#)
            for i in 0..<150 {
                let name = "116078.1.sync.\(i)"
                let started = try await api.store.startManualJob(sourceID: 1, now: clock.now.addingTimeInterval(Double(i)), jobName: name)
                guard case .started(let job, _) = started else {
                    Issue.record("\(started)")
                    return
                }
                try api.store.recordCompletions([
                    (job.id, JobOutcome(status: .succeeded, completedAt: clock.now, tapExitStatus: 0, targetExitStatus: 0))
                ])
            }
            let first = try await api.call(.get, "/v4/sources/1/jobs")
            #expect(first["page"] as? Int == 1 && first["total"] as? Int == 150)
            let data = try #require(first["data"] as? [[String: Any]])
            #expect(data.count == 100)
            #expect(data[0]["job_name"] as? String == "116078.1.sync.149")
            #expect(data[0]["trigger"] as? String == "manual" && data[0]["status"] as? String == "succeeded")
            #expect(data[0]["scheduled_for"] is NSNull && data[0]["tap_exit_status"] as? Int == 0)
            #expect((first["links"] as? [String: Any])?["next"] as? String == "/v4/sources/1/jobs?page=2")
            let second = try await api.call(.get, "/v4/sources/1/jobs?page=2")
            #expect((second["data"] as? [[String: Any]])?.count == 50)
            #expect((second["links"] as? [String: Any])?["previous"] as? String == "/v4/sources/1/jobs?page=1")
            #expect((second["links"] as? [String: Any])?["next"] == nil)
            #expect(try await api.call(.get, "/v4/sources/1/jobs?page=0").status == 400)
            #expect(try await api.call(.get, "/v4/sources/1/jobs?page=x").jobError.type == "invalid_page")
            #expect(try await api.call(.get, "/v4/sources/5/jobs").status == 404)
        }
    }
}

@Suite("API: job history filters")
struct JobFilterAPITests {
    @Test("status, trigger and a time range filter the listing; an unknown parameter or value is a 400; links keep the filter")
    func filters() async throws {
        try await withAPI { api in
            #expect(
                try await api.create(#"{"type":"platform.demo","display_name":"Shop","properties":{"cron_expression":"0 0 0 1 1 ?"}}"#)
                    .status == 200)
            var ended: [(Int64, JobOutcome)] = []
            for i in 0..<5 {
                guard
                    case .started(let job, _) = try await api.store.startManualJob(
                        sourceID: 1, now: clock.now.addingTimeInterval(Double(i) * 60), jobName: "1.1.sync.\(i)")
                else {
                    Issue.record("not started")
                    return
                }
                let status: JobStatus = i % 2 == 0 ? .failed : .succeeded
                ended.append((job.id, JobOutcome(status: status, completedAt: clock.now.addingTimeInterval(Double(i) * 60 + 1))))
                try api.store.recordCompletions([ended.last!])
            }
            let failed = try await api.call(.get, "/v4/sources/1/jobs?status=failed")
            #expect(failed.status == 200 && failed["total"] as? Int == 3)
            #expect((failed["data"] as? [[String: Any]])?.allSatisfy { $0["status"] as? String == "failed" } == true)
            let both = try await api.call(.get, "/v4/sources/1/jobs?status=failed,succeeded&trigger=manual")
            #expect(both["total"] as? Int == 5)
            #expect(try await api.call(.get, "/v4/sources/1/jobs?trigger=scheduled")["total"] as? Int == 0)
            let since = Timestamp.format(clock.now.addingTimeInterval(120))
            let until = Timestamp.format(clock.now.addingTimeInterval(240))
            let window = try await api.call(.get, "/v4/sources/1/jobs?since=\(since)&until=\(until)")
            #expect(window["total"] as? Int == 2, "\(window.text)")
            for bad in ["status=done", "trigger=cron", "since=yesterday", "colour=red", "status=failed,"] {
                let r = try await api.call(.get, "/v4/sources/1/jobs?\(bad)")
                #expect(r.status == 400 && r.jobError.type == "invalid_filter", "\(bad): \(r.text)")
            }
        }
    }
}
