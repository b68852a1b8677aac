import Testing
@testable import WeighpointJSON

@Suite struct CanonicalJSONTests {
    @Test(arguments: [
        (0.0, "0"), (-0.0, "0"), (1.0, "1"), (-1.5, "-1.5"), (0.0543, "0.0543"), (100.0, "100"),
        (1e21, "1e+21"), (1e20, "100000000000000000000"), (123456789012345680000.0, "123456789012345680000"),
        (0.000001, "0.000001"), (1e-7, "1e-7"), (5e-324, "5e-324"), (1.7976931348623157e308, "1.7976931348623157e+308"),
        (333333333.3333333, "333333333.3333333"), (0.1 + 0.2, "0.30000000000000004"), (4.5, "4.5"), (2e-7, "2e-7"),
    ])
    func numbersFollowECMAScript(value: Double, text: String) {
        #expect(ecmaScriptNumber(value) == text)
    }

    @Test func keysSortByUTF16AndNoWhitespace() {
        // RFC 8785 §3.2.3's example ordering: by UTF-16 code units, so U+1F600 (surrogates D83D…)
        // sorts before U+FB33 though its scalar value is larger.
        let v = JSONValue.object(["\u{FB33}": .int(1), "😀": .int(2), "a": .int(3), "A": .int(4), "\r": .int(5), "1": .int(6)])
        #expect(v.canonicalText == "{\"\\r\":5,\"1\":6,\"A\":4,\"a\":3,\"😀\":2,\"\u{FB33}\":1}")
    }

    @Test func stringsEscapeOnlyWhatTheyMust() {
        #expect(JSONValue.string("苏A12345 \"q\" \\ \u{1} \u{7F} \n").canonicalText == "\"苏A12345 \\\"q\\\" \\\\ \\u0001 \u{7F} \\n\"")
    }

    @Test func nestedStructures() {
        let v = JSONValue.object(["b": .array([.int(1), .null, .bool(true), .double(0.5)]), "a": .object(["z": .string("x"), "y": .int(-3)])])
        #expect(v.canonicalText == #"{"a":{"y":-3,"z":"x"},"b":[1,null,true,0.5]}"#)
    }

    @Test func parserRefusesDeepNestingInsteadOfOverflowingTheStack() {
        // The body that killed the daemon: 50 KB of "[" (the reader recursed once per level).
        #expect(parseJSON(Array(repeating: UInt8(ascii: "["), count: 50_000)) == nil)
        #expect(parseJSON(Array(String(repeating: "{\"a\":", count: 50_000).utf8)) == nil)
        let atLimit = String(repeating: "[", count: jsonMaxDepth) + String(repeating: "]", count: jsonMaxDepth)
        #expect(parseJSON(Array(atLimit.utf8)) != nil)
        let over = "[" + atLimit + "]"
        #expect(parseJSON(Array(over.utf8)) == nil)
        #expect(parseJSON(Array(#"{"a":[[1]]}"#.utf8), maxDepth: 2) == nil)
        #expect(parseJSON(Array(#"{"a":[1]}"#.utf8), maxDepth: 2)?["a"] == .array([.int(1)]))
    }

    @Test func parserRefusesDuplicateKeys() {
        // {"plate":"A","plate":"B"} would otherwise mean whichever the reader kept last.
        #expect(parseJSON(Array(#"{"plate":"苏A12345","plate":"苏B00000"}"#.utf8)) == nil)
        #expect(parseJSON(Array(#"{"a":{"x":1},"b":{"x":1}}"#.utf8)) != nil)
    }
}

@Suite struct StrictParserTests {
    @Test(arguments: [
        ("{\"a\":01}", "leading zero"), ("[+1]", "expected a value"), ("[.5]", "expected a value"), ("[1.]", "after the decimal point"),
        ("[1e]", "in the exponent"), ("[-]", "after '-'"), ("[NaN]", "expected a value"), ("[1e400]", "range of a double"),
        ("[9223372036854775808]", "64-bit range"), ("[\"a\u{1}b\"]", "control character"), ("[\"tab\tin\"]", "control character"),
        ("[\"\\q\"]", "unknown escape"), ("[\"\\x41\"]", "unknown escape"), ("[\"\\u12\"]", "four hex digits"), ("[\"\\u+123\"]", "four hex digits"),
        ("[\"\\ud800\"]", "without its low surrogate"), ("[\"\\udc00\"]", "without its high surrogate"), ("\u{FEFF}{}", "byte-order mark"),
        ("{\"a\":1,}", "key in double quotes"), ("[1,]", "expected a value"), ("{'a':1}", "key in double quotes"), ("[1] x", "after the value"),
        ("", "end of input"), ("[\"open", "not closed"), ("{\"a\" 1}", "':'"), ("tru", "expected a value"),
    ])
    func refusesWhatRFC8259DoesNotAllow(text: String, problem: String) {
        #expect(throws: JSONParseError.self) { try JSONValue.parse(text) }
        do {
            _ = try JSONValue.parse(text)
        } catch {
            #expect(error.problem.contains(problem), "\(text): \(error)")
        }
    }

