import Foundation
import Hummingbird
import NIOCore
import TaplineAPI
import TaplineCore
import TaplineStoreContract

/// A job's log (`/ui/extractions/{job}`): the last lines, the critical ones pinned above, a
/// live tail from a byte offset while the job runs, the raw file. A job that ran on another
/// node of a cluster is read through the log relay, with the session's token.
extension Console {
    struct LogModel {
        var job: JobRowModel
        var sourceID: Int64
        var sourceName: String
        var running: Bool
        var lines: [String]
        var pinned: [String]
        var hasPinned: Bool
        var offset: Int
        var earlier: String?
        var tailURL: String
        var rawURL: String
        var canAct: Bool
        var csrf: String
        var missing: String?
    }

    @Sendable func logPage(request: Request, context: TaplineRequestContext) async throws -> Response {
        let session = try viewer(request)
        let (job, source) = try await jobAndSource(context)
        let before = Self.query(request)["before"].flatMap(Int.init).map { max(0, $0) }
        var model = LogModel(
            job: Self.jobRow(job, now: api.now()), sourceID: job.sourceID, sourceName: source?.displayName ?? "source \(job.sourceID)",
            running: job.status == .running, lines: [], pinned: [], hasPinned: false, offset: 0, earlier: nil,
            tailURL: "/ui/extractions/\(job.jobName)/tail", rawURL: "/ui/extractions/\(job.jobName)/raw",
            canAct: !session.identity.readOnly, csrf: session.csrf, missing: nil)
        do {
            let (slice, pinned, size) = try await withLog(job, session: session) { handle, size in
                (try LogText.tail(of: handle, size: size, before: before), try LogText.pinned(in: handle, size: size), size)
            }
            model.lines = slice.lines
            // An earlier page does not tail: its end is not the file's.
            model.offset = before == nil ? slice.end : size
            if slice.start > 0 { model.earlier = "/ui/extractions/\(job.jobName)?before=\(slice.start)" }
            model.pinned = pinned
            model.hasPinned = !pinned.isEmpty
        } catch let error as ConsoleError where error.status == .notFound {
            model.missing = error.message
        }
        return .page(renderer.page("log", model, layout: await layout(job.jobName, session: session)))
    }

    /// `{"offset": N, "lines": [...], "running": bool}`: the whole lines written since `offset`.
    @Sendable func logTail(request: Request, context: TaplineRequestContext) async throws -> Response {
        let session = try viewer(request)
        let (job, _) = try await jobAndSource(context)
        let offset = max(0, Self.query(request)["offset"].flatMap(Int.init) ?? 0)
        // A file shorter than what the page has is not this log's continuation: the page
        // starts over.
        let slice: LogText.Slice? = try await withLog(job, session: session) { handle, size in
            offset > size ? nil : try LogText.after(offset, in: handle, size: size)
        }
        let reset = slice == nil
        let body: [String: Any] = [
            "offset": slice?.end ?? 0, "lines": slice?.lines ?? [], "running": job.status == .running, "reset": reset,
            "status": job.status.rawValue,
        ]
        let data = (try? JSONSerialization.data(withJSONObject: body)) ?? Data("{}".utf8)
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        Self.secure(&headers)
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    @Sendable func rawLog(request: Request, context: TaplineRequestContext) async throws -> Response {
        let session = try viewer(request)
        let (job, _) = try await jobAndSource(context)
        let (path, temporary) = try await logFile(job, session: session)
        let file: ResponseBody
        do {
            file = try await FileIO().loadFile(path: path, context: context, chunkLength: 64 * 1024)
        } catch {
            if temporary { unlink(path) }
            throw error
        }
        let body = ResponseBody(contentLength: file.contentLength) { writer in
            defer { if temporary { unlink(path) } }
            try await file.write(writer)
        }
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; charset=utf-8"
        headers[.contentDisposition] = "attachment; filename=\"\(job.jobName).log\""
        Self.secure(&headers)
        return Response(status: .ok, headers: headers, body: body)
    }

    private func jobAndSource(_ context: TaplineRequestContext) async throws -> (JobRecord, SourceRecord?) {
        let name = context.parameters.get("job") ?? ""
        guard let job = try await store.job(name: name) else { throw ConsoleError.notFound("there is no job \(name)") }
        return (job, try await store.source(id: job.sourceID))
    }

    /// The log's file on this node, or a copy fetched from the node that ran the job (removed
    /// by the caller when `temporary`).
    func logFile(_ job: JobRecord, session: ConsoleSessions.Session) async throws -> (path: String, temporary: Bool) {
        if let path = job.logPath, FileManager.default.isReadableFile(atPath: path) { return (path, false) }
        guard let relay = api.logRelay else { throw ConsoleError.notFound("the log of \(job.jobName) is no longer kept") }
        let path = "/v4/\(api.stitchClientID)/extractions/\(job.jobName)/log"
        switch await relay.fetch(jobName: job.jobName, path: path, authorization: "Bearer \(session.token)") {
        case nil: throw ConsoleError.notFound("the log of \(job.jobName) is no longer kept")
        case .missing(let node)?: throw ConsoleError.notFound("the log of \(job.jobName) is no longer kept (it ran on node \(node))")
        case .unreachable(let reason)?:
            throw ConsoleError(
                status: .serviceUnavailable, title: "Unavailable", message: "the log of \(job.jobName) cannot be fetched now: \(reason)",
                retryAfter: 1)
        case .file(let copy)?: return (copy, true)
        }
    }

    /// Runs `body` with the log open, off the cooperative pool (file reads block).
    func withLog<T: Sendable>(
        _ job: JobRecord, session: ConsoleSessions.Session, _ body: @escaping @Sendable (FileHandle, Int) throws -> T
    ) async throws -> T {
        let (path, temporary) = try await logFile(job, session: session)
        defer { if temporary { unlink(path) } }
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            DispatchQueue.global(qos: .userInitiated).async {
                do {
                    guard let handle = FileHandle(forReadingAtPath: path) else {
                        throw ConsoleError.notFound("the log of \(job.jobName) cannot be opened")
                    }
                    defer { try? handle.close() }
                    let size = Int(try handle.seekToEnd())
                    continuation.resume(returning: try body(handle, size))
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }
}
