import Foundation
import Testing

@testable import TaplineCore

/// Seeded random inputs against the pure parsers: whatever the text, they answer (a value or an
/// error) without trapping, and what they accept behaves.
@Suite("Properties of the parsers")
struct PropertyTests {
    /// Cron-looking text: the characters and words of the grammar in random order and counts, so
    /// most inputs are near-misses rather than noise.
    static func cronSoup(_ rng: inout SplitMix64) -> String {
        let atoms = [
            "*", "?", "/", "-", ",", "L", "W", "#", "LW", "L-", "0", "1", "5", "7", "12", "15", "23", "29", "30", "31", "32",
            "59", "60", "99", "1970", "2099", "2200", "MON", "FRI", "SUN", "JAN", "DEC", "MONKEY", "-1", "999999999999",
            "9223372036854775808", " ", " ", " ", "\t", "\u{0}", "é",
        ]
        let count = Int.random(in: 0...24, using: &rng)
        return (0..<count).map { _ in atoms.randomElement(using: &rng)! }.joined()
    }

    /// Seven well-formed fields chosen at random: most of these parse, so nextFire is exercised.
    static func cronFields(_ rng: inout SplitMix64) -> String {
        func pick(_ options: [String]) -> String { options.randomElement(using: &rng)! }
        let dayOfMonthWins = Bool.random(using: &rng)
        return [
            pick(["0", "*", "*/15", "5,35", "10-20", "59"]),
            pick(["0", "*", "*/5", "0-30/7", "59"]),
            pick(["*", "0", "12", "9-17", "*/6", "23"]),
            dayOfMonthWins ? pick(["*", "1", "15", "L", "L-3", "LW", "15W", "31", "29", "1-7", "*/10"]) : "?",
            pick(["*", "1", "2", "FEB", "JAN-MAR", "*/3", "12", "2,4,6"]),
            dayOfMonthWins ? "?" : pick(["*", "MON-FRI", "1", "7", "6L", "2#3", "SUN#5", "L", "1,3,5"]),
            pick(["*", "", "2026", "2026-2030", "2199", "*/2", "2030/4"]),
        ].joined(separator: " ")
    }

    @Test(
        "any text either parses or is refused with a message; accepted ones fire strictly later each time",
        arguments: [UInt64(1), 2, 3, 4])
    func cron(seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        var parsed = 0
        var refused = 0
        for i in 0..<4_000 {
            let text = i.isMultiple(of: 2) ? Self.cronSoup(&rng) : Self.cronFields(&rng)
            do {
                let cron = try CronExpression(parsing: text)
                parsed += 1
                var at = Date(timeIntervalSince1970: Double(UInt32.random(in: 0...UInt32.max, using: &rng)))
                for _ in 0..<5 {
                    guard let next = cron.nextFire(after: at) else { break }
                    #expect(next > at, "\(text): \(next) not after \(at)")
                    #expect(next.timeIntervalSince1970.truncatingRemainder(dividingBy: 1) == 0, "\(text): not a whole second")
                    at = next
                }
            } catch {
                refused += 1
                #expect(!error.message.isEmpty, "\(text)")
            }
        }
        // Both sides of the grammar were exercised.
        #expect(parsed > 500 && refused > 500, "parsed \(parsed), refused \(refused)")
    }

    @Test("timestamps: any text parses or not; accepted ones round-trip through the formatter", arguments: [UInt64(7), 8])
    func timestamps(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        let pieces = [
            "2026", "0000", "1969", "9999", "10000", "+275760", "-", "-", "T", "T", ":", ":", "Z", "z", "+00:00", "-23:59",
            "+24:00", "01", "02", "12", "13", "28", "29", "30", "31", "00", "23", "24", "59", "60", ".", "5", "123456789",
            " ", "\u{FF10}", "٣",
        ]
        var accepted = 0
        for i in 0..<20_000 {
            let text: String
            if i.isMultiple(of: 3) {
                // A well-formed stamp with random (often out-of-range) fields.
                let y = [1969, 1970, 2000, 2026, 2024, 2100, 9999, 10000].randomElement(using: &rng)!
                text = String(
                    format: "%04d-%02d-%02dT%02d:%02d:%02d%@", y, Int.random(in: 0...13, using: &rng),
                    Int.random(in: 0...32, using: &rng), Int.random(in: 0...25, using: &rng), Int.random(in: 0...61, using: &rng),
                    Int.random(in: 0...61, using: &rng), ["Z", "+01:00", "-05:30", ".250Z", "+14:00", ""].randomElement(using: &rng)!)
            } else {
                text = (0..<Int.random(in: 0...14, using: &rng)).map { _ in pieces.randomElement(using: &rng)! }.joined()
            }
            guard let date = Timestamp.parse(text) else { continue }
            accepted += 1
            let formatted = Timestamp.formatMilliseconds(date)
            #expect(Timestamp.parse(formatted) == date, "\(text) → \(formatted)")
            let year = UTCCalendar.components(of: date).year
            #expect(Timestamp.validYears.contains(year), "\(text) → year \(year)")
        }
        #expect(accepted > 1_000, "accepted \(accepted)")
    }

