import Foundation
import Testing

@testable import TaplineCore

@Suite("Failure causes, load evidence, tap self-descriptions")
struct JobEvidenceTests {
    func cause(_ text: String) -> String? {
        var summary = StderrSummary()
        summary.take(Array(text.utf8))
        summary.finish()
        return summary.cause
    }

    @Test("CRITICAL beats a traceback's exception line, which beats the last line")
    func stderrCause() {
        #expect(cause("a\nb\n\n") == "b")
        #expect(
            cause(
                "INFO x\nTraceback (most recent call last):\n  File \"t.py\", line 1\n    f()\n    ^^^\nKeyError: 'replication_method'\nnoise after\n"
            )
                == "KeyError: 'replication_method'")
        // Chained exceptions: the last traceback's exception is the one raised.
        #expect(
            cause(
                "Traceback (most recent call last):\n  x\nValueError: inner\n\nDuring handling of the above exception, another exception occurred:\n\nTraceback (most recent call last):\n  y\nRuntimeError: outer\n(Background)"
            )
                == "RuntimeError: outer")
        // singer-python logs the message as CRITICAL lines, then Python prints the traceback.
        #expect(
            cause("INFO a\nCRITICAL password authentication failed\nCRITICAL second line\nTraceback (most recent call last):\n  z\nE: x\n")
                == "CRITICAL password authentication failed")
        #expect(cause("2026-01-01 | CRITICAL | tap | it broke\ntrailer") == "2026-01-01 | CRITICAL | tap | it broke")
        #expect(cause("NONCRITICAL thing\nlast") == "last")
        #expect(cause("no newline at the end") == "no newline at the end")
        #expect(cause(String(repeating: "x", count: 5000))?.count == StderrSummary.maximumLength)
        #expect(cause("") == nil)
    }

    @Test("a target's echoed state confirms the records before it and every earlier checkpoint")
    func loadEvidence() {
        var evidence = LoadEvidence()
        evidence.tapSent(stateValue: #"{"b":1}"#, records: ["s": 1])
        evidence.tapSent(stateValue: #"{"b":2}"#, records: ["s": 5, "t": 1])
        evidence.tapSent(stateValue: #"{"b":3}"#, records: ["s": 9, "t": 1])
        #expect(evidence.confirmedRecords.isEmpty)
        let unknown = evidence.targetConfirmed(#"{"b":7}"#)
        let garbage = evidence.targetConfirmed("not json")
        #expect(!unknown && !garbage)
        let second = evidence.targetConfirmed(#"{ "b" : 2 }"#)
        #expect(second && evidence.confirmedRecords == ["s": 5, "t": 1])
        // An earlier checkpoint, already covered, confirms nothing new.
        let earlier = evidence.targetConfirmed(#"{"b":1}"#)
        #expect(!earlier)
        let third = evidence.targetConfirmed(#"{"b":3}"#)
        #expect(third && evidence.confirmedRecords == ["s": 9, "t": 1])
        #expect(LoadEvidence.stateValue(ofMessage: Array(#"{"type":"STATE","value":{"z":1,"a":[2]}}"#.utf8)) == #"{"a":[2],"z":1}"#)
    }

    @Test("pending checkpoints stay bounded whatever a tap sends")
    func loadEvidenceBounded() {
        var evidence = LoadEvidence()
        for i in 0..<(LoadEvidence.maximumPending + 500) { evidence.tapSent(stateValue: "{\"i\":\(i)}", records: ["s": i]) }
        let oldest = evidence.targetConfirmed(#"{"i":0}"#)
        #expect(!oldest, "the oldest were dropped")
        let newest = evidence.targetConfirmed("{\"i\":\(LoadEvidence.maximumPending + 499)}")
        #expect(newest)
    }

    @Test("a Meltano SDK tap's --about settings become typed properties")
    func about() throws {
        let json = #"""
            {"name": "tap-x", "capabilities": ["catalog", "discover", "state"],
             "settings": {"type": "object", "required": ["host"], "properties": {
               "host": {"type": ["string", "null"], "description": "Host"},
               "port": {"type": ["integer", "null"], "default": 5432},
               "password": {"type": ["string", "null"], "secret": true, "writeOnly": true},
               "filter_schemas": {"type": ["array", "null"], "items": {"type": "string"}},
               "ssl": {"type": "boolean"},
               "start_date": {"type": "string", "format": "date-time"},
               "slot": {"type": "string", "pattern": "^(?!pg_)[a-z]{1,5}$"},
               "either": {"type": ["string", "integer"]},
               "frequency_in_minutes": {"type": "string"}}}}
            """#
        let about = try TapAbout.parse(Data(json.utf8))
        let byName = Dictionary(uniqueKeysWithValues: about.properties.map { ($0.name, $0) })
        #expect(byName["frequency_in_minutes"] == nil, "scheduling keys stay tapline's")
        #expect(byName["host"]?.isRequired == true && byName["host"]?.summary == "Host")
        #expect(byName["port"]?.valueType == .integer && byName["port"]?.defaultValue == nil)
        #expect(byName["password"]?.isCredential == true)
        #expect(byName["filter_schemas"]?.valueType == .array && byName["ssl"]?.valueType == .boolean)
        #expect(byName["start_date"]?.format == .dateTime && byName["either"]?.valueType == .json)
        #expect(byName["slot"]?.accepts("abc") == true && byName["slot"]?.accepts("pg_ab") == false)
        let base = SourceType(
            type: "platform.x", displayName: "X", properties: [PropertySpec(name: "port", isRequired: true)], tapCommand: ["tap-x"],
            describesItself: true, discoveryDeclared: false)
        let described = base.describing(with: about, discoveryDeclared: false)
        #expect(described.supportsDiscovery)
        #expect(described.property(named: "port")?.isRequired == true, "the configuration's own declaration wins")
        #expect(described.property(named: "password")?.isCredential == true)
        #expect(throws: TapAboutError.self) { try TapAbout.parse(Data("[]".utf8)) }
        #expect(throws: TapAboutError.self) { try TapAbout.parse(Data(#"{"name":"x"}"#.utf8)) }
    }
}