    @Test func refusesInvalidUTF8() {
        #expect(throws: JSONParseError.self) { try JSONValue.parse([0x5B, 0x22, 0xC3, 0x28, 0x22, 0x5D]) }
        #expect(throws: JSONParseError.self) { try JSONValue.parse([0x5B, 0x22, 0xED, 0xA0, 0x80, 0x22, 0x5D]) }  // an encoded surrogate
    }

    @Test func errorsSayWhere() throws {
        let text = "{\n  \"plate\": \"苏A12345\",\n  \"lane\": 01\n}"
        do {
            _ = try JSONValue.parse(text)
            Issue.record("accepted \(text)")
        } catch {
            #expect(error.line == 3)
            #expect(error.column == 11)
            #expect(error.description == "line 3, column 11: a number may not have a leading zero")
        }
    }

    @Test func limitsBoundSizeAndStrings() {
        let big = Array("[\"\(String(repeating: "x", count: 100))\"]".utf8)
        #expect(throws: JSONParseError.self) { try JSONValue.parse(big, limits: JSONLimits(maxBytes: 50)) }
        #expect(throws: JSONParseError.self) { try JSONValue.parse(big, limits: JSONLimits(maxStringBytes: 99)) }
        #expect((try? JSONValue.parse(big, limits: JSONLimits(maxBytes: big.count, maxStringBytes: 100))) != nil)
    }

    @Test func acceptsWhatRFC8259Allows() throws {
        let v = try JSONValue.parse(" {\"a\":[0,-0,1.5e-3,-2E+2,true,false,null],\"s\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00\"} \r\n")
        #expect(v["a"] == .array([.int(0), .int(0), .double(0.0015), .double(-200), .bool(true), .bool(false), .null]))
        #expect(v["s"] == .string("\"\\/\u{8}\u{c}\n\r\té😀"))
    }

    @Test func objectsKeepTheirOrderForPeopleAndSortForSigning() throws {
        let v = try JSONValue.parse(#"{"seq":1,"decision":"ok","axles":2}"#)
        #expect(v.text == #"{"seq":1,"decision":"ok","axles":2}"#)
        #expect(v.canonicalText == #"{"axles":2,"decision":"ok","seq":1}"#)
        #expect(v == JSONValue.object(["axles": .int(2), "seq": .int(1), "decision": .string("ok")]))
    }

    @Test func parsedTextRoundTripsThroughTheCanonicalWriter() throws {
        // Everything the writer emits, the parser accepts and reads back as the same value.
        let v = JSONValue.object([
            "plate": .string("苏A12345挂"), "ctl": .string("\u{0}\u{1f}\u{7f}"), "n": .array([.int(Int64.min), .int(Int64.max), .double(5e-324), .double(-1.7976931348623157e308)]),
            "nested": .object(["😀": .null, "\u{FB33}": .bool(false)]),
        ])
        #expect(try JSONValue.parse(v.canonicalText) == v)
        #expect(try JSONValue.parse(v.canonicalText).canonicalBytes == v.canonicalBytes)
        // Found by the envelope fuzzer: doubles of integral value between 2^63 and 1e21 are written
        // without an exponent, and once were refused when read back as "outside the 64-bit range".
        for d in [5e20, 1e20, -9.3e18, 123456789012345680000.0] {
            let text = JSONValue.array([.double(d)]).canonicalText
            #expect(try JSONValue.parse(text) == .array([.double(d)]), "\(text)")
        }
        #expect(throws: JSONParseError.self) { try JSONValue.parse("[9223372036854775809]") }
    }
}
