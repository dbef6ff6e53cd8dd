import Foundation
import TaplineCore
import TaplineStoreContract
import TaplineTestSupport
import Testing

@testable import TaplineStore

/// Discovery and stream selection, one suite for every backend: a source of a type with
/// discovery is scheduled only once a check found its streams and one is selected.
@Suite("Store: discovery and streams")
struct StoreStreamsTests {
    static let discoveryType = SourceType(
        type: "platform.disco", displayName: "Disco", properties: [PropertySpec(name: "host", isRequired: true)],
        defaultFrequencyMinutes: 30, allowedFrequencies: [30], supportsDiscovery: true, tapCommand: ["tap-disco"])
    static let catalog = SourceTypeCatalog([discoveryType])

    static func stream(_ id: String) -> DiscoveredStream {
        DiscoveredStream(
            tapStreamID: id, streamName: id, schema: #"{"type":"object"}"#,
            metadata:
                #"[{"breadcrumb":[],"metadata":{"inclusion":"available"}},{"breadcrumb":["properties","x"],"metadata":{"inclusion":"unsupported"}}]"#,
            catalogEntry: #"{"stream":"\#(id)","tap_stream_id":"\#(id)","table_name":"t_\#(id)"}"#)
    }

    @Test("a check finds the streams; a selection schedules the source; rediscovery keeps the selection", arguments: StoreBackend.available)
    func discoveryToSchedule(kind: StoreBackend) async throws {
        try await kind.withStore(catalog: Self.catalog) { store in
            let source = try await store.createSource(
                NewSource(
                    type: Self.discoveryType.type, displayName: "Disco", name: "disco", nameWasDerived: false,
                    changes: try Self.discoveryType.validate(properties: ["host": .string("h")]), destinationID: nil),
                actor: alice, now: t0)
            #expect(source.nextFireAt == nil && source.configurationStep(type: Self.discoveryType) == .discoverSchema)
            #expect(try await store.sourcesAwaitingCheck().map(\.id) == [source.id])
            #expect(try await store.startConnectionCheck(sourceID: source.id, name: "c1", now: t0))
            #expect(try await store.startConnectionCheck(sourceID: source.id, name: "c2", now: t0) == false, "one check at a time")
            #expect(try await store.lastConnectionCheck(sourceID: source.id)?.status == "running")
            let later = t0.addingTimeInterval(5)
            let discovered = try #require(
                try await store.finishConnectionCheck(
                    name: "c1", exitStatus: 0, errorMessage: nil, streams: [Self.stream("a"), Self.stream("b")], now: later))
            #expect(discovered.discovered && !discovered.streamsSelected && discovered.nextFireAt == nil)
            #expect(discovered.checkJobName == "c1")
            #expect(try await store.sourcesAwaitingCheck().isEmpty)
            let check = try #require(try await store.lastConnectionCheck(sourceID: source.id))
            #expect(check.name == "c1" && check.status == "succeeded" && check.completedAt == later && check.discoveryExitStatus == 0)
            #expect(try await store.streams(sourceID: source.id).map(\.stream.tapStreamID) == ["a", "b"])

            await #expect(throws: StreamMetadataError.invalidTapStreamIDs(["zz"])) {
                try await store.updateStreamMetadata(
                    sourceID: source.id, changes: [("zz", [["breadcrumb": [String](), "metadata": ["selected": true]]])], now: later)
            }
            await #expect(throws: StreamMetadataError.discoverableKey("inclusion")) {
                try await store.updateStreamMetadata(
                    sourceID: source.id, changes: [("a", [["breadcrumb": [String](), "metadata": ["inclusion": "automatic"]]])], now: later)
            }
            await #expect(throws: StreamMetadataError.unsupportedField) {
                try await store.updateStreamMetadata(
                    sourceID: source.id, changes: [("a", [["breadcrumb": ["properties", "x"], "metadata": ["selected": true]]])], now: later
                )
            }
            let selected = try await store.updateStreamMetadata(
                sourceID: source.id, changes: [("b", [["breadcrumb": [String](), "metadata": ["selected": true]]])], now: later)
            #expect(selected.streamsSelected && selected.nextFireAt == later, "fully configured: scheduled at once")
            #expect(try await store.source(id: source.id)?.nextFireAt == later)

            // Rediscovery: the selection of a stream still there is kept, a vanished one is gone.
            #expect(try await store.startConnectionCheck(sourceID: source.id, name: "c3", now: later))
            try await store.finishConnectionCheck(
                name: "c3", exitStatus: 0, errorMessage: nil, streams: [Self.stream("b"), Self.stream("c")], now: later)
            let streams = try await store.streams(sourceID: source.id)
            #expect(streams.map(\.stream.tapStreamID) == ["b", "c"] && streams.map(\.selected) == [true, nil])
            let text = try #require(try await store.selectedCatalog(sourceID: source.id))
            #expect(text.contains(#""table_name":"t_b""#) && text.contains(#""selected":true"#))

            // A failed check changes no stream.
            #expect(try await store.startConnectionCheck(sourceID: source.id, name: "c4", now: later))
            try await store.finishConnectionCheck(name: "c4", exitStatus: 1, errorMessage: "boom", streams: [], now: later)
            #expect(try await store.lastConnectionCheck(sourceID: source.id)?.status == "failed")
            #expect(try await store.streams(sourceID: source.id).count == 2)
        }
    }
}
