import Foundation
import TaplineCore

/// The stream rules both backends apply: the catalog a job's tap gets, a metadata update, and a
/// selection kept across rediscovery.
extension StreamRecord {
    /// The selected streams' catalog for a job (`--catalog`), or `nil` if the source has no
    /// streams. Each entry is the tap's own, every key kept; only the metadata (which holds the
    /// selection) is tapline's.
    package static func catalog(_ streams: [StreamRecord]) throws -> String? {
        guard !streams.isEmpty else { return nil }
        let entries: [[String: Any]] = streams.map { record in
            var entry =
                record.stream.catalogEntry
                .flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] } ?? [:]
            entry["tap_stream_id"] = record.stream.tapStreamID
            if entry["stream"] == nil { entry["stream"] = record.stream.streamName }
            if entry["schema"] == nil {
                entry["schema"] = (try? JSONSerialization.jsonObject(with: Data(record.stream.schema.utf8))) ?? [:]
            }
            entry["metadata"] = (try? JSONSerialization.jsonObject(with: Data(record.stream.metadata.utf8))) ?? []
            return entry
        }
        let data = try JSONSerialization.data(withJSONObject: ["streams": entries], options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }

    /// This stream's metadata with `entries` merged in by breadcrumb, as text, and the selection
    /// its empty breadcrumb now states (`nil`: it states none). Only `writable` keys may be set,
    /// and an unsupported field cannot be selected, as in Stitch.
    package func merging(_ entries: [[String: Any]], writable: Set<String>) throws -> (metadata: String, selected: Bool?) {
        var merged = (try? JSONSerialization.jsonObject(with: Data(stream.metadata.utf8))) as? [[String: Any]] ?? []
        for entry in entries {
            let breadcrumb = entry["breadcrumb"] as? [String] ?? []
            let values = entry["metadata"] as? [String: Any] ?? [:]
            if let key = values.keys.sorted().first(where: { !writable.contains($0) }) {
                throw StreamMetadataError.discoverableKey(key)
            }
            if let index = merged.firstIndex(where: { ($0["breadcrumb"] as? [String] ?? []) == breadcrumb }) {
                var existing = merged[index]["metadata"] as? [String: Any] ?? [:]
                if values["selected"] as? Bool == true, existing["inclusion"] as? String == "unsupported" {
                    throw StreamMetadataError.unsupportedField
                }
                existing.merge(values) { $1 }
                merged[index]["metadata"] = existing
            } else {
                merged.append(["breadcrumb": breadcrumb, "metadata": values])
            }
        }
        let streamLevel = merged.first { ($0["breadcrumb"] as? [String] ?? []).isEmpty }?["metadata"] as? [String: Any]
        let text = String(decoding: try JSONSerialization.data(withJSONObject: merged, options: [.sortedKeys]), as: UTF8.self)
        return (text, streamLevel?["selected"] as? Bool)
    }

    /// Sets `selected` at the empty breadcrumb of a metadata array (kept across rediscovery).
    package static func settingSelected(_ metadata: String, _ selected: Bool) -> String {
        guard var entries = (try? JSONSerialization.jsonObject(with: Data(metadata.utf8))) as? [[String: Any]] else { return metadata }
        if let index = entries.firstIndex(where: { ($0["breadcrumb"] as? [String] ?? []).isEmpty }) {
            var values = entries[index]["metadata"] as? [String: Any] ?? [:]
            values["selected"] = selected
            entries[index]["metadata"] = values
        } else {
            entries.append(["breadcrumb": [String](), "metadata": ["selected": selected]])
        }
        return (try? JSONSerialization.data(withJSONObject: entries, options: [.sortedKeys])).map { String(decoding: $0, as: UTF8.self) }
            ?? metadata
    }
}
