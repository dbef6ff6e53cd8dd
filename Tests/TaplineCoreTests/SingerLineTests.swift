import Testing

@testable import TaplineCore

@Suite("Singer message lines")
struct SingerLineTests {
    func read(_ text: String) -> SingerLine? {
        Array(text.utf8).withUnsafeBufferPointer { SingerLine.read($0) }
    }

    func stream(_ text: String) -> String? {
        let bytes = Array(text.utf8)
        guard let line = bytes.withUnsafeBufferPointer({ SingerLine.read($0) }), let range = line.stream else { return nil }
        return String(decoding: bytes[range], as: UTF8.self)
    }

    @Test("RECORD, SCHEMA, STATE and other types, keys in any order, nested values skipped")
    func valid() {
        #expect(read(#"{"type":"RECORD","stream":"users","record":{"id":1,"tags":["a",{"b":null}],"s":"x\"}y"}}"#)?.kind == .record)
        #expect(stream(#"{"record":{"type":"nested","stream":"no"},"stream":"users","type":"RECORD"}"#) == "users")
        #expect(read(#"  {"type" : "SCHEMA", "stream":"s", "schema":{}, "key_properties":[]}  "#)?.kind == .schema)
        #expect(read(#"{"type":"STATE","value":{"bookmarks":{}}}"#)?.kind == .state)
        #expect(read(#"{"type":"ACTIVATE_VERSION","stream":"s","version":1}"#)?.kind == .activateVersion)
        #expect(read(#"{"type":"BATCH","stream":"s"}"#)?.kind == .other)
        #expect(read(#"{"type":"RECORD","stream":"a\"b","record":{"n":-1.5e3,"t":true,"f":false}}"#)?.kind == .record)
    }

    @Test(
        "lines that are not Singer messages",
        arguments: [
            "", "not json", "[1,2]", #"{"type":1}"#, #"{"stream":"s"}"#, #"{"type":"RECORD","record":{}}"#,
            #"{"type":"SCHEMA"}"#, #"{"type":"STATE","value":{}} trailing"#, #"{"type":"STATE","value":{"#,
            #"{"type":"STATE" "value":1}"#, "{\"type\":\"RECORD\",\"stream\":\"a\u{01}\"}", #"{"type":"STATE",}"#,
        ])
    func invalid(_ text: String) {
        #expect(read(text) == nil)
    }

    @Test("deep nesting is refused, not a stack overflow")
    func deepNesting() {
        let deep = #"{"type":"STATE","value":"# + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000) + "}"
        #expect(read(deep) == nil)
        let fine = #"{"type":"STATE","value":"# + String(repeating: "[", count: 100) + String(repeating: "]", count: 100) + "}"
        #expect(read(fine)?.kind == .state)
    }
}
