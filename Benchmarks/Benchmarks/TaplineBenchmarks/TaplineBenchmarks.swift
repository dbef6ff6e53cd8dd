import Benchmark
import Dispatch
import Foundation
import TaplineAPI
import TaplineCore
import TaplineStore

/// The pure core's hot paths: what the timer loop does per due source (next fire, due-queue),
/// what the API does per answer (Source JSON), what the relay does per line (Singer scan).
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal], maxDuration: .seconds(2), maxIterations: 1_000_000)

    let start = Date(timeIntervalSince1970: 1_800_000_000)
    for (name, text) in [
        ("every minute", "0 * * ? * *"), ("weekdays 10:15", "0 15 10 ? * MON-FRI *"),
        ("last weekday of month", "0 0 12 LW * ?"), ("third Friday", "0 0 9 ? * 6#3"), ("Feb 29 only", "0 0 0 29 2 ?"),
    ] {
        let cron = try! CronExpression(parsing: text)
        Benchmark("cron next fire: \(name)") { benchmark in
            var at = start
            for _ in benchmark.scaledIterations {
                at = cron.nextFire(after: at) ?? start
                blackHole(at)
            }
        }
    }

    Benchmark("cron parse") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try? CronExpression(parsing: "0 0/5 9-17 ? JAN,MAR-DEC MON-FRI 2026-2030"))
        }
    }

    // 100,000 sources: the scale target. Due times spread over one minute, in random order.
    var rng = SplitMix64(seed: 1)
    let dues = (0..<100_000).map { _ in start.addingTimeInterval(Double(UInt16.random(in: 0..<60_000, using: &rng)) / 1000) }
    Benchmark("due-queue: push 100k, pop all", configuration: .init(maxIterations: 200)) { benchmark in
        for _ in benchmark.scaledIterations {
            var queue = DueQueue()
            for (i, due) in dues.enumerated() { queue.set(Int64(i), due: due) }
            blackHole(queue.popDue(now: start.addingTimeInterval(61)).count)
        }
    }
    Benchmark("due-queue: reschedule 100k (lazy deletion), pop all", configuration: .init(maxIterations: 200)) { benchmark in
        for _ in benchmark.scaledIterations {
            var queue = DueQueue()
            for (i, due) in dues.enumerated() { queue.set(Int64(i), due: due) }
            for (i, due) in dues.enumerated() { queue.set(Int64(i), due: due.addingTimeInterval(30)) }
            blackHole(queue.popDue(now: start.addingTimeInterval(91)).count)
        }
    }

    // One Source as the API answers it (GET /v4/sources/{id}).
    let catalog = SourceTypeCatalog([
        SourceType(
            type: "platform.demo", displayName: "Demo", properties: [PropertySpec(name: "record_count")], tapCommand: ["tap"])
    ])
    let store = try! Store.inMemory(catalog: catalog)
    let created = DispatchSemaphore(value: 0)
    nonisolated(unsafe) var source: SourceRecord?
    Task {
        let type = catalog["platform.demo"]!
        source = try! await store.createSource(
            NewSource(
                type: "platform.demo", displayName: "Benchmark source", name: "benchmark_source", nameWasDerived: false,
                changes: try! type.validate(properties: [
                    "record_count": .string("10"), "cron_expression": .string("0 15 10 ? * MON-FRI *"),
                ]), destinationID: nil),
            actor: Actor("bench"), now: start)
        created.signal()
    }
    created.wait()
    let record = source!
    Benchmark("Source JSON encoding") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(SourceWire.json(record, catalog: catalog, stitchClientID: 116_078).serialized())
        }
    }

    Benchmark("timestamp format + parse") { benchmark in
        for i in benchmark.scaledIterations {
            blackHole(Timestamp.parse(Timestamp.format(start.addingTimeInterval(Double(i)))))
        }
    }

    let line = Array(#"{"type":"RECORD","stream":"users","record":{"id":12345,"name":"Ada \"the\" Lovelace","tags":["a","b"],"nested":{"x":[1,2,{"y":null}]}},"time_extracted":"2026-11-29T10:00:00.000000Z"}"#.utf8)
    Benchmark("Singer line scan (RECORD, 190 bytes)") { benchmark in
        for _ in benchmark.scaledIterations {
            line.withUnsafeBufferPointer { blackHole(SingerLine.read($0)) }
        }
    }
}
