import Foundation
import Testing

@testable import TaplineCore

@Suite("Source names and property validation")
struct SourceRulesTests {
    let type = SourceType(
        type: "platform.test", displayName: "Test",
        properties: [
            PropertySpec(name: "host", isRequired: true),
            PropertySpec(name: "port", pattern: "^[0-9]+$"),
            PropertySpec(name: "password", isCredential: true),
            PropertySpec(name: "start_date", format: .dateTime),
        ],
        allowedFrequencies: [30, 60, 1440], tapCommand: ["tap-test"])

    @Test(
        "names derived from display names",
        arguments: [
            ("My Shop", "my_shop"), ("DISPLAY_NAME!!!", "display_name"), ("####", ""), ("Über-Store 2", "ber_store_2"),
            ("a-b c", "a_b_c"),
        ])
    func derive(_ display: String, _ name: String) {
        #expect(SourceName.derive(fromDisplayName: display) == name)
    }

    @Test("name rules: under 50 of [a-z0-9_$], starting with a letter or underscore")
    func nameRules() {
        #expect(SourceName.isValid("shop_1"))
        #expect(SourceName.isValid("_x$y"))
        #expect(!SourceName.isValid(""))
        #expect(!SourceName.isValid("1shop"))
        #expect(!SourceName.isValid("Shop"))
        #expect(!SourceName.isValid(String(repeating: "a", count: 50)))
        #expect(SourceName.isValid(String(repeating: "a", count: 49)))
    }

    @Test("valid properties land in their buckets")
    func buckets() throws {
        let changes = try type.validate(properties: [
            "host": .string("db"), "password": .string("s3cret"), "frequency_in_minutes": .string("30"),
            "anchor_time": .string("2020-01-01T00:00:00+01:00"), "cron_expression": .string("0 0 12 ? * *"),
            "port": .null,
        ])
        #expect(changes.regular == ["host": .set("db"), "port": .remove])
        #expect(changes.credentials == ["password": .set("s3cret")])
        #expect(changes.frequencyMinutes == .set(30))
        #expect(changes.anchorTime == .set(Timestamp.parse("2019-12-31T23:00:00Z")!))
        #expect(changes.cronExpression?.newValue?.text == "0 0 12 ? * *")
    }

    @Test("every offending property is reported together, sorted")
    func badProperties() {
        #expect(
            throws: SourceError.invalidProperties(
                bad: ["anchor_time", "frequency_in_minutes", "host", "nope", "port", "start_date"], type: "platform.test")
        ) {
            try type.validate(properties: [
                "frequency_in_minutes": .string("360"),  // not allowed by this type
                "anchor_time": .string("yesterday"),
                "host": .string(""),  // empty string
                "nope": .string("x"),  // undeclared
                "port": .number(5432),  // not a string
                "start_date": .string("soon"),
            ])
        }
        #expect(throws: SourceError.invalidProperties(bad: ["host"], type: "platform.test")) {
            try type.validate(properties: ["host": .null])  // required: cannot be removed
        }
        #expect(throws: SourceError.invalidProperties(bad: ["frequency_in_minutes"], type: "platform.test")) {
            try type.validate(properties: ["frequency_in_minutes": .string("060")])
        }
    }

    @Test("an invalid cron expression gets Stitch's message with Quartz's reason")
    func cronMessage() {
        let error = #expect(throws: SourceError.self) {
            try type.validate(properties: ["cron_expression": .string("* * * * * *")])
        }
        #expect(error?.code == "InvalidCronExpression")
        #expect(
            error?.message
                == "cron_expression \"* * * * * *\" is invalid: Support for specifying both a day-of-week AND a day-of-month parameter is not implemented."
        )
    }

    @Test("configuration steps: form until required properties are there")
    func steps() {
        #expect(ConfigurationStep.current(for: type, providedProperties: []) == .form)
        #expect(ConfigurationStep.current(for: type, providedProperties: ["host"]) == .fullyConfigured)
        var discovering = type
        discovering.supportsDiscovery = true
        #expect(
            ConfigurationStep.steps(for: discovering).map(\.rawValue) == ["form", "discover_schema", "field_selection", "fully_configured"])
        #expect(ConfigurationStep.current(for: discovering, providedProperties: ["host"]) == .discoverSchema)
    }
}

@Suite("Property size limits")
struct PropertyLimitTests {
    @Test("an oversized cron expression or property value is refused before it is parsed or stored")
    func limits() {
        let type = SourceType(type: "platform.t", displayName: "T", properties: [PropertySpec(name: "p")], tapCommand: ["t"])
        #expect(throws: (any Error).self) {
            try type.validate(properties: ["cron_expression": .string("0 0 12 ? * MON-FRI " + String(repeating: "*", count: 900_000))])
        }
        #expect(throws: SourceError.invalidProperties(bad: ["p"], type: "platform.t")) {
            try type.validate(properties: ["p": .string(String(repeating: "x", count: PropertyLimits.maxValueBytes + 1))])
        }
        #expect((try? type.validate(properties: ["p": .string(String(repeating: "x", count: 1000))])) != nil)
    }
}
