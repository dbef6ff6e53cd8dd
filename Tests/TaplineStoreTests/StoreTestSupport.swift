import Foundation
import GRDB
import Synchronization
import TaplineCore
import TaplineStoreContract

@testable import TaplineStore

/// A source type with a required property, a credential and a narrowed frequency set.
let testType = SourceType(
    type: "platform.test", displayName: "Test",
    properties: [
        PropertySpec(name: "host", isRequired: true),
        PropertySpec(name: "password", isCredential: true),
    ],
    defaultFrequencyMinutes: 60, allowedFrequencies: [1, 30, 60, 360], tapCommand: ["tap-test"])

let testCatalog = SourceTypeCatalog([testType])
let t0 = Timestamp.parse("2026-11-29T10:00:00Z")!
let alice = Actor("alice")

func newSource(
    _ displayName: String, name: String? = nil, properties: [String: JSONValue] = ["host": .string("db")]
) throws -> NewSource {
    NewSource(
        type: testType.type, displayName: displayName, name: name ?? SourceName.derive(fromDisplayName: displayName),
        nameWasDerived: name == nil, changes: try testType.validate(properties: properties), destinationID: nil)
}

func patch(_ build: (inout SourcePatch) throws -> Void) rethrows -> SourcePatch {
    var p = SourcePatch()
    try build(&p)
    return p
}

/// A fresh directory under the system temporary directory, removed by the caller.
func temporaryDirectory() throws -> String {
    let path = NSTemporaryDirectory() + "tapline-test-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}