    @Test("Singer lines: any bytes are a message or a refusal, never a crash", arguments: [UInt64(21), 22])
    func singerLines(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        let fragments: [[UInt8]] = [
            Array(#"{"type":"RECORD","stream":"users","record":{"id":1}}"#.utf8), Array(#"{"type":"STATE","value":{}}"#.utf8),
            Array(#"{"type":"SCHEMA"}"#.utf8), Array("{".utf8), Array("}".utf8), Array("\"".utf8), Array("\\".utf8),
            Array("\\u00".utf8), [0xFF], [0xC3], [0xE2, 0x82], [0x00], Array("[".utf8), Array(":".utf8), Array("type".utf8),
        ]
        for _ in 0..<20_000 {
            var line: [UInt8] = []
            for _ in 0..<Int.random(in: 0...8, using: &rng) { line += fragments.randomElement(using: &rng)! }
            line.withUnsafeBufferPointer { buffer in
                let read = SingerLine.read(buffer)
                let parsed = (try? JSONSerialization.jsonObject(with: Data(buffer))) as? [String: Any]
                if read != nil {
                    #expect(parsed != nil, "accepted a line that is not a JSON object: \(String(decoding: buffer, as: UTF8.self))")
                }
                if let parsed, parsed["type"] is String, parsed["stream"] is String {
                    #expect(read != nil, "refused a valid message: \(String(decoding: buffer, as: UTF8.self))")
                }
            }
        }
    }
}

@Suite("Duplicate JSON keys")
struct JSONDuplicateKeysTests {
    @Test(
        "finds a key repeated in one object, at any depth; ignores keys repeated across objects and strings that look like keys",
        arguments: [
            (#"{"a":1,"a":2}"#, "a"), (#"{"a":{"b":1,"b":2}}"#, "b"), (#"[{"a":1},{"a":2}]"#, nil), (#"{"a":{"a":1}}"#, nil),
            (#"{"a":"a","b":"a"}"#, nil), (#"{"a":["a","a"]}"#, nil), (#"{"x\"y":1,"x\"y":2}"#, "x\"y"),
            (#"{"\u0061":1,"a":2}"#, "a"), (#"{"a":{},"b":[],"a":0}"#, "a"), (#"{ "k" : 1 , "k" : 2 }"#, "k"), ("{}", nil),
            (#"{"a\\":1,"b":2}"#, nil),
        ] as [(String, String?)])
    func cases(_ json: String, _ expected: String?) {
        #expect(JSONStrictness.firstProblem(in: Array(json.utf8)) == expected.map(JSONProblem.duplicateKey), "\(json)")
    }
}

@Suite("Strict JSON and canonical ids")
struct StrictInputTests {
    @Test("a comma before a closing bracket is refused; commas inside strings and between items are not")
    func trailingCommas() {
        for bad in [#"{"a":1,}"#, #"{"a":[1,2,]}"#, "[1,\n ]", #"{"a":{"b":1 , }}"#] {
            #expect(JSONStrictness.firstProblem(in: Array(bad.utf8)) == .trailingComma, "\(bad)")
        }
        for good in [#"{"a":"x,}"}"#, #"{"a":[1,2],"b":{}}"#, #"{"a,]":1}"#, "[]"] {
            #expect(JSONStrictness.firstProblem(in: Array(good.utf8)) == nil, "\(good)")
        }
    }

    @Test("ids are canonical decimal: no sign, no leading zero, no spaces")
    func canonicalIDs() {
        #expect(CanonicalID.parse("1") == 1 && CanonicalID.parse("42") == 42 && CanonicalID.parse("0") == 0)
        #expect(CanonicalID.parse("9223372036854775807") == Int64.max)
        for bad in ["+1", "01", "00", "-1", " 1", "1 ", "", "1e3", "0x1", "9223372036854775808", "１"] {
            #expect(CanonicalID.parse(bad) == nil, "\(bad)")
        }
    }

    @Test("display names refuse control characters, NUL included, anywhere")
    func controlCharacters() {
        #expect(DisplayName.controlCharacter(in: "Demo Shop") == nil)
        #expect(DisplayName.controlCharacter(in: "Café ✓") == nil)
        for bad in ["\u{0}Demo", "De\u{0}mo", "Demo\n", "a\tb", "x\u{7F}", "x\u{85}y", "x\u{2028}"] {
            #expect(DisplayName.controlCharacter(in: bad) != nil, "\(bad.debugDescription)")
        }
    }
}
