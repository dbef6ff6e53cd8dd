import Foundation
import TaplineCore
import TaplineStore
import TaplineStoreContract
import TaplineTestSupport
import Testing

@testable import TaplineRuntime

@Suite("Tap configuration files")
struct TapConfigurationTests {
    @Test("defaults, properties and credentials merge; JSON properties go in as typed values")
    func merge() async throws {
        let config = try TaplineConfiguration.parse(
            yaml: """
                source_types:
                  - type: platform.gh
                    tap: [tap-github]
                    properties:
                      - name: repositories
                        json: true
                        required: true
                      - name: page_size
                        json: true
                        default: "100"
                      - name: token
                        credential: true
                      - name: label
                        default: none
                """)
        let type = try #require(config.catalog["platform.gh"])
        #expect(throws: SourceError.invalidProperties(bad: ["repositories"], type: "platform.gh")) {
            try type.validate(properties: ["repositories": .string("[not json")])
        }
        let store = try Store.inMemory(catalog: config.catalog).withTestDestination()
        let source = try await store.createSource(
            NewSource(
                type: "platform.gh", displayName: "GH", name: "gh", nameWasDerived: false,
                changes: try type.validate(properties: [
                    "repositories": .string(#"["a/b","c/d"]"#), "token": .string("t0k"), "label": .string("x"),
                ]), destinationID: nil),
            actor: Actor("t"), now: Date())
        let data = try JobRunner.tapConfiguration(source: source, type: type)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(object["repositories"] as? [String] == ["a/b", "c/d"])
        #expect(object["page_size"] as? Int == 100)
        #expect(object["token"] as? String == "t0k")
        #expect(object["label"] as? String == "x")
    }
}
